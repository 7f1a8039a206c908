import { randomUUID } from 'node:crypto';
import {
  ChargeSucceeded,
  RefundPayment,
  RefundSucceeded,
  ReserveStock,
  StockReservationRejected,
} from '@shop/contracts';
import { waitFor } from '@shop/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { softDeleteOrder } from '../../src/application/soft-delete.js';
import { startHarness, type Customer, type Harness } from './harness.js';
import { ordersClient, type OrderJson } from './orders-client.js';

let harness: Harness;
let client: ReturnType<typeof ordersClient>;
const operator = { userId: randomUUID() };

beforeAll(async () => {
  harness = await startHarness('orders-soft-delete');
  client = ordersClient(harness);
});
afterAll(() => harness.stop());

const now = () => new Date().toISOString();
const dataSource = () => harness.service.infrastructure.dataSource;
const softDelete = (orderId: string) => softDeleteOrder(dataSource(), orderId, operator);

/** An order the warehouse refused: cancelled, its saga at rest, nothing charged. */
async function cancelledOrder(customer: Customer, key?: string): Promise<OrderJson> {
  const productId = harness.product(1000);
  const placed = await client.place(customer.token, client.body(customer, productId), key);
  expect(placed.statusCode).toBe(202);
  const order = placed.json<OrderJson>();
  await waitFor(
    () => harness.messages('INVENTORY', ReserveStock, order.id).then((m) => m.length),
    'reserve command',
  );
  await harness.publish(StockReservationRejected, {
    orderId: order.id,
    rejectedItems: [{ productId, reason: 'product_unavailable', requestedQuantity: 1 }],
    rejectedAt: now(),
  });
  await waitFor(async () => sagaState(order.id).then((state) => state === 'cancelled'), 'saga');
  return order;
}

async function sagaState(orderId: string): Promise<string | undefined> {
  const rows = (await dataSource().query('SELECT state FROM order_sagas WHERE order_id = $1', [
    orderId,
  ])) as { state: string }[];
  return rows[0]?.state;
}

async function orderRow(orderId: string) {
  const rows = (await dataSource().query(
    `SELECT status, payment_status, deleted_at,
            (SELECT count(*)::int FROM order_items WHERE order_id = o.id) AS items
       FROM orders o WHERE id = $1`,
    [orderId],
  )) as { status: string; payment_status: string | null; deleted_at: Date | null; items: number }[];
  return rows[0];
}

/** A charge landing after the cancel (the saga refunds it), then the refund's answer. */
async function lateCharge(order: OrderJson) {
  const paymentId = randomUUID();
  await harness.publish(ChargeSucceeded, {
    orderId: order.id,
    attemptId: randomUUID(),
    attempt: 1,
    paymentId,
    amount: order.total,
    currency: 'USD',
    providerChargeId: `ch_${paymentId.slice(0, 8)}`,
    succeededAt: now(),
  });
  const [refund] = await waitFor(
    () => harness.messages('PAYMENTS', RefundPayment, order.id).then((m) => m.length && m),
    'refund command',
  );
  return {
    refund: refund!.data,
    refunded: () =>
      harness.publish(RefundSucceeded, {
        orderId: order.id,
        refundId: refund!.data.refundId,
        paymentId,
        amount: refund!.data.amount,
        currency: 'USD',
        providerRefundId: `re_${paymentId.slice(0, 8)}`,
        refundedAt: now(),
      }),
  };
}

