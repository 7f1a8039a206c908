import { randomUUID } from 'node:crypto';
import { ReleaseStock, ReserveStock, ShipOrder } from '@shop/contracts';
import type { TestService } from '@shop/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isValidTrackingNumber } from '../src/domain/tracking-numbers.js';
import { address, countRows, createProduct, stockOf, tokenOf } from './fixtures.js';
import { resend, sendCommand, startInventory, streamReader, type StreamReader } from './helpers.js';

let sut: TestService;
let stream: StreamReader;

const RESERVED = 'inventory.events.reservation.reserved';
const RELEASED = 'inventory.events.reservation.released';
const SHIPPED = 'inventory.events.shipment.created';
const DELIVERED = 'inventory.events.shipment.delivered';

beforeAll(async () => {
  sut = await startInventory('inventory_saga_commands');
  stream = streamReader(sut);
});

afterAll(async () => {
  await sut?.stop();
});

function order(productId: string, quantity = 2) {
  const orderId = randomUUID();
  const customerId = randomUUID();
  return {
    orderId,
    customerId,
    reserve: { orderId, customerId, items: [{ productId, quantity }] },
    release: { orderId, reason: 'customer_request' },
    ship: {
      orderId,
      orderNumber: `ORD-2026-${Math.floor(Math.random() * 1e6)}`,
      customerId,
      items: [{ productId, quantity }],
      shippingAddress: address,
    },
  };
}

