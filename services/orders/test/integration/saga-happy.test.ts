import { randomUUID } from 'node:crypto';
import {
  ChargePayment,
  ChargeSucceeded,
  OrderConfirmed,
  OrderCreated,
  OrderDelivered,
  OrderShipped,
  ReserveStock,
  ShipmentCreated,
  ShipmentDelivered,
  ShipOrder,
  StockReservationRejected,
  StockReserved,
  OrderCancelled,
} from '@shop/contracts';
import { waitFor } from '@shop/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness.js';
import { ordersClient } from './orders-client.js';

let harness: Harness;
let client: ReturnType<typeof ordersClient>;

beforeAll(async () => {
  harness = await startHarness('orders-saga-happy');
  client = ordersClient(harness);
});
afterAll(() => harness.stop());

const now = () => new Date().toISOString();

describe('the order saga, acting as inventory and payments on NATS', () => {
  it('takes an order from accepted to delivered, each step in one transaction', async () => {
    const customer = await harness.customer('NY');
    const productId = harness.product(1250);
    const placed = await client.place(customer.token, client.body(customer, productId, 2));
    expect(placed.statusCode).toBe(202);
    const order = placed.json<{
      id: string;
      orderNumber: string;
      status: string;
      subtotal: number;
      shippingCost: number;
      tax: number;
      total: number;
      shippingAddress: Record<string, unknown>;
    }>();
    expect(order).toMatchObject({
      status: 'pending',
      subtotal: 2500,
      shippingCost: 599,
      tax: 100,
      total: 3199,
    });
    // The snapshot has the address's shape: an empty line2 is null, not left out.
    expect(order.shippingAddress).toMatchObject({ line1: '1 Main St', line2: null });
    expect(order.orderNumber).toMatch(/^ORD-\d{4}-\d{6,}$/);

    const [reserve] = await waitFor(
      () => harness.messages('INVENTORY', ReserveStock, order.id).then((m) => m.length && m),
      'reserve command',
    );
    expect(reserve!.data.items).toEqual([{ productId, quantity: 2 }]);
    expect(await harness.messages('ORDERS', OrderCreated, order.id)).toHaveLength(1);

    await harness.publish(StockReserved, {
      orderId: order.id,
      items: [{ productId, quantity: 2 }],
      reservedAt: now(),
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    });
    const [charge] = await waitFor(
      () => harness.messages('PAYMENTS', ChargePayment, order.id).then((m) => m.length && m),
      'charge command',
    );
    expect(charge!.data).toMatchObject({
      amount: 3199,
      attempt: 1,
      providerPaymentMethodId: 'pm_card_visa',
    });
    expect((await client.get(customer.token, order.id)).payment).toEqual({
      status: 'pending',
      attempts: 1,
    });

    const paymentId = randomUUID();
    await harness.publish(ChargeSucceeded, {
      orderId: order.id,
      attemptId: charge!.data.attemptId,
      attempt: 1,
      paymentId,
      amount: 3199,
      currency: 'USD',
      providerChargeId: 'ch_1',
      succeededAt: now(),
    });
    await waitFor(
      async () => (await client.get(customer.token, order.id)).status === 'confirmed',
      'confirmed',
    );
    const [ship] = await waitFor(
      () => harness.messages('INVENTORY', ShipOrder, order.id).then((m) => m.length && m),
      'ship command',
    );
    expect(ship!.data.shippingAddress).toMatchObject({
      addressId: customer.addressId,
      state: 'NY',
    });
    expect(await harness.messages('ORDERS', OrderConfirmed, order.id)).toHaveLength(1);

    // Once the warehouse is asked to ship, cancel is refused.
    const late = await client.cancel(customer.token, order.id);
    expect(late.statusCode).toBe(409);
    expect(late.json()).toMatchObject({ code: 'invalid_state_transition' });

    const shipmentId = randomUUID();
    const shipped = await harness.publish(ShipmentCreated, {
      shipmentId,
      orderId: order.id,
      items: [{ productId, quantity: 2 }],
      carrier: 'ups',
      trackingNumber: '1Z999',
      labelUrl: 'https://labels.example/1',
      estimatedDelivery: null,
      shippedAt: now(),
    });
    const shippedOrder = await waitFor(async () => {
      const current = await client.get(customer.token, order.id);
      return current.status === 'shipped' && current;
    }, 'shipped');
    // The order that reads shipped already shows its shipment.
    expect(shippedOrder.shipment).toMatchObject({ id: shipmentId, trackingNumber: '1Z999' });
    expect(shippedOrder.shippedAt).not.toBeNull();

    await harness.publish(ShipmentDelivered, {
      shipmentId,
      orderId: order.id,
      carrier: 'ups',
      trackingNumber: '1Z999',
      deliveredAt: new Date(Date.now() + 1000).toISOString(),
    });
    const delivered = await waitFor(async () => {
      const current = await client.get(customer.token, order.id);
      return current.status === 'delivered' && current;
    }, 'delivered');
    expect(delivered.deliveredAt).not.toBeNull();
    expect(delivered.shipment?.deliveredAt).toBe(delivered.deliveredAt);

    // A duplicate of an old event (new message id, so past the inbox) changes nothing.
    await harness.republish(shipped, true);
    await waitFor(
      async () => (await harness.messages('ORDERS', OrderDelivered, order.id)).length === 1,
      'delivered event',
    );
    expect(await harness.messages('ORDERS', OrderShipped, order.id)).toHaveLength(1);
    expect((await client.get(customer.token, order.id)).status).toBe('delivered');

    const timeline = await client.timeline(customer.token, order.id);
    expect(timeline.items.map((item) => `${item.step}:${item.outcome}`)).toEqual([
      'order:accepted',
      'reserve_stock:requested',
      'reserve_stock:succeeded',
      'charge_payment:requested',
      'charge_payment:succeeded',
      'ship_order:requested',
      'ship_order:succeeded',
      'delivery:succeeded',
    ]);

    // One audit row per status change, written by the system (no user) in the order's story:
    // the placing request's id is the correlation id of every one of them.
    const placedBy = placed.headers['x-request-id'];
    const audit = (await harness.service.infrastructure.dataSource.query(
      `SELECT action, user_id, correlation_id, old_values, new_values
         FROM audit_logs WHERE entity_type = 'order' AND entity_id = $1 ORDER BY created_at, id`,
      [order.id],
    )) as {
      action: string;
      user_id: string | null;
      correlation_id: string;
      old_values: Record<string, unknown> | null;
      new_values: Record<string, unknown>;
    }[];
    expect(audit.map((row) => [row.action, row.user_id, row.correlation_id])).toEqual([
      ['create', customer.id, placedBy],
      ['update', null, placedBy],
      ['update', null, placedBy],
      ['update', null, placedBy],
    ]);
    expect(audit.slice(1).map((row) => [row.old_values!.status, row.new_values.status])).toEqual([
      ['pending', 'confirmed'],
      ['confirmed', 'shipped'],
      ['shipped', 'delivered'],
    ]);
    expect(audit[1]).toMatchObject({
      old_values: { paymentStatus: 'pending', paymentId: null },
      new_values: { paymentStatus: 'succeeded', paymentId },
    });
    expect(audit[2]).toMatchObject({
      old_values: { shipmentId: null, shippedAt: null },
      new_values: { shipmentId },
    });
    expect(audit[3]!.new_values.deliveredAt).toEqual(delivered.deliveredAt);
  });

  it('cancels with insufficient_stock when the reservation is rejected', async () => {
    const customer = await harness.customer();
    const productId = harness.product(6000);
    const order = (await client.place(customer.token, client.body(customer, productId, 3))).json<{
      id: string;
      shippingCost: number;
    }>();
    expect(order.shippingCost).toBe(0);
    await waitFor(
      () => harness.messages('INVENTORY', ReserveStock, order.id).then((m) => m.length),
      'reserve',
    );
    await harness.publish(StockReservationRejected, {
      orderId: order.id,
      rejectedItems: [
        { productId, reason: 'insufficient_stock', requestedQuantity: 3, availableQuantity: 1 },
      ],
      rejectedAt: now(),
    });
    const cancelled = await waitFor(async () => {
      const current = await client.get(customer.token, order.id);
      return current.status === 'cancelled' && current;
    }, 'cancelled');
    expect(cancelled.cancellationReason).toBe('insufficient_stock');
    expect(cancelled.cancelledAt).not.toBeNull();
    const [event] = await waitFor(
      () => harness.messages('ORDERS', OrderCancelled, order.id).then((m) => m.length && m),
      'cancelled event',
    );
    expect(event!.data).toMatchObject({
      cancellationReason: 'insufficient_stock',
      refunded: false,
    });
    expect(await harness.messages('PAYMENTS', ChargePayment, order.id)).toHaveLength(0);
    // Cancelling a cancelled order is a conflict.
    expect((await client.cancel(customer.token, order.id)).statusCode).toBe(409);
  });

  it('cancels with product_unavailable when any line is unavailable', async () => {
    const customer = await harness.customer();
    const productId = harness.product(500);
    const order = (await client.place(customer.token, client.body(customer, productId))).json<{
      id: string;
    }>();
    await harness.publish(StockReservationRejected, {
      orderId: order.id,
      rejectedItems: [{ productId, reason: 'product_unavailable', requestedQuantity: 1 }],
      rejectedAt: now(),
    });
    await waitFor(
      async () =>
        (await client.get(customer.token, order.id)).cancellationReason === 'product_unavailable',
      'cancelled',
    );
  });
});
