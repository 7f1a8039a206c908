import { randomUUID } from 'node:crypto';
import {
  ChargeDeclined,
  ChargeFailed,
  ChargePayment,
  ChargeSucceeded,
  RefundFailed,
  RefundPayment,
  RefundSucceeded,
  ReleaseStock,
  ReservationExpired,
  ShipOrder,
  StockReleased,
  StockReserved,
  type MessageContract,
  type MessageData,
} from '@shop/contracts';
import { waitFor } from '@shop/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Customer, type Harness } from './harness.js';
import { ordersClient } from './orders-client.js';

let harness: Harness;
let client: ReturnType<typeof ordersClient>;

beforeAll(async () => {
  harness = await startHarness('orders-saga-payments', {
    PAYMENT_RETRY_WINDOW_SECONDS: '4',
    PAYMENT_RETRY_BACKOFF_MS: '100',
    PAYMENT_MAX_ATTEMPTS: '3',
    REFUND_MAX_ATTEMPTS: '2',
  });
  client = ordersClient(harness);
});
afterAll(() => harness.stop());

const now = () => new Date().toISOString();

async function nth<C extends MessageContract>(
  stream: string,
  contract: C,
  orderId: string,
  n: number,
) {
  const found = await waitFor(async () => {
    const messages = await harness.messages(stream, contract, orderId);
    return messages.length >= n && messages;
  }, `${n} × ${contract.type}`);
  return found[n - 1]!.data as MessageData<C>;
}

async function orderInCharging(customer: Customer) {
  const productId = harness.product(2000);
  const order = (await client.place(customer.token, client.body(customer, productId))).json<{
    id: string;
  }>();
  await harness.publish(StockReserved, {
    orderId: order.id,
    items: [{ productId, quantity: 1 }],
    reservedAt: now(),
    expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
  });
  const charge = await nth('PAYMENTS', ChargePayment, order.id, 1);
  return { orderId: order.id, charge };
}

const outcome = (charge: MessageData<typeof ChargePayment>) => ({
  orderId: charge.orderId,
  attemptId: charge.attemptId,
  attempt: charge.attempt,
  paymentId: randomUUID(),
  amount: charge.amount,
  currency: 'USD',
});

async function statusOf(customer: Customer, orderId: string, status: string) {
  return waitFor(async () => {
    const order = await client.get(customer.token, orderId);
    return order.status === status && order;
  }, `order ${status}`);
}

