import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, describeAnswer } from '../support/accounts.js';
import {
  addCard,
  createProduct,
  expectCall,
  newCustomer,
  openReservations,
  paymentRows,
  paymentsOf,
  placeAcceptedOrder,
  startShop,
  stockOf,
  stopShop,
  timelineOf,
  waitForOrder,
  waitForStatus,
  type OrderView,
  type Shop,
} from '../support/shop.js';

// Payment failures end to end through the gateway: declines, the window for a new method,
// transient provider errors retried by the saga, and cancelling while payment is open.
// Transient errors use pm_card_processingError (always a transient processing_error in the
// sandbox), so the test is deterministic: PAYMENT_MAX_ATTEMPTS attempts, then the order waits
// for POST /pay like after a decline, and a good card ships it.
const WINDOW_SECONDS = 15;
const MAX_ATTEMPTS = 3;
let shop: Shop;

beforeAll(async () => {
  shop = await startShop('orders_flows_pay', {
    PAYMENT_RETRY_WINDOW_SECONDS: String(WINDOW_SECONDS),
    PAYMENT_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
  });
}, 120_000);

afterAll(async () => {
  await stopShop(shop);
});

/** Declined (or retries spent) and waiting for POST /pay: still pending, payment failed. */
const awaitingMethod = (order: OrderView) =>
  order.status === 'pending' && order.payment?.status === 'failed';

