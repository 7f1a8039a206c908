import { randomUUID } from 'node:crypto';
import { ReleaseStock, ReserveStock, ShipOrder } from '@shop/contracts';
import type { TestService } from '@shop/service-kit/testing';
import { waitFor } from '@shop/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outcomesRepository } from '../src/db/repositories/outcomes.js';
import { createSandboxCarrier, type CarrierAdapter } from '../src/domain/carrier.js';
import { address, countRows, createProduct, stockOf } from './fixtures.js';
import {
  handlerFailures,
  resend,
  sendCommand,
  startInventory,
  streamReader,
  type StreamReader,
} from './helpers.js';

const RESERVED = 'inventory.events.reservation.reserved';
const RELEASED = 'inventory.events.reservation.released';
const SHIPPED = 'inventory.events.shipment.created';

/** What a test makes the carrier do on the n-th call for one order, before it answers. */
type Script = (call: number, signal: AbortSignal | undefined) => Promise<void>;

/** The sandbox carrier, counting calls per order and running a test's script for an order. */
function scriptedCarrier() {
  const sandbox = createSandboxCarrier();
  const calls = new Map<string, number>();
  const scripts = new Map<string, Script>();
  const adapter: CarrierAdapter = {
    async createLabel(request, signal) {
      const call = (calls.get(request.orderId) ?? 0) + 1;
      calls.set(request.orderId, call);
      await scripts.get(request.orderId)?.(call, signal);
      return sandbox.createLabel(request);
    },
  };
  return {
    adapter,
    callsFor: (orderId: string) => calls.get(orderId) ?? 0,
    script: (orderId: string, script: Script) => scripts.set(orderId, script),
  };
}

const carrier = scriptedCarrier();
let sut: TestService;
let stream: StreamReader;

beforeAll(async () => {
  sut = await startInventory(
    'inventory_shipping_carrier',
    // A short timeout for the slow-carrier test, and a breaker that recovers quickly should the
    // failures the tests cause open it.
    { CARRIER_TIMEOUT_MS: '300', CARRIER_BREAKER_RESET_MS: '200' },
    { carrier: carrier.adapter },
  );
  stream = streamReader(sut);
});

afterAll(async () => {
  await sut?.stop();
});

/** A product with stock and an order holding `quantity` of it, reserved and ready to ship. */
async function reservedOrder(quantity = 2) {
  const product = await createProduct(sut, { initialStock: 10 });
  const orderId = randomUUID();
  const customerId = randomUUID();
  const items = [{ productId: product.id, quantity }];
  await sendCommand(sut, ReserveStock, { orderId, customerId, items });
  await stream.waitFor(RESERVED, orderId);
  return {
    product,
    orderId,
    ship: {
      orderId,
      orderNumber: `ORD-2026-${Math.floor(Math.random() * 1e6)}`,
      customerId,
      items,
      shippingAddress: address,
    },
    release: { orderId, reason: 'customer_request' },
  };
}

/** Whether another connection can take the lock right now, without waiting for anyone. */
async function lockIsFree(sql: string, parameters: unknown[]): Promise<boolean> {
  try {
    await sut.infrastructure.dataSource.transaction((manager) => manager.query(sql, parameters));
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === '55P03') return false; // lock_not_available
    throw error;
  }
}

/** Everything a ship changes, for one order: to show a failed attempt left nothing behind. */
async function shipState(productId: string, orderId: string, shipMessageId: string) {
  return {
    stock: await stockOf(sut, productId),
    shipments: await countRows(sut, 'SELECT count(*) FROM shipments WHERE order_id = $1', [
      orderId,
    ]),
    sales: await countRows(
      sut,
      `SELECT count(*) FROM inventory_transactions WHERE order_id = $1 AND type = 'sale'`,
      [orderId],
    ),
    held: await countRows(
      sut,
      `SELECT count(*) FROM reservations WHERE order_id = $1 AND status = 'reserved'`,
      [orderId],
    ),
    answers: await countRows(
      sut,
      `SELECT count(*) FROM command_outcomes WHERE order_id = $1 AND step = 'ship'`,
      [orderId],
    ),
    inbox: await countRows(sut, 'SELECT count(*) FROM inbox WHERE message_id = $1', [
      shipMessageId,
    ]),
  };
}

async function duplicatesSkipped(): Promise<number> {
  const metric = sut.infrastructure.registry.getSingleMetric('messaging_duplicates_total');
  const values = metric ? (await metric.get()).values : [];
  return values
    .filter((value) => value.labels.type === ShipOrder.type)
    .reduce((sum, value) => sum + value.value, 0);
}