describe('saga commands are idempotent per (order, step)', () => {
  it('answers a repeated reserve with the same reply and reserves once', async () => {
    const product = await createProduct(sut, { initialStock: 10 });
    const o = order(product.id);
    const first = await sendCommand(sut, ReserveStock, o.reserve);
    await stream.waitFor(RESERVED, o.orderId);
    // The saga resending after a timeout: same command, new message id.
    await resend(sut, first, randomUUID());
    const replies = await stream.waitFor(RESERVED, o.orderId, 2);
    expect(replies[1]!.data).toEqual(replies[0]!.data);
    expect(await stockOf(sut, product.id)).toMatchObject({ on_hand: 10, reserved: 2 });
    expect(
      await countRows(sut, 'SELECT count(*) FROM reservations WHERE order_id = $1', [o.orderId]),
    ).toBe(1);
  });

  it('ships once: a repeated ship replies the same shipment and sells nothing twice', async () => {
    const product = await createProduct(sut, { initialStock: 10 });
    const o = order(product.id, 3);
    await sendCommand(sut, ReserveStock, o.reserve);
    await stream.waitFor(RESERVED, o.orderId);
    const ship = await sendCommand(sut, ShipOrder, o.ship);
    const [created] = await stream.waitFor(SHIPPED, o.orderId);
    await resend(sut, ship, randomUUID());
    const both = await stream.waitFor(SHIPPED, o.orderId, 2);
    expect(both[1]!.data).toEqual(created!.data);

    const data = created!.data as { carrier: 'usps' | 'fedex' | 'ups'; trackingNumber: string };
    expect(isValidTrackingNumber(data.carrier, data.trackingNumber)).toBe(true);
    expect(await stockOf(sut, product.id)).toEqual({
      on_hand: 7,
      reserved: 0,
      available: 7,
      ledger_sum: 7,
    });
    expect(
      await countRows(sut, 'SELECT count(*) FROM shipments WHERE order_id = $1', [o.orderId]),
    ).toBe(1);
    expect(
      await countRows(
        sut,
        `SELECT count(*) FROM inventory_transactions WHERE order_id = $1 AND type = 'sale'`,
        [o.orderId],
      ),
    ).toBe(1);
    expect(
      await countRows(
        sut,
        `SELECT count(*) FROM reservations WHERE order_id = $1 AND status = 'committed'`,
        [o.orderId],
      ),
    ).toBe(1);

    // A release after shipping gives nothing back: the goods are gone.
    await sendCommand(sut, ReleaseStock, o.release);
    const [released] = await stream.waitFor(RELEASED, o.orderId);
    expect(released!.data).toMatchObject({ items: [] });
    expect(await stockOf(sut, product.id)).toEqual({
      on_hand: 7,
      reserved: 0,
      available: 7,
      ledger_sum: 7,
    });
  });

  it('releases once, and answers a late reserve or ship with that release', async () => {
    const product = await createProduct(sut, { initialStock: 10 });
    const o = order(product.id, 4);
    const reserve = await sendCommand(sut, ReserveStock, o.reserve);
    await stream.waitFor(RESERVED, o.orderId);
    const release = await sendCommand(sut, ReleaseStock, o.release);
    const [released] = await stream.waitFor(RELEASED, o.orderId);
    expect(released!.data).toMatchObject({ items: [{ productId: product.id, quantity: 4 }] });
    expect(await stockOf(sut, product.id)).toMatchObject({ reserved: 0, available: 10 });

    await resend(sut, release, randomUUID());
    await resend(sut, reserve, randomUUID());
    await sendCommand(sut, ShipOrder, o.ship);
    // The repeated release, the resent reserve and the ship are each answered with the release:
    // the stock the reserve once held is no longer held, so it must not be told "reserved".
    const answers = await stream.waitFor(RELEASED, o.orderId, 4);
    for (const answer of answers) expect(answer.data).toEqual(released!.data);
    expect(await stream.of(RESERVED, o.orderId)).toHaveLength(1);
    expect(await stockOf(sut, product.id)).toEqual({
      on_hand: 10,
      reserved: 0,
      available: 10,
      ledger_sum: 10,
    });
    expect(
      await countRows(sut, 'SELECT count(*) FROM shipments WHERE order_id = $1', [o.orderId]),
    ).toBe(0);
  });

  it('a release arriving before its reserve leaves the order holding nothing', async () => {
    const product = await createProduct(sut, { initialStock: 10 });
    const o = order(product.id);
    await sendCommand(sut, ReleaseStock, o.release);
    const [released] = await stream.waitFor(RELEASED, o.orderId);
    expect(released!.data).toMatchObject({ items: [] });

    await sendCommand(sut, ReserveStock, o.reserve);
    const answers = await stream.waitFor(RELEASED, o.orderId, 2);
    expect(answers[1]!.data).toEqual(released!.data);
    expect(await stream.of(RESERVED, o.orderId)).toHaveLength(0);
    expect(await stockOf(sut, product.id)).toMatchObject({ reserved: 0, available: 10 });
  });

  it('a ship arriving before its reserve waits for it, then ships', async () => {
    const product = await createProduct(sut, { initialStock: 10 });
    const o = order(product.id, 1);
    await sendCommand(sut, ShipOrder, o.ship);
    await sendCommand(sut, ReserveStock, o.reserve);
    await stream.waitFor(RESERVED, o.orderId);
    await stream.waitFor(SHIPPED, o.orderId);
    expect(await stockOf(sut, product.id)).toEqual({
      on_hand: 9,
      reserved: 0,
      available: 9,
      ledger_sum: 9,
    });
  });

  it('records delivery once and announces it once, however often staff confirm it', async () => {
    const product = await createProduct(sut, { initialStock: 5 });
    const o = order(product.id, 1);
    await sendCommand(sut, ReserveStock, o.reserve);
    await stream.waitFor(RESERVED, o.orderId);
    await sendCommand(sut, ShipOrder, o.ship);
    const [created] = await stream.waitFor(SHIPPED, o.orderId);
    const { shipmentId } = created!.data as { shipmentId: string };
    const staff = await tokenOf(sut, 'employee');

    const deliveries = await Promise.all(
      [1, 2, 3].map(() =>
        sut.app.inject({
          method: 'POST',
          url: `/v1/shipments/${shipmentId}/deliver`,
          headers: { authorization: `Bearer ${staff}` },
        }),
      ),
    );
    for (const response of deliveries) {
      expect(response.statusCode).toBe(202);
      expect(response.json()).toMatchObject({ id: shipmentId, orderId: o.orderId });
      expect(response.json<{ deliveredAt: string | null }>().deliveredAt).not.toBeNull();
    }
    await stream.waitFor(DELIVERED, o.orderId);
    // Wait for the outbox to drain, then make sure no second announcement went out.
    await stream.waitFor('inventory.events.stock.changed', o.orderId);
    expect(
      await countRows(
        sut,
        `SELECT count(*) FROM outbox WHERE type = $1 AND payload->'data'->>'orderId' = $2`,
        [DELIVERED, o.orderId],
      ),
    ).toBe(1);

    // The customer sees their own parcel; another customer gets 404.
    const own = await sut.app.inject({
      method: 'GET',
      url: `/v1/shipments/${shipmentId}`,
      headers: { authorization: `Bearer ${await tokenOf(sut, 'customer', o.customerId)}` },
    });
    expect(own.statusCode).toBe(200);
    const other = await sut.app.inject({
      method: 'GET',
      url: `/v1/shipments/${shipmentId}`,
      headers: { authorization: `Bearer ${await tokenOf(sut, 'customer')}` },
    });
    expect(other.statusCode).toBe(404);
    expect(other.headers['content-type']).toContain('application/problem+json');
  });
});
