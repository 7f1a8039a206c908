import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, describeAnswer, isProblem } from '../support/accounts.js';
import {
  createProduct,
  expectCall,
  newCustomer,
  openReservations,
  paymentRows,
  paymentsOf,
  placeAcceptedOrder,
  placeOrder,
  startShop,
  stockOf,
  stopShop,
  timelineOf,
  waitForOrder,
  waitForStatus,
  type Customer,
  type OrderView,
  type Shop,
} from '../support/shop.js';

// The order saga end to end, every service a real process, driven only through the gateway
// (the database is read only to check invariants). FULFILLMENT_HOLD_SECONDS is 0 here: a paid
// order ships at once, as by default.
let shop: Shop;

beforeAll(async () => {
  shop = await startShop('orders_flows');
}, 120_000);

afterAll(async () => {
  await stopShop(shop);
});

const ended = (order: OrderView) => order.status === 'shipped' || order.status === 'cancelled';

describe('an order through the gateway', () => {
  it('goes pending → confirmed → shipped → delivered, every step on the timeline', async () => {
    const product = await createProduct(shop, { price: 1250, stock: 10 });
    const customer = await newCustomer(shop);
    const placed = await placeAcceptedOrder(shop, customer, [
      { productId: product.id, quantity: 3 },
    ]);
    expect(placed.status).toBe('pending');
    expect(placed.items).toEqual([
      expect.objectContaining({
        productId: product.id,
        quantity: 3,
        unitPrice: 1250,
        lineTotal: 3750,
      }),
    ]);
    // 3750 < 5000: shipping 599; OR is not in TAX_RATES_BPS: no tax.
    expect(placed).toMatchObject({ subtotal: 3750, shippingCost: 599, tax: 0, total: 4349 });

    const shipped = await waitForStatus(shop, customer.token, placed.id, 'shipped');
    // The order that reads shipped already shows its shipment and its payment.
    expect(shipped.shipment).toMatchObject({
      id: expect.any(String),
      carrier: expect.stringMatching(/^(usps|fedex|ups)$/),
      trackingNumber: expect.any(String),
    });
    expect(shipped.shippedAt).not.toBeNull();
    expect(shipped.payment).toMatchObject({ status: 'succeeded', attempts: 1 });

    const stock = await stockOf(shop, product.id);
    expect(stock).toMatchObject({ quantityOnHand: 7, quantityReserved: 0, quantityAvailable: 7 });
    const payments = await paymentsOf(shop, customer.token, placed.id);
    expect(payments.map((payment) => [payment.status, payment.amount])).toEqual([
      ['succeeded', 4349],
    ]);

    const shipment = await expectCall<{ orderId: string; trackingNumber: string }>(
      shop,
      'GET',
      `/v1/shipments/${shipped.shipment!.id}`,
      200,
      { token: customer.token },
    );
    expect(shipment).toMatchObject({
      orderId: placed.id,
      trackingNumber: shipped.shipment!.trackingNumber,
    });
    await expectCall(shop, 'POST', `/v1/shipments/${shipped.shipment!.id}/deliver`, 202, {
      token: shop.adminToken,
    });
    const delivered = await waitForStatus(shop, customer.token, placed.id, 'delivered');
    expect(delivered.deliveredAt).not.toBeNull();

    const timeline = await timelineOf(shop, customer.token, placed.id);
    expect(timeline.map((item) => `${item.step}:${item.outcome}`)).toEqual([
      'order:accepted',
      'reserve_stock:requested',
      'reserve_stock:succeeded',
      'charge_payment:requested',
      'charge_payment:succeeded',
      'ship_order:requested',
      'ship_order:succeeded',
      'delivery:succeeded',
    ]);
    const times = timeline.map((item) => Date.parse(item.at));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(await openReservations(shop, product.id)).toBe(0);
  });

  it('is cancelled insufficient_stock when the reservation fails: nothing reserved, no charge', async () => {
    const product = await createProduct(shop, { price: 900, stock: 2 });
    const customer = await newCustomer(shop);
    const placed = await placeAcceptedOrder(shop, customer, [
      { productId: product.id, quantity: 3 },
    ]);
    const cancelled = await waitForStatus(shop, customer.token, placed.id, 'cancelled');
    expect(cancelled).toMatchObject({
      cancellationReason: 'insufficient_stock',
      payment: null,
      shipment: null,
    });
    expect(cancelled.cancelledAt).not.toBeNull();
    expect(await stockOf(shop, product.id)).toMatchObject({
      quantityOnHand: 2,
      quantityReserved: 0,
    });
    expect(await paymentsOf(shop, customer.token, placed.id)).toEqual([]);
    expect(await paymentRows(shop, [placed.id])).toEqual([]);
  });

  it('refuses to cancel once shipped: 409 invalid_state_transition, nothing changes', async () => {
    const product = await createProduct(shop, { price: 6000, stock: 1 });
    const customer = await newCustomer(shop);
    const placed = await placeAcceptedOrder(shop, customer, [
      { productId: product.id, quantity: 1 },
    ]);
    // 6000 ≥ 5000: free shipping.
    expect(placed).toMatchObject({ shippingCost: 0, total: 6000 });
    await waitForStatus(shop, customer.token, placed.id, 'shipped');
    const refused = await call(shop.system, 'POST', `/v1/orders/${placed.id}/cancel`, {
      token: customer.token,
    });
    expect(isProblem(refused, 409, 'invalid_state_transition'), describeAnswer(refused)).toBe(true);
    const after = await waitForStatus(shop, customer.token, placed.id, 'shipped');
    expect(after.payment?.status).toBe('succeeded');
    expect(await stockOf(shop, product.id)).toMatchObject({
      quantityOnHand: 0,
      quantityReserved: 0,
    });
  });

  it('replays an order for the same Idempotency-Key and body; another body is 409', async () => {
    const product = await createProduct(shop, { price: 700, stock: 5 });
    const other = await createProduct(shop, { price: 800, stock: 5 });
    const customer = await newCustomer(shop);
    const key = `key-${randomUUID()}`;
    const items = [{ productId: product.id, quantity: 1 }];

    const first = await placeOrder(shop, customer, items, { idempotencyKey: key });
    expect(first.status, describeAnswer(first)).toBe(202);
    const again = await placeOrder(shop, customer, items, { idempotencyKey: key });
    expect(again.status, describeAnswer(again)).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    expect(again.body.orderNumber).toBe(first.body.orderNumber);

    const reused = await placeOrder(shop, customer, [{ productId: other.id, quantity: 1 }], {
      idempotencyKey: key,
    });
    expect(isProblem(reused, 409, 'idempotency_key_reused'), describeAnswer(reused)).toBe(true);

    // Only one order exists, and it ships once: one unit gone, one payment.
    await waitForStatus(shop, customer.token, first.body.id, 'shipped');
    const list = await expectCall<{ items: OrderView[] }>(shop, 'GET', '/v1/orders', 200, {
      token: customer.token,
    });
    expect(list.items.map((order) => order.id)).toEqual([first.body.id]);
    // A replay after the order moved on still answers the same order (200).
    const late = await placeOrder(shop, customer, items, { idempotencyKey: key });
    expect(late.status).toBe(200);
    expect(late.body.id).toBe(first.body.id);
    expect(await stockOf(shop, product.id)).toMatchObject({ quantityOnHand: 4 });
    expect(await stockOf(shop, other.id)).toMatchObject({ quantityOnHand: 5 });
    expect(await paymentsOf(shop, customer.token, first.body.id)).toHaveLength(1);
  });

  it('sells exactly 5 units to 30 concurrent orders: 5 shipped, 25 insufficient_stock', async () => {
    const product = await createProduct(shop, { price: 1000, stock: 5 });
    const customers: Customer[] = [];
    for (let i = 0; i < 6; i += 1) customers.push(await newCustomer(shop));
    const buyers = Array.from({ length: 30 }, (_, i) => customers[i % customers.length]!);

    const answers = await Promise.all(
      buyers.map((customer) =>
        placeOrder(shop, customer, [{ productId: product.id, quantity: 1 }]),
      ),
    );
    for (const answer of answers) expect(answer.status, describeAnswer(answer)).toBe(202);

    const finals = await Promise.all(
      answers.map((answer, i) =>
        waitForOrder(shop, buyers[i]!.token, answer.body.id, ended, {
          timeoutMs: 150_000,
          what: 'shipped or cancelled',
        }),
      ),
    );
    const shipped = finals.filter((order) => order.status === 'shipped');
    const cancelled = finals.filter((order) => order.status === 'cancelled');
    expect(shipped).toHaveLength(5);
    expect(cancelled).toHaveLength(25);
    for (const order of cancelled) {
      expect(order.cancellationReason).toBe('insufficient_stock');
      expect(order.payment).toBeNull();
    }
    for (const order of shipped) expect(order.shipment).not.toBeNull();

    expect(await stockOf(shop, product.id)).toMatchObject({
      quantityOnHand: 0,
      quantityReserved: 0,
      quantityAvailable: 0,
    });
    expect(await openReservations(shop, product.id)).toBe(0);

    const rows = await paymentRows(
      shop,
      finals.map((order) => order.id),
    );
    const shippedIds = new Set(shipped.map((order) => order.id));
    expect(rows.filter((row) => row.status === 'succeeded')).toHaveLength(5);
    expect(rows.every((row) => shippedIds.has(row.orderId))).toBe(true);
    expect(rows).toHaveLength(5);
    // The same through the API, as each customer sees it.
    for (const [i, order] of finals.entries()) {
      const payments = await paymentsOf(shop, buyers[i]!.token, order.id);
      expect(payments.map((payment) => payment.status)).toEqual(
        order.status === 'shipped' ? ['succeeded'] : [],
      );
    }
  });
});