describe('payment outcomes', () => {
  it('a decline waits for a new method; when the window ends the stock is released and the order cancelled', async () => {
    const customer = await harness.customer();
    const { orderId, charge } = await orderInCharging(customer);
    const decline = await harness.publish(ChargeDeclined, {
      ...outcome(charge),
      declineCode: 'card_declined',
      declinedAt: now(),
    });
    // The same decline delivered again (a new message id) is ignored.
    await harness.republish(decline, true);
    await waitFor(
      async () => (await client.get(customer.token, orderId)).payment?.status === 'failed',
      'payment failed',
    );
    expect((await client.get(customer.token, orderId)).status).toBe('pending');

    const release = await nth('INVENTORY', ReleaseStock, orderId, 1);
    expect(release.reason).toBe('payment_declined');
    await harness.publish(StockReleased, {
      orderId,
      items: [],
      reason: 'payment_declined',
      releasedAt: now(),
    });
    const cancelled = await statusOf(customer, orderId, 'cancelled');
    expect(cancelled.cancellationReason).toBe('payment_declined');
    const timeline = await client.timeline(customer.token, orderId);
    expect(timeline.items.filter((item) => item.outcome === 'declined')).toHaveLength(1);
    // Paying after the window closed is a conflict.
    expect(
      (await client.pay(customer.token, orderId, customer.secondPaymentMethodId)).statusCode,
    ).toBe(409);
  });

  it('a decline then POST /pay with another card charges again and confirms', async () => {
    const customer = await harness.customer();
    const other = await harness.customer();
    const { orderId, charge } = await orderInCharging(customer);
    // Not waiting for a method yet.
    expect(
      (await client.pay(customer.token, orderId, customer.secondPaymentMethodId)).statusCode,
    ).toBe(409);
    await harness.publish(ChargeDeclined, {
      ...outcome(charge),
      declineCode: 'insufficient_funds',
      declinedAt: now(),
    });
    await waitFor(
      async () => (await client.get(customer.token, orderId)).payment?.status === 'failed',
      'declined',
    );

    // Someone else's card is refused, and so is a stranger acting on the order.
    const notTheirs = await client.pay(customer.token, orderId, other.paymentMethodId);
    expect(notTheirs.statusCode).toBe(422);
    expect((await client.pay(other.token, orderId, other.paymentMethodId)).statusCode).toBe(404);

    const paid = await client.pay(customer.token, orderId, customer.secondPaymentMethodId);
    expect(paid.statusCode).toBe(202);
    expect(paid.json()).toMatchObject({
      paymentMethodId: customer.secondPaymentMethodId,
      payment: { status: 'pending', attempts: 2 },
    });
    const second = await nth('PAYMENTS', ChargePayment, orderId, 2);
    expect(second).toMatchObject({ attempt: 2, providerPaymentMethodId: 'pm_card_mastercard' });
    expect(second.attemptId).not.toBe(charge.attemptId);
    await harness.publish(ChargeSucceeded, {
      ...outcome(second),
      providerChargeId: 'ch_2',
      succeededAt: now(),
    });
    const confirmed = await statusOf(customer, orderId, 'confirmed');
    expect(confirmed.payment).toEqual({ status: 'succeeded', attempts: 2 });
    await nth('INVENTORY', ShipOrder, orderId, 1);
  });

  it('transient failures are retried with new attempts after a backoff, then succeed', async () => {
    const customer = await harness.customer();
    const { orderId, charge } = await orderInCharging(customer);
    await harness.publish(ChargeFailed, {
      ...outcome(charge),
      errorCode: 'processing_error',
      failedAt: now(),
    });
    const second = await nth('PAYMENTS', ChargePayment, orderId, 2);
    expect(second.attempt).toBe(2);
    await harness.publish(ChargeFailed, {
      ...outcome(second),
      errorCode: 'timeout',
      failedAt: now(),
    });
    const third = await nth('PAYMENTS', ChargePayment, orderId, 3);
    expect(new Set([charge.attemptId, second.attemptId, third.attemptId]).size).toBe(3);
    await harness.publish(ChargeSucceeded, {
      ...outcome(third),
      providerChargeId: 'ch_3',
      succeededAt: now(),
    });
    const confirmed = await statusOf(customer, orderId, 'confirmed');
    expect(confirmed.payment).toEqual({ status: 'succeeded', attempts: 3 });
    const retries = (await client.timeline(customer.token, orderId)).items.filter(
      (item) => item.outcome === 'retry_scheduled',
    );
    expect(retries.map((item) => item.detail)).toEqual(['in 100 ms', 'in 200 ms']);
  });

  it('cancel before payment releases stock; a charge that lands afterwards is refunded', async () => {
    const customer = await harness.customer();
    const { orderId, charge } = await orderInCharging(customer);
    const cancel = await client.cancel(customer.token, orderId);
    expect(cancel.statusCode).toBe(202);
    // Asked again while under way: accepted, nothing new.
    expect((await client.cancel(customer.token, orderId)).statusCode).toBe(202);
    expect((await nth('INVENTORY', ReleaseStock, orderId, 1)).reason).toBe('customer_request');
    await harness.publish(StockReleased, {
      orderId,
      items: [],
      reason: 'customer_request',
      releasedAt: now(),
    });
    const cancelled = await statusOf(customer, orderId, 'cancelled');
    expect(cancelled.cancellationReason).toBe('customer_request');
    expect(await harness.messages('PAYMENTS', RefundPayment, orderId)).toHaveLength(0);

    // The charge in flight when the customer cancelled goes through: the money goes back.
    const paid = outcome(charge);
    await harness.publish(ChargeSucceeded, {
      ...paid,
      providerChargeId: 'ch_4',
      succeededAt: now(),
    });
    const refund = await nth('PAYMENTS', RefundPayment, orderId, 1);
    expect(refund).toMatchObject({ paymentId: paid.paymentId, amount: charge.amount });
    await harness.publish(RefundSucceeded, {
      orderId,
      refundId: refund.refundId,
      paymentId: paid.paymentId,
      amount: refund.amount,
      currency: 'USD',
      providerRefundId: 're_1',
      refundedAt: now(),
    });
    await waitFor(
      async () => (await client.get(customer.token, orderId)).payment?.status === 'refunded',
      'refunded',
    );
    expect((await client.get(customer.token, orderId)).status).toBe('cancelled');
    expect(await harness.messages('INVENTORY', ShipOrder, orderId)).toHaveLength(0);
  });
});