describe('soft-deleting an order (an operator erasing it)', () => {
  it("has the validated CHECK and the design's index", async () => {
    const [row] = (await dataSource().query(
      `SELECT
         (SELECT convalidated FROM pg_constraint WHERE conname = 'orders_deleted_only_when_final') AS validated,
         (SELECT indisvalid FROM pg_index WHERE indexrelid = 'orders_id_customer_id_deleted_at_idx'::regclass) AS index_valid,
         (SELECT pg_get_indexdef('orders_id_customer_id_deleted_at_idx'::regclass)) AS index_def`,
    )) as { validated: boolean; index_valid: boolean; index_def: string }[];
    expect(row).toMatchObject({ validated: true, index_valid: true });
    expect(row!.index_def).toContain('(id, customer_id, deleted_at)');
  });

  it('is allowed only for a cancelled or delivered order whose saga is at rest', async () => {
    const customer = await harness.customer();
    const pending = (
      await client.place(customer.token, client.body(customer, harness.product(1000)))
    ).json<OrderJson>();
    expect(await softDelete(pending.id)).toEqual({
      outcome: 'not_final',
      status: 'pending',
      sagaState: 'reserving',
    });
    // The database refuses it too, whoever writes.
    await expect(
      dataSource().query('UPDATE orders SET deleted_at = now() WHERE id = $1', [pending.id]),
    ).rejects.toThrow(/orders_deleted_only_when_final/);
    expect((await orderRow(pending.id))?.deleted_at).toBeNull();
    expect(await softDelete(randomUUID())).toEqual({ outcome: 'not_found' });

    // Cancelled, but a late charge is being refunded: not yet.
    const order = await cancelledOrder(customer);
    const late = await lateCharge(order);
    await waitFor(async () => (await sagaState(order.id)) === 'compensating', 'compensating');
    expect(await softDelete(order.id)).toEqual({
      outcome: 'not_final',
      status: 'cancelled',
      sagaState: 'compensating',
    });
    await late.refunded();
    await waitFor(async () => (await sagaState(order.id)) === 'cancelled', 'at rest again');
    const deleted = await softDelete(order.id);
    expect(deleted).toMatchObject({ outcome: 'deleted', deletedAt: expect.any(Date) });
    // Once only: a second call finds nothing left to delete.
    expect(await softDelete(order.id)).toEqual({ outcome: 'not_found' });
  });

  it('hides the order from every read route; its rows and lines stay', async () => {
    const customer = await harness.customer();
    const staff = await harness.token(randomUUID(), 'manager');
    const kept = (
      await client.place(customer.token, client.body(customer, harness.product(1000)))
    ).json<OrderJson>();
    const key = randomUUID();
    const gone = await cancelledOrder(customer, key);
    const get = (token: string, url: string) =>
      client.request({ method: 'GET', url, headers: client.auth(token) });
    const ids = async (token: string, url: string) =>
      (await get(token, url))
        .json<{ items: { id?: string; orderId?: string }[] }>()
        .items.map((item) => item.id ?? item.orderId);
    const sagaList = '/v1/orders/sagas?state=cancelled&limit=100';
    expect(await ids(customer.token, '/v1/orders')).toEqual([gone.id, kept.id]);
    expect(await ids(staff, sagaList)).toContain(gone.id);

    expect(await softDelete(gone.id)).toMatchObject({ outcome: 'deleted' });

    // One order: 404 for its owner and for staff, by id, by number, its timeline and actions.
    for (const token of [customer.token, staff]) {
      for (const url of [
        `/v1/orders/${gone.id}`,
        `/v1/orders/by-number/${gone.orderNumber}`,
        `/v1/orders/${gone.id}/timeline`,
      ]) {
        expect((await get(token, url)).statusCode, url).toBe(404);
      }
    }
    expect((await client.cancel(customer.token, gone.id)).statusCode).toBe(404);
    expect(
      (await client.pay(customer.token, gone.id, customer.secondPaymentMethodId)).statusCode,
    ).toBe(404);
    // Lists: the customer's own, staff's by customer and by status, and the sagas.
    expect(await ids(customer.token, '/v1/orders')).toEqual([kept.id]);
    // A page is filled from visible orders only: no short page, no cursor past the end.
    expect((await get(customer.token, '/v1/orders?limit=1')).json()).toMatchObject({
      items: [{ id: kept.id }],
      nextCursor: null,
    });
    expect(await ids(staff, `/v1/orders?customerId=${customer.id}`)).toEqual([kept.id]);
    expect(await ids(staff, `/v1/orders?customerId=${customer.id}&status=cancelled`)).toEqual([]);
    expect(await ids(staff, '/v1/orders?status=cancelled&limit=100')).not.toContain(gone.id);
    expect(await ids(staff, sagaList)).not.toContain(gone.id);
    // Its Idempotency-Key stays bound to it: a replay is told to use a new key.
    const replay = await client.place(
      customer.token,
      client.body(customer, gone.items[0]!.productId),
      key,
    );
    expect(replay.statusCode).toBe(409);
    expect(replay.json()).toMatchObject({ code: 'idempotency_key_reused' });
    // The other order is untouched.
    expect((await get(customer.token, `/v1/orders/${kept.id}`)).statusCode).toBe(200);

    // Nothing physically deleted: the row, its lines and its saga are all there.
    const row = await orderRow(gone.id);
    expect(row).toMatchObject({ status: 'cancelled', items: 1, deleted_at: expect.any(Date) });
    expect(await sagaState(gone.id)).toBe('cancelled');
    const audit = (await dataSource().query(
      `SELECT action, user_id, old_values FROM audit_logs WHERE entity_id = $1 AND action = 'delete'`,
      [gone.id],
    )) as { action: string; user_id: string; old_values: unknown }[];
    expect(audit).toEqual([
      { action: 'delete', user_id: operator.userId, old_values: { deletedAt: null } },
    ]);
  });

  it("keeps the order's saga working: a late charge is still refunded", async () => {
    const customer = await harness.customer();
    const order = await cancelledOrder(customer);
    expect(await softDelete(order.id)).toMatchObject({ outcome: 'deleted' });

    const late = await lateCharge(order);
    expect(late.refund).toMatchObject({ orderId: order.id, amount: order.total });
    await waitFor(
      async () => (await orderRow(order.id))?.payment_status === 'succeeded',
      'payment recorded on the hidden order',
    );
    await late.refunded();
    await waitFor(async () => (await sagaState(order.id)) === 'cancelled', 'at rest again');
    expect(await orderRow(order.id)).toMatchObject({
      status: 'cancelled',
      payment_status: 'refunded',
      deleted_at: expect.any(Date),
    });
    expect(
      (
        await client.request({
          method: 'GET',
          url: `/v1/orders/${order.id}`,
          headers: client.auth(customer.token),
        })
      ).statusCode,
    ).toBe(404);
  });
});
