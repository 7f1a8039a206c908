import { randomUUID } from 'node:crypto';
import { ReserveStock } from '@shop/contracts';
import { waitFor, type TestService } from '@shop/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRows, createProduct, stockOf } from './fixtures.js';
import {
  handlerFailures,
  sendCommand,
  startInventory,
  streamReader,
  type StreamReader,
} from './helpers.js';

let sut: TestService;
let stream: StreamReader;

beforeAll(async () => {
  sut = await startInventory('inventory_reservations');
  stream = streamReader(sut);
});

afterAll(async () => {
  await sut?.stop();
});

async function repliesFor(orderIds: readonly string[]) {
  const wanted = new Set(orderIds);
  return waitFor(
    async () => {
      const replies = (await stream.messages()).filter(
        (envelope) =>
          (envelope.type === 'inventory.events.reservation.reserved' ||
            envelope.type === 'inventory.events.reservation.rejected') &&
          wanted.has((envelope.data as { orderId: string }).orderId),
      );
      return replies.length >= wanted.size ? replies : undefined;
    },
    `replies to ${wanted.size} reservations`,
    { intervalMs: 25 },
  );
}

describe('reserving stock', () => {
  it('gives exactly 10 of 50 concurrent one-unit reservations for 10 units', async () => {
    const product = await createProduct(sut, { initialStock: 10 });
    const orderIds = Array.from({ length: 50 }, () => randomUUID());

    const sent = await Promise.allSettled(
      orderIds.map((orderId) =>
        sendCommand(sut, ReserveStock, {
          orderId,
          customerId: randomUUID(),
          items: [{ productId: product.id, quantity: 1 }],
        }),
      ),
    );
    expect(sent.filter((result) => result.status === 'fulfilled')).toHaveLength(50);

    const replies = await repliesFor(orderIds);
    const reserved = replies.filter((r) => r.type === 'inventory.events.reservation.reserved');
    const rejected = replies.filter((r) => r.type === 'inventory.events.reservation.rejected');
    expect(replies).toHaveLength(50);
    expect(reserved).toHaveLength(10);
    expect(rejected).toHaveLength(40);
    for (const envelope of rejected) {
      expect(envelope.data).toMatchObject({
        rejectedItems: [
          {
            productId: product.id,
            reason: 'insufficient_stock',
            requestedQuantity: 1,
            availableQuantity: 0,
          },
        ],
      });
    }

    expect(await stockOf(sut, product.id)).toEqual({
      on_hand: 10,
      reserved: 10,
      available: 0,
      ledger_sum: 10,
    });
    expect(
      await countRows(
        sut,
        `SELECT count(*) FROM reservations WHERE product_id = $1 AND status = 'reserved'`,
        [product.id],
      ),
    ).toBe(10);
    expect(
      await countRows(
        sut,
        `SELECT count(*) FROM command_outcomes WHERE step = 'reserve' AND order_id = ANY($1::uuid[])`,
        [orderIds],
      ),
    ).toBe(50);
  });

  it('finishes multi-product orders racing in opposite product order without deadlock', async () => {
    const a = await createProduct(sut, { initialStock: 20 });
    const b = await createProduct(sut, { initialStock: 20 });
    const orderIds = Array.from({ length: 30 }, () => randomUUID());

    await Promise.allSettled(
      orderIds.map((orderId, index) =>
        sendCommand(sut, ReserveStock, {
          orderId,
          customerId: randomUUID(),
          // Half list A then B, half B then A: only a global lock order avoids deadlocks.
          items:
            index % 2 === 0
              ? [
                  { productId: a.id, quantity: 1 },
                  { productId: b.id, quantity: 1 },
                ]
              : [
                  { productId: b.id, quantity: 1 },
                  { productId: a.id, quantity: 1 },
                ],
        }),
      ),
    );

    const replies = await repliesFor(orderIds);
    const reserved = replies.filter((r) => r.type === 'inventory.events.reservation.reserved');
    expect(reserved).toHaveLength(20);
    for (const product of [a, b]) {
      expect(await stockOf(sut, product.id)).toEqual({
        on_hand: 20,
        reserved: 20,
        available: 0,
        ledger_sum: 20,
      });
    }
    // No handler failed on the way (a deadlock would have been a failed attempt).
    expect(await handlerFailures(sut)).toBe(0);
  });

  it('refuses the whole order when one line is short, holding nothing of the others', async () => {
    const plenty = await createProduct(sut, { initialStock: 50 });
    const scarce = await createProduct(sut, { initialStock: 1 });
    const orderId = randomUUID();

    await sendCommand(sut, ReserveStock, {
      orderId,
      customerId: randomUUID(),
      items: [
        { productId: plenty.id, quantity: 5 },
        { productId: scarce.id, quantity: 2 },
      ],
    });

    const [reply] = await stream.waitFor('inventory.events.reservation.rejected', orderId);
    expect(reply!.data).toMatchObject({
      rejectedItems: [
        {
          productId: scarce.id,
          reason: 'insufficient_stock',
          requestedQuantity: 2,
          availableQuantity: 1,
        },
      ],
    });
    expect((await stockOf(sut, plenty.id)).reserved).toBe(0);
    expect((await stockOf(sut, scarce.id)).reserved).toBe(0);
    expect(
      await countRows(sut, 'SELECT count(*) FROM reservations WHERE order_id = $1', [orderId]),
    ).toBe(0);
  });

  it('refuses unknown and inactive products as unavailable', async () => {
    const active = await createProduct(sut);
    const inactive = await createProduct(sut);
    const manager = await sut.tokenFor({ userId: randomUUID(), role: 'manager' });
    const deleted = await sut.app.inject({
      method: 'DELETE',
      url: `/v1/products/${inactive.id}`,
      headers: { authorization: `Bearer ${manager}` },
    });
    expect(deleted.statusCode).toBe(204);
    const unknownId = randomUUID();
    const orderId = randomUUID();

    await sendCommand(sut, ReserveStock, {
      orderId,
      customerId: randomUUID(),
      items: [
        { productId: active.id, quantity: 1 },
        { productId: inactive.id, quantity: 1 },
        { productId: unknownId, quantity: 1 },
      ],
    });

    const replies = await stream.waitFor('inventory.events.reservation.rejected', orderId);
    const reasons = (
      replies[0]!.data as { rejectedItems: Array<{ productId: string; reason: string }> }
    ).rejectedItems
      .map((item) => [item.productId, item.reason])
      .sort();
    expect(reasons).toEqual(
      [
        [inactive.id, 'product_unavailable'],
        [unknownId, 'product_unavailable'],
      ].sort(),
    );
    expect((await stockOf(sut, active.id)).reserved).toBe(0);
  });
});