describe('a compensation that keeps failing', () => {
  it('goes to needs_attention (order keeps its status, metric counts it) until staff retry it', async () => {
    const customer = await harness.customer();
    const staff = await harness.token(randomUUID(), 'employee');
    const { orderId, charge } = await orderInCharging(customer);
    const paid = outcome(charge);
    await harness.publish(ChargeSucceeded, {
      ...paid,
      providerChargeId: 'ch_5',
      succeededAt: now(),
    });
    await statusOf(customer, orderId, 'confirmed');
    await harness.publish(ReservationExpired, {
      orderId,
      items: [],
      reservedAt: now(),
      expiredAt: now(),
    });
    const first = await nth('PAYMENTS', RefundPayment, orderId, 1);
    const fail = (refundId: string, retryable: boolean) =>
      harness.publish(RefundFailed, {
        orderId,
        refundId,
        paymentId: paid.paymentId,
        amount: first.amount,
        currency: 'USD',
        errorCode: 'provider_error',
        retryable,
        failedAt: now(),
      });
    await fail(first.refundId, true);
    const second = await nth('PAYMENTS', RefundPayment, orderId, 2);
    expect(second.refundId).not.toBe(first.refundId);
    await fail(second.refundId, true);

    const list = async () =>
      (
        await client.request({
          method: 'GET',
          url: '/v1/orders/sagas?state=needs_attention',
          headers: client.auth(staff),
        })
      ).json<{ items: { orderId: string; stuckIn: string }[] }>();
    const stuck = await waitFor(
      async () => (await list()).items.find((item) => item.orderId === orderId),
      'needs_attention',
    );
    expect(stuck.stuckIn).toBe('compensating');
    expect((await client.get(customer.token, orderId)).status).toBe('confirmed');
    const metrics = await client.request({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/orders_saga_needs_attention_total\{[^}]*\} [1-9]/);
    expect(metrics.body).toMatch(/orders_sagas_needing_attention\{[^}]*\} [1-9]/);

    // Customers may not look at sagas or retry them; staff may.
    expect(
      (
        await client.request({
          method: 'GET',
          url: '/v1/orders/sagas',
          headers: client.auth(customer.token),
        })
      ).statusCode,
    ).toBe(403);
    const retry = await client.request({
      method: 'POST',
      url: `/v1/orders/${orderId}/saga/retry`,
      headers: client.auth(staff),
    });
    expect(retry.statusCode).toBe(202);
    const third = await nth('PAYMENTS', RefundPayment, orderId, 3);
    await harness.publish(RefundSucceeded, {
      orderId,
      refundId: third.refundId,
      paymentId: paid.paymentId,
      amount: third.amount,
      currency: 'USD',
      providerRefundId: 're_2',
      refundedAt: now(),
    });
    const cancelled = await statusOf(customer, orderId, 'cancelled');
    expect(cancelled).toMatchObject({
      cancellationReason: 'reservation_expired',
      payment: { status: 'refunded' },
    });
    const again = await client.request({
      method: 'POST',
      url: `/v1/orders/${orderId}/saga/retry`,
      headers: client.auth(staff),
    });
    expect(again.statusCode).toBe(409);
  });
});