describe('shipping buys the label outside the transaction', () => {
  it('holds no lock on the stock, the reservation or the order while the carrier works', async () => {
    const o = await reservedOrder();
    let seen: Record<string, boolean> | undefined;
    carrier.script(o.orderId, async () => {
      seen = {
        stockRow: await lockIsFree(
          'SELECT 1 FROM inventory WHERE product_id = $1 FOR UPDATE NOWAIT',
          [o.product.id],
        ),
        reservationRows: await lockIsFree(
          'SELECT 1 FROM reservations WHERE order_id = $1 FOR UPDATE NOWAIT',
          [o.orderId],
        ),
        orderLock: await sut.infrastructure.dataSource.transaction((manager) =>
          outcomesRepository(manager).tryLockOrder(o.orderId),
        ),
      };
    });
    await sendCommand(sut, ShipOrder, o.ship);
    const [created] = await stream.waitFor(SHIPPED, o.orderId);

    expect(seen).toEqual({ stockRow: true, reservationRows: true, orderLock: true });
    expect(carrier.callsFor(o.orderId)).toBe(1);
    const { trackingNumber } = created!.data as { trackingNumber: string };
    expect(
      await countRows(
        sut,
        'SELECT count(*) FROM shipments WHERE order_id = $1 AND tracking_number = $2',
        [o.orderId, trackingNumber],
      ),
    ).toBe(1);
    expect(await stockOf(sut, o.product.id)).toEqual({
      on_hand: 8,
      reserved: 0,
      available: 8,
      ledger_sum: 8,
    });
  });

  it('changes nothing when the carrier fails, and the redelivery ships once', async () => {
    const o = await reservedOrder(3);
    const failuresBefore = await handlerFailures(sut);
    const shipId = randomUUID();
    const before = await shipState(o.product.id, o.orderId, shipId);
    let atRetry: typeof before | undefined;
    carrier.script(o.orderId, async (call) => {
      if (call === 1) throw new Error('carrier is down');
      // The retry starts from whatever the failed attempt left behind.
      atRetry = await shipState(o.product.id, o.orderId, shipId);
    });
    await sendCommand(sut, ShipOrder, o.ship, shipId);
    await stream.waitFor(SHIPPED, o.orderId);

    expect(carrier.callsFor(o.orderId)).toBe(2);
    expect(atRetry).toEqual(before);
    expect(before).toMatchObject({ shipments: 0, sales: 0, held: 1, answers: 0, inbox: 0 });
    expect(await handlerFailures(sut)).toBeGreaterThan(failuresBefore);
    expect(await shipState(o.product.id, o.orderId, shipId)).toEqual({
      stock: { on_hand: 7, reserved: 0, available: 7, ledger_sum: 7 },
      shipments: 1,
      sales: 1,
      held: 0,
      answers: 1,
      inbox: 1,
    });
    expect(await stream.of(SHIPPED, o.orderId)).toHaveLength(1);
  });

  it('gives up on a carrier that does not answer in time, and ships on the retry', async () => {
    const o = await reservedOrder();
    let aborted = false;
    carrier.script(o.orderId, async (call, signal) => {
      if (call > 1) return;
      if (!signal) throw new Error('the carrier call has no signal to stop it with');
      // A carrier that never answers: only the caller's timeout ends the call.
      await new Promise((_resolve, reject) =>
        signal.addEventListener('abort', () => {
          aborted = true;
          reject(signal.reason as Error);
        }),
      );
    });
    await sendCommand(sut, ShipOrder, o.ship);
    await stream.waitFor(SHIPPED, o.orderId);

    expect(aborted).toBe(true);
    expect(carrier.callsFor(o.orderId)).toBe(2);
    expect(
      await countRows(sut, 'SELECT count(*) FROM shipments WHERE order_id = $1', [o.orderId]),
    ).toBe(1);
  });

  it('does not call the carrier again for a ship command it already handled', async () => {
    const o = await reservedOrder();
    const ship = await sendCommand(sut, ShipOrder, o.ship);
    const [created] = await stream.waitFor(SHIPPED, o.orderId);
    const skippedBefore = await duplicatesSkipped();

    // The same message again (its ack lost after the commit): the inbox knows it.
    const { js, namespace } = sut.infrastructure;
    await js.publish(namespace.subject(ShipOrder.type), JSON.stringify(ship), {
      msgID: `${ship.id}-redelivered`,
    });
    await waitFor(
      async () => (await duplicatesSkipped()) > skippedBefore,
      'the redelivered ship skipped',
    );
    // The saga resending it (a new message id): the recorded shipment is answered again.
    await resend(sut, ship, randomUUID());
    const answers = await stream.waitFor(SHIPPED, o.orderId, 2);

    expect(answers[1]!.data).toEqual(created!.data);
    expect(carrier.callsFor(o.orderId)).toBe(1);
    expect(
      await countRows(sut, 'SELECT count(*) FROM shipments WHERE order_id = $1', [o.orderId]),
    ).toBe(1);
  });

  it('buys no label for an order that was released, and ships nothing for one released meanwhile', async () => {
    // Released before the ship arrives: answered with the release, the carrier never asked.
    const early = await reservedOrder();
    await sendCommand(sut, ReleaseStock, early.release);
    await stream.waitFor(RELEASED, early.orderId);
    await sendCommand(sut, ShipOrder, early.ship);
    await stream.waitFor(RELEASED, early.orderId, 2);
    expect(carrier.callsFor(early.orderId)).toBe(0);

    // Released while the carrier works on its label (possible only because no lock is held):
    // the transaction sees the release and answers with it; the label goes unused.
    const late = await reservedOrder();
    carrier.script(late.orderId, async () => {
      await sendCommand(sut, ReleaseStock, late.release);
      await stream.waitFor(RELEASED, late.orderId);
    });
    await sendCommand(sut, ShipOrder, late.ship);
    const answers = await stream.waitFor(RELEASED, late.orderId, 2);

    expect(answers[1]!.data).toEqual(answers[0]!.data);
    expect(carrier.callsFor(late.orderId)).toBe(1);
    expect(await stream.of(SHIPPED, late.orderId)).toHaveLength(0);
    expect(
      await countRows(sut, 'SELECT count(*) FROM shipments WHERE order_id = $1', [late.orderId]),
    ).toBe(0);
    expect(await stockOf(sut, late.product.id)).toEqual({
      on_hand: 10,
      reserved: 0,
      available: 10,
      ledger_sum: 10,
    });
  });
});
