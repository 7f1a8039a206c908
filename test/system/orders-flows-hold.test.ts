import { waitFor } from '@shop/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, describeAnswer, isProblem, query } from '../support/accounts.js';
import {
  createProduct,
  newCustomer,
  openReservations,
  paymentRows,
  paymentsOf,
  placeAcceptedOrder,
  startShop,
  stockOf,
  stopShop,
  timelineOf,
  waitForStatus,
  type Shop,
} from '../support/shop.js';

// The fulfilment hold (FULFILLMENT_HOLD_SECONDS): a paid order stays `confirmed`, cancellable
// with a refund, until the hold ends and the warehouse is asked to ship; from then on cancel
// is 409. The hold is long enough for a cancel to land on a loaded machine, short enough to
// wait out once.
const HOLD_SECONDS = 10;
let shop: Shop;

beforeAll(async () => {
  shop = await startShop('orders_flows_hold', { FULFILLMENT_HOLD_SECONDS: String(HOLD_SECONDS) });
}, 120_000);

afterAll(async () => {
  await stopShop(shop);
});

describe('fulfilment hold', () => {
  it('cancel after payment, during the hold: refunded, stock released, cancelled customer_request', async () => {
    const product = await createProduct(shop, { price: 2500, stock: 5 });
    const customer = await newCustomer(shop);
    const placed = await placeAcceptedOrder(shop, customer, [
      { productId: product.id, quantity: 2 },
    ]);
    const confirmed = await waitForStatus(shop, customer.token, placed.id, 'confirmed');
    expect(confirmed.payment).toEqual({ status: 'succeeded', attempts: 1 });
    expect(confirmed.shipment).toBeNull();
    expect(await stockOf(shop, product.id)).toMatchObject({
      quantityOnHand: 5,
      quantityReserved: 2,
    });

    const accepted = await call(shop.system, 'POST', `/v1/orders/${placed.id}/cancel`, {
      token: customer.token,
    });
    expect(accepted.status, describeAnswer(accepted)).toBe(202);

    const cancelled = await waitForStatus(shop, customer.token, placed.id, 'cancelled');
    expect(cancelled).toMatchObject({ cancellationReason: 'customer_request', shipment: null });
    expect(cancelled.payment?.status).toBe('refunded');
    const payments = await waitFor(
      async () => {
        const items = await paymentsOf(shop, customer.token, placed.id);
        if (items.length === 1 && items[0]!.status === 'refunded') return items;
        throw new Error(`last: ${JSON.stringify(items)}`);
      },
      'the payment shown refunded',
      { timeoutMs: 60_000, intervalMs: 150 },
    );
    expect(payments[0]!.amount).toBe(placed.total);
    expect(await stockOf(shop, product.id)).toMatchObject({
      quantityOnHand: 5,
      quantityReserved: 0,
    });
    expect(await openReservations(shop, product.id)).toBe(0);
    const steps = (await timelineOf(shop, customer.token, placed.id)).map(
      (item) => `${item.step}:${item.outcome}`,
    );
    expect(steps).toEqual(
      expect.arrayContaining([
        'fulfillment_hold:waiting',
        'cancel:requested',
        'refund_payment:succeeded',
        'release_stock:succeeded',
        'cancel:completed',
      ]),
    );
    expect(steps).not.toContain('ship_order:requested');
    // The warehouse was never asked: no shipment row exists for the order.
    const [row] = await query<{ n: number }>(
      shop.system,
      'SELECT count(*)::int AS n FROM inventory.shipments WHERE order_id = $1',
      [placed.id],
    );
    expect(row!.n).toBe(0);
  });

  it('after the hold the order ships; cancel is then 409 invalid_state_transition', async () => {
    const product = await createProduct(shop, { price: 1800, stock: 3 });
    const customer = await newCustomer(shop);
    const placed = await placeAcceptedOrder(shop, customer, [
      { productId: product.id, quantity: 1 },
    ]);
    const confirmed = await waitForStatus(shop, customer.token, placed.id, 'confirmed');
    const shipped = await waitForStatus(
      shop,
      customer.token,
      placed.id,
      'shipped',
      (HOLD_SECONDS + 60) * 1000,
    );
    // The warehouse was asked no earlier than the hold's end.
    const timeline = await timelineOf(shop, customer.token, placed.id);
    const paidAt = Date.parse(
      timeline.find((item) => item.step === 'charge_payment' && item.outcome === 'succeeded')!.at,
    );
    const askedAt = Date.parse(
      timeline.find((item) => item.step === 'ship_order' && item.outcome === 'requested')!.at,
    );
    expect(askedAt - paidAt).toBeGreaterThanOrEqual(HOLD_SECONDS * 1000);
    expect(timeline.map((item) => `${item.step}:${item.outcome}`)).toEqual([
      'order:accepted',
      'reserve_stock:requested',
      'reserve_stock:succeeded',
      'charge_payment:requested',
      'charge_payment:succeeded',
      'fulfillment_hold:waiting',
      'fulfillment_hold:completed',
      'ship_order:requested',
      'ship_order:succeeded',
    ]);
    expect(confirmed.payment?.status).toBe('succeeded');
    expect(shipped.shipment).not.toBeNull();

    const refused = await call(shop.system, 'POST', `/v1/orders/${placed.id}/cancel`, {
      token: customer.token,
    });
    expect(isProblem(refused, 409, 'invalid_state_transition'), describeAnswer(refused)).toBe(true);
    expect(await stockOf(shop, product.id)).toMatchObject({
      quantityOnHand: 2,
      quantityReserved: 0,
    });
    const rows = await paymentRows(shop, [placed.id]);
    expect(rows.map((row) => row.status)).toEqual(['succeeded']);
  });
});
