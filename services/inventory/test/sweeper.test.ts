import { randomUUID } from 'node:crypto';
import { ReleaseStock, ReserveStock, ShipOrder, type Envelope } from '@shop/contracts';
import { runWithContext } from '@shop/service-kit';
import { waitFor, type TestService } from '@shop/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReservationSweeper } from '../src/background/reservation-sweeper.js';
import { address, countRows, createProduct, stockOf } from './fixtures.js';
import { sendCommand, startInventory, streamReader, type StreamReader } from './helpers.js';

let sut: TestService;
let stream: StreamReader;

const RESERVED = 'inventory.events.reservation.reserved';
const EXPIRED = 'inventory.events.reservation.expired';
const STOCK_CHANGED = 'inventory.events.stock.changed';

/** The StockChanged messages the expiry of `orderId` sent. */
async function expiryStockChanges(orderId: string): Promise<Envelope[]> {
  const changes = await stream.of(STOCK_CHANGED, orderId);
  return changes.filter((envelope) => (envelope.data as { reason: string }).reason === 'expiry');
}

beforeAll(async () => {
  sut = await startInventory('inventory_sweeper', {
    RESERVATION_TTL_SECONDS: '1',
    RESERVATION_SWEEP_INTERVAL_MS: '100',
  });
  stream = streamReader(sut);
});

afterAll(async () => {
  await sut?.stop();
});

describe('the reservation sweeper', () => {
  it('releases a reservation nobody shipped within the TTL, with ReservationExpired', async () => {
    const product = await createProduct(sut, { initialStock: 10 });
    const orderId = randomUUID();
    const customerId = randomUUID();
    // Sent as the saga would, within the trace of the order's request.
    const correlationId = randomUUID();
    const reserve = await runWithContext({ correlationId }, () =>
      sendCommand(sut, ReserveStock, {
        orderId,
        customerId,
        items: [{ productId: product.id, quantity: 3 }],
      }),
    );
    expect(reserve.correlationId).toBe(correlationId);
    const [reserved] = await stream.waitFor(RESERVED, orderId);
    const [expired] = await stream.waitFor(EXPIRED, orderId);
    // Nothing asked for the expiry, yet its messages follow the order's story: its correlation
    // id, caused by the reserve command whose hold ran out.
    expect(expired).toMatchObject({ correlationId, causationId: reserve.id });
    const stockChanges = await waitFor(async () => {
      const found = await expiryStockChanges(orderId);
      return found.length > 0 ? found : undefined;
    }, 'the expiry StockChanged');
    expect(stockChanges).toHaveLength(1);
    expect(stockChanges[0]).toMatchObject({ correlationId, causationId: reserve.id });
    expect(expired!.data).toMatchObject({
      orderId,
      items: [{ productId: product.id, quantity: 3 }],
      reservedAt: (reserved!.data as { reservedAt: string }).reservedAt,
    });
    expect(await stockOf(sut, product.id)).toEqual({
      on_hand: 10,
      reserved: 0,
      available: 10,
      ledger_sum: 10,
    });
    expect(
      await countRows(
        sut,
        `SELECT count(*) FROM reservations WHERE order_id = $1 AND status = 'released' AND release_reason = 'expired'`,
        [orderId],
      ),
    ).toBe(1);

    // A ship after expiry ships nothing and is answered with the expiry.
    await sendCommand(sut, ShipOrder, {
      orderId,
      orderNumber: 'ORD-2026-000001',
      customerId,
      items: [{ productId: product.id, quantity: 3 }],
      shippingAddress: address,
    });
    await stream.waitFor(EXPIRED, orderId, 2);
    expect(
      await countRows(sut, 'SELECT count(*) FROM shipments WHERE order_id = $1', [orderId]),
    ).toBe(0);

    // The saga's own release afterwards finds nothing left to give back.
    await sendCommand(sut, ReleaseStock, { orderId, reason: 'reservation_expired' });
    const [released] = await stream.waitFor('inventory.events.reservation.released', orderId);
    expect(released!.data).toMatchObject({ items: [] });
    expect((await stockOf(sut, product.id)).reserved).toBe(0);
  });

  it('expires each order once when two sweepers (two replicas) race', async () => {
    const product = await createProduct(sut, { initialStock: 100 });
    const orderIds: string[] = Array.from({ length: 20 }, () => randomUUID());
    // Rows written directly with a past deadline, as if the service had been down a while.
    const { dataSource } = sut.infrastructure;
    for (const orderId of orderIds) {
      await dataSource.transaction(async (manager) => {
        await manager.query(
          `UPDATE inventory SET quantity_reserved = quantity_reserved + 1, version = version + 1 WHERE product_id = $1`,
          [product.id],
        );
        await manager.query(
          `INSERT INTO reservations (order_id, product_id, quantity, expires_at) VALUES ($1, $2, 1, now() - interval '1 minute')`,
          [orderId, product.id],
        );
        await manager.query(
          `INSERT INTO command_outcomes (order_id, step, reply_type, reply_data) VALUES ($1, 'reserve', $2, '{}'::jsonb)`,
          [orderId, RESERVED],
        );
      });
    }
    const replicas = [1, 2, 3].map(() =>
      startReservationSweeper({
        dataSource,
        logger: sut.infrastructure.logger,
        intervalMs: 60_000,
      }),
    );
    await Promise.all(replicas.map((replica) => replica.sweepOnce()));
    await Promise.all(replicas.map((replica) => replica.stop()));

    for (const orderId of orderIds) {
      expect(
        await countRows(
          sut,
          `SELECT count(*) FROM command_outcomes WHERE order_id = $1 AND step = 'expire'`,
          [orderId],
        ),
      ).toBe(1);
    }
    expect(await stockOf(sut, product.id)).toEqual({
      on_hand: 100,
      reserved: 0,
      available: 100,
      ledger_sum: 100,
    });
    for (const orderId of orderIds) await stream.waitFor(EXPIRED, orderId);
    expect(
      (await stream.of(EXPIRED)).filter((e) =>
        orderIds.includes((e.data as { orderId: string }).orderId),
      ),
    ).toHaveLength(20);

    // These rows were written without a trace (as before the service kept one): each expiry
    // still gets one correlation id for all its messages, and no two expiries share it.
    const correlations = new Set<string>();
    for (const orderId of orderIds) {
      const [expired] = await stream.of(EXPIRED, orderId);
      const [changed] = await waitFor(async () => {
        const found = await expiryStockChanges(orderId);
        return found.length > 0 ? found : undefined;
      }, `the expiry StockChanged of ${orderId}`);
      expect(changed!.correlationId).toBe(expired!.correlationId);
      correlations.add(expired!.correlationId);
    }
    expect(correlations.size).toBe(20);
  });
});