describe('payment failures through the gateway', () => {
  it('a decline waits for a new method; when the window ends: cancelled payment_declined, stock released', async () => {
    const product = await createProduct(shop, { price: 2000, stock: 4 });
    const customer = await newCustomer(shop, { card: 'pm_card_chargeDeclined' });
    const placed = await placeAcceptedOrder(shop, customer, [
      { productId: product.id, quantity: 2 },
    ]);
    const waiting = await waitForOrder(shop, customer.token, placed.id, awaitingMethod, {
      what: 'awaiting a payment method',
    });
    expect(waiting.payment).toEqual({ status: 'failed', attempts: 1 });
    // The stock stays held for the customer while the window is open.
    expect(await stockOf(shop, product.id)).toMatchObject({
      quantityOnHand: 4,
      quantityReserved: 2,
    });

    const cancelled = await waitForStatus(
      shop,
      customer.token,
      placed.id,
      'cancelled',
      (WINDOW_SECONDS + 60) * 1000,
    );
    expect(cancelled.cancellationReason).toBe('payment_declined');
    expect(await stockOf(shop, product.id)).toMatchObject({
      quantityOnHand: 4,
      quantityReserved: 0,
    });
    expect(await openReservations(shop, product.id)).toBe(0);
    const payments = await paymentsOf(shop, customer.token, placed.id);
    expect(payments.map((payment) => [payment.status, payment.failureReason])).toEqual([
      ['failed', 'card_declined'],
    ]);
    const steps = (await timelineOf(shop, customer.token, placed.id)).map(
      (item) => `${item.step}:${item.outcome}`,
    );
    expect(steps).toEqual(
      expect.arrayContaining([
        'charge_payment:declined',
        'await_payment_method:waiting',
        'await_payment_method:expired',
        'release_stock:requested',
        'release_stock:succeeded',
        'cancel:completed',
      ]),
    );
  });

  it('a decline, then POST /pay with a good card: charged once and shipped', async () => {
    const product = await createProduct(shop, { price: 1500, stock: 3 });
    const customer = await newCustomer(shop, { card: 'pm_card_chargeDeclinedInsufficientFunds' });
    const placed = await placeAcceptedOrder(shop, customer, [
      { productId: product.id, quantity: 1 },
    ]);
    await waitForOrder(shop, customer.token, placed.id, awaitingMethod, {
      what: 'awaiting a payment method',
    });
    const visa = await addCard(shop, customer.token, 'pm_card_visa', '4242');
    const paid = await expectCall<OrderView>(shop, 'POST', `/v1/orders/${placed.id}/pay`, 202, {
      token: customer.token,
      body: { paymentMethodId: visa },
    });
    expect(paid.paymentMethodId).toBe(visa);

    const shipped = await waitForStatus(shop, customer.token, placed.id, 'shipped');
    expect(shipped.payment).toEqual({ status: 'succeeded', attempts: 2 });
    expect(shipped.shipment).not.toBeNull();
    const payments = await paymentsOf(shop, customer.token, placed.id);
    expect(payments.map((payment) => payment.status).sort()).toEqual(['failed', 'succeeded']);
    expect(await stockOf(shop, product.id)).toMatchObject({
      quantityOnHand: 2,
      quantityReserved: 0,
    });
    // Paying again is refused: the order no longer waits for a method.
    const again = await call(shop.system, 'POST', `/v1/orders/${placed.id}/pay`, {
      token: customer.token,
      body: { paymentMethodId: visa },
    });
    expect(again.status, describeAnswer(again)).toBe(409);
  });

  it('transient errors are retried with backoff up to PAYMENT_MAX_ATTEMPTS, then /pay succeeds', async () => {
    const product = await createProduct(shop, { price: 1100, stock: 3 });
    const customer = await newCustomer(shop, { card: 'pm_card_processingError' });
    const placed = await placeAcceptedOrder(shop, customer, [
      { productId: product.id, quantity: 1 },
    ]);
    const waiting = await waitForOrder(shop, customer.token, placed.id, awaitingMethod, {
      what: 'retries spent',
    });
    expect(waiting.payment).toEqual({ status: 'failed', attempts: MAX_ATTEMPTS });
    const failures = await paymentsOf(shop, customer.token, placed.id);
    expect(failures).toHaveLength(MAX_ATTEMPTS);
    expect(failures.every((payment) => payment.status === 'failed')).toBe(true);
    // Each retry is its own attempt (a new attempt id), not the same charge resent.
    expect(new Set(failures.map((payment) => payment.id)).size).toBe(MAX_ATTEMPTS);
    const steps = (await timelineOf(shop, customer.token, placed.id)).map(
      (item) => `${item.step}:${item.outcome}`,
    );
    expect(steps.filter((step) => step === 'charge_payment:retry_scheduled')).toHaveLength(
      MAX_ATTEMPTS - 1,
    );

    const visa = await addCard(shop, customer.token, 'pm_card_mastercard', '4444');
    await expectCall(shop, 'POST', `/v1/orders/${placed.id}/pay`, 202, {
      token: customer.token,
      body: { paymentMethodId: visa },
    });
    const shipped = await waitForStatus(shop, customer.token, placed.id, 'shipped');
    expect(shipped.payment).toEqual({ status: 'succeeded', attempts: MAX_ATTEMPTS + 1 });
    const rows = await paymentRows(shop, [placed.id]);
    expect(rows.filter((row) => row.status === 'succeeded')).toHaveLength(1);
  });

  it('cancel while awaiting a new method: cancelled customer_request, stock released, no charge', async () => {
    const product = await createProduct(shop, { price: 1300, stock: 2 });
    const customer = await newCustomer(shop, { card: 'pm_card_chargeDeclined' });
    const placed = await placeAcceptedOrder(shop, customer, [
      { productId: product.id, quantity: 2 },
    ]);
    await waitForOrder(shop, customer.token, placed.id, awaitingMethod, {
      what: 'awaiting a payment method',
    });
    expect(await stockOf(shop, product.id)).toMatchObject({ quantityReserved: 2 });
    await expectCall(shop, 'POST', `/v1/orders/${placed.id}/cancel`, 202, {
      token: customer.token,
    });
    const cancelled = await waitForStatus(shop, customer.token, placed.id, 'cancelled');
    expect(cancelled.cancellationReason).toBe('customer_request');
    expect(await stockOf(shop, product.id)).toMatchObject({
      quantityOnHand: 2,
      quantityReserved: 0,
    });
    const rows = await paymentRows(shop, [placed.id]);
    expect(rows.map((row) => row.status)).toEqual(['failed']);
    // Cancelling again, or paying now, is refused.
    const again = await call(shop.system, 'POST', `/v1/orders/${placed.id}/cancel`, {
      token: customer.token,
    });
    expect(again.status, describeAnswer(again)).toBe(409);
  });
});
