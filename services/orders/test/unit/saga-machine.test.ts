import {
  ChargePayment,
  OrderCancelled,
  OrderConfirmed,
  OrderDelivered,
  OrderShipped,
  RefundPayment,
  ReleaseStock,
  ReserveStock,
  ShipOrder,
  type MessageContract,
} from '@shop/contracts';
import { describe, expect, it } from 'vitest';
import { canCancel, decide, startSaga } from '../../src/domain/saga/machine.js';
import {
  newSagaData,
  type Decision,
  type Saga,
  type SagaContext,
  type SagaData,
  type SagaEvent,
  type SagaSettings,
  type SagaState,
} from '../../src/domain/saga/types.js';

const T0 = new Date('2026-03-01T12:00:00.000Z');
const settings = {
  stepTimeoutMs: 30_000,
  maxStepResends: 2,
  paymentMaxAttempts: 3,
  paymentBackoffInitialMs: 1000,
  paymentBackoffMaxMs: 60_000,
  paymentWindowMs: 900_000,
  refundMaxAttempts: 2,
  fulfillmentHoldMs: 0,
};

function idSource() {
  let n = 0;
  return () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;
}

function context(
  at = T0,
  sagaSettings: SagaSettings = settings,
  newId: () => string = idSource(),
): SagaContext {
  return { now: at, newId, settings: sagaSettings };
}

const data = (): SagaData =>
  newSagaData({
    orderId: '11111111-1111-4111-8111-111111111111',
    orderNumber: 'ORD-2026-000001',
    customerId: '22222222-2222-4222-8222-222222222222',
    items: [{ productId: '33333333-3333-4333-8333-333333333333', quantity: 2 }],
    total: 3199,
    currency: 'USD',
    shippingAddress: {
      addressId: '44444444-4444-4444-8444-444444444444',
      line1: '1 Main St',
      city: 'Springfield',
      state: 'NY',
      country: 'US',
      postalCode: '12345',
    },
    paymentMethodId: '55555555-5555-4555-8555-555555555555',
    providerPaymentMethodId: 'pm_card_visa',
  });

function applied(decision: Decision) {
  if (decision.outcome !== 'applied')
    throw new Error(`expected applied, got ignored: ${decision.reason}`);
  return decision;
}

/** Runs events in order from a fresh saga, each decided at its own time. */
function run(
  events: (SagaEvent | ((saga: Saga) => SagaEvent))[],
  at = T0,
  sagaSettings: SagaSettings = settings,
): { saga: Saga; last: Decision } {
  // One id source for the whole run, as in production: every minted id is new.
  const newId = idSource();
  let saga = startSaga(data(), context(at, sagaSettings, newId)).saga;
  let last: Decision = { outcome: 'ignored', reason: 'none' };
  for (const step of events) {
    const event = typeof step === 'function' ? step(saga) : step;
    last = decide(
      saga,
      event,
      context(
        saga.deadlineAt && event.type === 'deadline_reached' ? saga.deadlineAt : at,
        sagaSettings,
        newId,
      ),
    );
    if (last.outcome === 'applied') saga = last.saga;
  }
  return { saga, last };
}

const sent = (decision: Decision, contract: MessageContract) =>
  decision.outcome === 'applied' ? decision.messages.filter((m) => m.contract === contract) : [];

const reserved: SagaEvent = { type: 'stock_reserved', expiresAt: '2026-03-01T13:00:00.000Z' };
const succeeded = (saga: Saga): SagaEvent => ({
  type: 'charge_succeeded',
  attemptId: saga.data.attemptId ?? 'x',
  paymentId: '66666666-6666-4666-8666-666666666666',
  amount: 3199,
});
const declined = (saga: Saga): SagaEvent => ({
  type: 'charge_declined',
  attemptId: saga.data.attemptId!,
  code: 'card_declined',
});
const failed = (saga: Saga): SagaEvent => ({
  type: 'charge_failed',
  attemptId: saga.data.attemptId!,
  code: 'processing_error',
});
const deadline: SagaEvent = { type: 'deadline_reached' };
const shipment: SagaEvent = {
  type: 'shipment_created',
  shipment: {
    id: '77777777-7777-4777-8777-777777777777',
    carrier: 'ups',
    trackingNumber: '1Z',
    estimatedDelivery: null,
    shippedAt: '2026-03-01T12:05:00.000Z',
    deliveredAt: null,
  },
};
const refundOf = (saga: Saga) => saga.data.compensation!.refund!;

describe('saga start', () => {
  it('asks the warehouse to reserve, with a deadline', () => {
    const decision = startSaga(data(), context());
    expect(decision.saga.state).toBe('reserving');
    expect(decision.saga.deadlineAt).toEqual(new Date(T0.getTime() + 30_000));
    expect(sent(decision, ReserveStock)).toHaveLength(1);
  });
});

describe('happy path', () => {
  it('reserved → charging with a new attempt id and the total', () => {
    const { saga, last } = run([reserved]);
    expect(saga.state).toBe('charging');
    expect(saga.data.holdsStock).toBe(true);
    const [charge] = sent(last, ChargePayment);
    expect(charge!.data).toMatchObject({
      attempt: 1,
      amount: 3199,
      providerPaymentMethodId: 'pm_card_visa',
    });
    expect(applied(last).order).toMatchObject({ paymentStatus: 'pending', paymentAttempts: 1 });
  });

  it('charge succeeded → confirmed, OrderConfirmed and ShipOrder in the same decision', () => {
    const { saga, last } = run([reserved, succeeded]);
    expect(saga.state).toBe('shipping');
    expect(applied(last).order).toMatchObject({ status: 'confirmed', paymentStatus: 'succeeded' });
    expect(sent(last, OrderConfirmed)).toHaveLength(1);
    expect(sent(last, ShipOrder)).toHaveLength(1);
    expect(canCancel(saga.state)).toBe(false);
  });

  it('shipment created → shipped with the shipment; delivered → delivered', () => {
    const shipped = run([reserved, succeeded, shipment]);
    expect(shipped.saga.state).toBe('shipped');
    expect(shipped.saga.deadlineAt).toBeNull();
    expect(applied(shipped.last).order).toMatchObject({
      status: 'shipped',
      shippedAt: '2026-03-01T12:05:00.000Z',
    });
    expect(sent(shipped.last, OrderShipped)).toHaveLength(1);
    const delivered = run([
      reserved,
      succeeded,
      shipment,
      { type: 'shipment_delivered', shipmentId: 'x', deliveredAt: '2026-03-02T00:00:00.000Z' },
    ]);
    expect(delivered.saga.state).toBe('delivered');
    expect(sent(delivered.last, OrderDelivered)).toHaveLength(1);
  });
});

describe('reservation refused', () => {
  it.each(['insufficient_stock', 'product_unavailable'] as const)(
    '%s cancels at once, nothing to undo',
    (reason) => {
      const { saga, last } = run([{ type: 'stock_rejected', reason, detail: 'short' }]);
      expect(saga.state).toBe('cancelled');
      expect(applied(last).order).toMatchObject({
        status: 'cancelled',
        cancellationReason: reason,
      });
      expect(sent(last, ReleaseStock)).toHaveLength(0);
      expect(sent(last, OrderCancelled)[0]!.data).toMatchObject({
        cancellationReason: reason,
        refunded: false,
      });
    },
  );
});

describe('payment failures', () => {
  it('a transient failure waits a doubling backoff, then charges with a new attempt id', () => {
    const first = run([reserved, failed]);
    expect(first.saga.state).toBe('payment_backoff');
    expect(first.saga.deadlineAt).toEqual(new Date(T0.getTime() + 1000));
    const second = run([reserved, failed, deadline]);
    expect(second.saga.state).toBe('charging');
    const [charge] = sent(second.last, ChargePayment);
    expect(charge!.data).toMatchObject({ attempt: 2 });
    const third = run([reserved, failed, deadline, failed]);
    expect(third.saga.deadlineAt!.getTime() - T0.getTime()).toBe(2000);
  });

  it('retries spent → awaits a new method (payment_failed), order still pending', () => {
    const { saga, last } = run([reserved, failed, deadline, failed, deadline, failed]);
    expect(saga.state).toBe('awaiting_payment_method');
    expect(saga.data.paymentFailure).toBe('payment_failed');
    expect(applied(last).order.status).toBeUndefined();
    expect(applied(last).order).toMatchObject({ paymentStatus: 'failed', paymentAttempts: 3 });
  });

  it('a decline waits the window; its end releases stock and cancels payment_declined', () => {
    const waiting = run([reserved, declined]);
    expect(waiting.saga.state).toBe('awaiting_payment_method');
    expect(waiting.saga.deadlineAt).toEqual(new Date(T0.getTime() + 900_000));
    const expired = run([reserved, declined, deadline]);
    expect(expired.saga.state).toBe('compensating');
    expect(sent(expired.last, ReleaseStock)).toHaveLength(1);
    const done = run([reserved, declined, deadline, { type: 'stock_released' }]);
    expect(done.saga.state).toBe('cancelled');
    expect(applied(done.last).order).toMatchObject({
      status: 'cancelled',
      cancellationReason: 'payment_declined',
    });
  });

  it('window end after failures spent cancels payment_failed', () => {
    const { saga } = run([
      reserved,
      failed,
      deadline,
      failed,
      deadline,
      failed,
      deadline,
      { type: 'stock_released' },
    ]);
    expect(saga.data.compensation?.reason).toBe('payment_failed');
    expect(saga.state).toBe('cancelled');
  });

  it('a new method while waiting charges again; a later decline keeps the first window end', () => {
    const replaced: SagaEvent = {
      type: 'payment_method_replaced',
      paymentMethodId: '88888888-8888-4888-8888-888888888888',
      providerPaymentMethodId: 'pm_card_mastercard',
    };
    const paying = run([reserved, declined, replaced]);
    expect(paying.saga.state).toBe('charging');
    expect(sent(paying.last, ChargePayment)[0]!.data).toMatchObject({
      providerPaymentMethodId: 'pm_card_mastercard',
      attempt: 2,
    });
    const again = run([reserved, declined, replaced, declined]);
    expect(again.saga.deadlineAt).toEqual(new Date(T0.getTime() + 900_000));
  });

  it('a new method outside the window is ignored', () => {
    const replaced: SagaEvent = {
      type: 'payment_method_replaced',
      paymentMethodId: 'x',
      providerPaymentMethodId: 'pm',
    };
    expect(run([reserved, replaced]).last.outcome).toBe('ignored');
  });

  it('a stale decline (another attempt id) is ignored', () => {
    const { last } = run([reserved, { type: 'charge_declined', attemptId: 'old', code: 'x' }]);
    expect(last).toMatchObject({ outcome: 'ignored' });
  });
});

describe('cancellation', () => {
  it('before reservation: releases (in case it lands) then cancels customer_request', () => {
    const cancelling = run([{ type: 'cancel_requested' }]);
    expect(cancelling.saga.state).toBe('compensating');
    expect(sent(cancelling.last, ReleaseStock)).toHaveLength(1);
    const done = run([{ type: 'cancel_requested' }, { type: 'stock_released' }]);
    expect(applied(done.last).order).toMatchObject({
      status: 'cancelled',
      cancellationReason: 'customer_request',
    });
  });

  it('while charging: releases; a success arriving afterwards is refunded', () => {
    const { saga, last } = run([
      reserved,
      { type: 'cancel_requested' },
      { type: 'stock_released' },
    ]);
    expect(saga.state).toBe('cancelled');
    expect(sent(last, OrderCancelled)).toHaveLength(1);
    const late = run([
      reserved,
      (s) => ({ ...succeeded(s), attemptId: s.data.attemptId! }),
      { type: 'cancel_requested' },
    ]);
    expect(late.last.outcome).toBe('ignored'); // already shipping: too late to cancel
    const refunded = run([
      reserved,
      { type: 'cancel_requested' },
      { type: 'stock_released' },
      succeeded,
    ]);
    expect(refunded.saga.state).toBe('compensating');
    expect(sent(refunded.last, RefundPayment)[0]!.data).toMatchObject({
      amount: 3199,
      paymentId: '66666666-6666-4666-8666-666666666666',
    });
    const settled = run([
      reserved,
      { type: 'cancel_requested' },
      { type: 'stock_released' },
      succeeded,
      (s) => ({
        type: 'refund_succeeded',
        refundId: refundOf(s).refundId,
        paymentId: refundOf(s).paymentId,
      }),
    ]);
    expect(settled.saga.state).toBe('cancelled');
    // The order was cancelled once already: no second OrderCancelled.
    expect(sent(settled.last, OrderCancelled)).toHaveLength(0);
    expect(applied(settled.last).order).toEqual({ paymentStatus: 'refunded' });
  });

  it('after a succeeded charge in the window (reservation expired): refund and cancel reservation_expired', () => {
    const { saga, last } = run([reserved, succeeded, { type: 'reservation_expired' }]);
    expect(saga.state).toBe('compensating');
    expect(sent(last, RefundPayment)).toHaveLength(1);
    expect(sent(last, ReleaseStock)).toHaveLength(0);
    const done = run([
      reserved,
      succeeded,
      { type: 'reservation_expired' },
      (s) => ({
        type: 'refund_succeeded',
        refundId: refundOf(s).refundId,
        paymentId: refundOf(s).paymentId,
      }),
    ]);
    expect(applied(done.last).order).toMatchObject({
      status: 'cancelled',
      cancellationReason: 'reservation_expired',
      paymentStatus: 'refunded',
    });
    expect(sent(done.last, OrderCancelled)[0]!.data).toMatchObject({ refunded: true });
  });

  it('is refused once shipped, delivered or cancelled', () => {
    for (const events of [
      [reserved, succeeded, shipment],
      [{ type: 'stock_rejected', reason: 'insufficient_stock', detail: '' } as SagaEvent],
    ]) {
      expect(run([...events, { type: 'cancel_requested' }]).last.outcome).toBe('ignored');
    }
  });
});

describe('deadlines', () => {
  it('resend the step command a bounded number of times, then compensate', () => {
    const once = run([deadline]);
    expect(once.saga.stepResends).toBe(1);
    expect(sent(once.last, ReserveStock)).toHaveLength(1);
    const exhausted = run([deadline, deadline, deadline]);
    expect(exhausted.saga.state).toBe('compensating');
    expect(exhausted.saga.data.compensation?.reason).toBe('product_unavailable');
    expect(sent(exhausted.last, ReleaseStock)).toHaveLength(1);
  });

  it('a charge without answer is resent with the same attempt id, then treated as failed', () => {
    const resent = run([reserved, deadline]);
    expect(sent(resent.last, ChargePayment)[0]!.data).toMatchObject({
      attempt: 1,
      attemptId: resent.saga.data.attemptId,
    });
    expect(run([reserved, deadline, deadline, deadline]).saga.state).toBe(
      'awaiting_payment_method',
    );
  });

  it('a ship without answer ends in needs_attention, the order stays confirmed', () => {
    const { saga, last } = run([reserved, succeeded, deadline, deadline, deadline]);
    expect(saga.state).toBe('needs_attention');
    expect(saga.data.stuckIn).toBe('shipping');
    expect(applied(last).needsAttention).toBe(true);
    expect(applied(last).order.status).toBeUndefined();
  });

  it('a deadline not yet due is ignored; a stray one in a resting state is cleared', () => {
    const saga = startSaga(data(), context()).saga;
    expect(decide(saga, deadline, context(T0)).outcome).toBe('ignored');
    const resting: Saga = { ...saga, state: 'delivered', deadlineAt: T0 };
    expect(applied(decide(resting, deadline, context())).saga.deadlineAt).toBeNull();
  });
});

describe('compensation that keeps failing', () => {
  const cancelAfterPayment = [reserved, succeeded, { type: 'reservation_expired' } as SagaEvent];
  const refundFailed =
    (retryable: boolean) =>
    (s: Saga): SagaEvent => ({
      type: 'refund_failed',
      refundId: refundOf(s).refundId,
      paymentId: refundOf(s).paymentId,
      code: 'provider_error',
      retryable,
    });

  it('retries a failed refund with a new refund id, then goes to needs_attention', () => {
    const retried = run([...cancelAfterPayment, refundFailed(true)]);
    expect(retried.saga.state).toBe('compensating');
    const [refund] = sent(retried.last, RefundPayment);
    expect(refund!.data).toMatchObject({ refundId: refundOf(retried.saga).refundId });
    const stuck = run([...cancelAfterPayment, refundFailed(true), refundFailed(true)]);
    expect(stuck.saga.state).toBe('needs_attention');
    expect(applied(stuck.last).needsAttention).toBe(true);
    expect(applied(stuck.last).order.status).toBeUndefined();
    expect(run([...cancelAfterPayment, refundFailed(false)]).saga.state).toBe('needs_attention');
  });

  it('a staff retry resumes with a fresh refund; its success cancels the order', () => {
    const retried = run([...cancelAfterPayment, refundFailed(false), { type: 'retry_requested' }]);
    expect(retried.saga.state).toBe('compensating');
    expect(sent(retried.last, RefundPayment)).toHaveLength(1);
    const done = run([
      ...cancelAfterPayment,
      refundFailed(false),
      { type: 'retry_requested' },
      (s) => ({
        type: 'refund_succeeded',
        refundId: refundOf(s).refundId,
        paymentId: refundOf(s).paymentId,
      }),
    ]);
    expect(done.saga.state).toBe('cancelled');
  });

  it('a refund that finally succeeds while waiting for a person still completes', () => {
    const { saga } = run([
      ...cancelAfterPayment,
      refundFailed(false),
      (s) => ({
        type: 'refund_succeeded',
        refundId: refundOf(s).refundId,
        paymentId: refundOf(s).paymentId,
      }),
    ]);
    expect(saga.state).toBe('cancelled');
  });

  it('retry outside needs_attention is ignored', () => {
    expect(run([{ type: 'retry_requested' }]).last.outcome).toBe('ignored');
  });
});

describe('duplicates, late and out-of-order events never cause a wrong state', () => {
  const paths: Record<string, (SagaEvent | ((saga: Saga) => SagaEvent))[]> = {
    reserving: [],
    charging: [reserved],
    shipping: [reserved, succeeded],
  };
  it('a second StockReserved in charging or shipping is ignored', () => {
    for (const path of [paths.charging!, paths.shipping!])
      expect(run([...path, reserved]).last.outcome).toBe('ignored');
  });
  it('the same ChargeSucceeded twice is applied once', () => {
    expect(run([...paths.shipping!, succeeded]).last.outcome).toBe('ignored');
  });
  it('a second, different payment for a paid order is left to payments: no refund from here', () => {
    // Only an earlier attempt's charge can be a second payment, and payments refunds those
    // itself; a refund from the saga as well would give one charge two owners.
    const other: SagaEvent = {
      type: 'charge_succeeded',
      attemptId: 'b',
      paymentId: '99999999-9999-4999-8999-999999999999',
      amount: 3199,
    };
    for (const after of [[], [shipment]] as SagaEvent[][]) {
      const { saga, last } = run([...paths.shipping!, ...after, other]);
      expect(last.outcome).toBe('ignored');
      expect(saga.state).toBe(after.length ? 'shipped' : 'shipping');
    }
  });
  it('replies that belong to no waiting step are ignored in every state', () => {
    const strays: SagaEvent[] = [
      { type: 'stock_released' },
      { type: 'refund_succeeded', refundId: 'r', paymentId: 'p' },
      { type: 'refund_failed', refundId: 'r', paymentId: 'p', code: 'x', retryable: true },
      { type: 'shipment_delivered', shipmentId: 's', deliveredAt: '2026-03-02T00:00:00.000Z' },
    ];
    for (const path of Object.values(paths)) {
      const before = run(path).saga;
      for (const stray of strays) {
        // A refund for a cancelled order that never saw its payment is a late charge payments
        // refunded by itself: recorded, not stray (tested below).
        const lateRefund =
          stray.type === 'refund_succeeded' &&
          before.data.paymentId === null &&
          (before.state === 'cancelled' || before.state === 'compensating');
        if (lateRefund) continue;
        expect(run([...path, stray]).last.outcome).toBe('ignored');
      }
    }
    expect(run([shipment]).last.outcome).toBe('ignored');
  });
  it('shows a charge that landed after the cancel, refunded by payments, as refunded', () => {
    const cancelled = run([reserved, { type: 'cancel_requested' }, { type: 'stock_released' }]);
    expect(cancelled.saga.state).toBe('cancelled');
    const paymentId = '88888888-8888-4888-8888-888888888888';
    const { saga, last } = run([
      reserved,
      { type: 'cancel_requested' },
      { type: 'stock_released' },
      { type: 'refund_succeeded', refundId: 'late', paymentId },
    ]);
    const decision = applied(last);
    expect(saga.state).toBe('cancelled');
    expect(saga.data.paymentId).toBe(paymentId);
    expect(decision.messages).toEqual([]);
  });
  it('a reservation landing after a cancellation is released again', () => {
    const { saga, last } = run([
      { type: 'stock_rejected', reason: 'insufficient_stock', detail: '' },
      reserved,
    ]);
    expect(saga.state).toBe('cancelled');
    expect(sent(last, ReleaseStock)).toHaveLength(1);
  });
  it('every state is reachable and handled', () => {
    const seen = new Set<SagaState>();
    for (const events of [
      [],
      [reserved],
      [reserved, failed],
      [reserved, declined],
      paths.shipping!,
      [...paths.shipping!, shipment],
      [{ type: 'cancel_requested' } as SagaEvent],
    ]) {
      seen.add(run(events).saga.state);
    }
    seen.add(run(paths.shipping!, T0, { ...settings, fulfillmentHoldMs: 60_000 }).saga.state);
    expect([...seen].sort()).toEqual([
      'awaiting_payment_method',
      'charging',
      'compensating',
      'fulfillment_hold',
      'payment_backoff',
      'reserving',
      'shipped',
      'shipping',
    ]);
  });
});

describe('fulfilment hold (FULFILLMENT_HOLD_SECONDS)', () => {
  const HOLD_MS = 60_000;
  const held = { ...settings, fulfillmentHoldMs: HOLD_MS };
  const paymentId = '66666666-6666-4666-8666-666666666666';
  const cancel: SagaEvent = { type: 'cancel_requested' };

  it('a paid order is confirmed and waits the hold, no ShipOrder yet, still cancellable', () => {
    const { saga, last } = run([reserved, succeeded], T0, held);
    expect(saga.state).toBe('fulfillment_hold');
    expect(saga.deadlineAt).toEqual(new Date(T0.getTime() + HOLD_MS));
    expect(applied(last).order).toMatchObject({ status: 'confirmed', paymentStatus: 'succeeded' });
    expect(sent(last, OrderConfirmed)).toHaveLength(1);
    expect(sent(last, ShipOrder)).toHaveLength(0);
    expect(applied(last).timeline.map((entry) => `${entry.step}:${entry.outcome}`)).toEqual([
      'charge_payment:succeeded',
      'fulfillment_hold:waiting',
    ]);
    expect(canCancel(saga.state)).toBe(true);
  });

  it('the hold’s deadline issues ShipOrder; from then on cancel is refused', () => {
    const { saga, last } = run([reserved, succeeded, deadline], T0, held);
    expect(saga.state).toBe('shipping');
    expect(sent(last, ShipOrder)).toHaveLength(1);
    expect(saga.deadlineAt).toEqual(new Date(T0.getTime() + HOLD_MS + settings.stepTimeoutMs));
    expect(canCancel(saga.state)).toBe(false);
    expect(run([reserved, succeeded, deadline, cancel], T0, held).last.outcome).toBe('ignored');
    const shipped = run([reserved, succeeded, deadline, shipment], T0, held);
    expect(shipped.saga.state).toBe('shipped');
  });

  it('a deadline before the hold ends is ignored', () => {
    const { saga } = run([reserved, succeeded], T0, held);
    const early = decide(saga, deadline, context(new Date(T0.getTime() + HOLD_MS - 1), held));
    expect(early.outcome).toBe('ignored');
  });

  it('cancel during the hold refunds the charge and releases stock, then cancels customer_request', () => {
    const requested = run([reserved, succeeded, cancel], T0, held);
    expect(requested.saga.state).toBe('compensating');
    expect(sent(requested.last, ShipOrder)).toHaveLength(0);
    expect(sent(requested.last, RefundPayment)[0]!.data).toMatchObject({
      paymentId,
      amount: 3199,
      reason: 'customer_request',
    });
    expect(sent(requested.last, ReleaseStock)[0]!.data).toMatchObject({
      reason: 'customer_request',
    });
    const refundId = refundOf(requested.saga).refundId;
    const done = run(
      [
        reserved,
        succeeded,
        cancel,
        { type: 'refund_succeeded', refundId, paymentId },
        { type: 'stock_released' },
      ],
      T0,
      held,
    );
    expect(done.saga.state).toBe('cancelled');
    expect(done.saga.deadlineAt).toBeNull();
    expect(applied(done.last).order).toMatchObject({
      status: 'cancelled',
      cancellationReason: 'customer_request',
    });
    const [cancelled] = sent(done.last, OrderCancelled);
    expect(cancelled!.data).toMatchObject({ refunded: true });
  });

  it('a duplicate ChargeSucceeded during the hold is ignored; so is a second payment (payments refunds it)', () => {
    expect(run([reserved, succeeded, succeeded], T0, held).last.outcome).toBe('ignored');
    const { saga, last } = run(
      [
        reserved,
        succeeded,
        { type: 'charge_succeeded', attemptId: 'b', paymentId: 'other', amount: 3199 },
      ],
      T0,
      held,
    );
    expect(last.outcome).toBe('ignored');
    expect(saga.state).toBe('fulfillment_hold');
  });

  it('the reservation expiring during the hold refunds and cancels reservation_expired', () => {
    const { saga, last } = run([reserved, succeeded, { type: 'reservation_expired' }], T0, held);
    expect(saga.state).toBe('compensating');
    expect(sent(last, RefundPayment)).toHaveLength(1);
    expect(sent(last, ReleaseStock)).toHaveLength(0);
    expect(saga.data.compensation?.reason).toBe('reservation_expired');
  });

  it('stray replies during the hold are ignored', () => {
    for (const stray of [
      reserved,
      shipment,
      { type: 'stock_released' } as SagaEvent,
      { type: 'shipment_delivered', shipmentId: 's', deliveredAt: T0.toISOString() } as SagaEvent,
      { type: 'retry_requested' } as SagaEvent,
    ]) {
      expect(run([reserved, succeeded, stray], T0, held).last.outcome).toBe('ignored');
    }
  });

  it('hold 0 keeps today’s behaviour: ShipOrder with the confirmation', () => {
    const { saga, last } = run([reserved, succeeded], T0, { ...settings, fulfillmentHoldMs: 0 });
    expect(saga.state).toBe('shipping');
    expect(sent(last, ShipOrder)).toHaveLength(1);
  });
});

describe('only the latest attempt pays (a superseded success never confirms)', () => {
  const A_PAYMENT = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
  const B_PAYMENT = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb';
  const newCard: SagaEvent = {
    type: 'payment_method_replaced',
    paymentMethodId: '88888888-8888-4888-8888-888888888888',
    providerPaymentMethodId: 'pm_card_mastercard',
  };
  // Attempt A's charge never answered: resent twice, then given up on (awaiting a new method).
  const timedOut = [reserved, deadline, deadline, deadline];
  /** The success of whatever attempt was latest when the step before it was applied. */
  const successOf = (attemptId: string, paymentId: string): SagaEvent => ({
    type: 'charge_succeeded',
    attemptId,
    paymentId,
    amount: 3199,
  });
  const attemptA = run(timedOut).saga.data.attemptId!;
  const attemptB = run([...timedOut, newCard]).saga.data.attemptId!;

  it('a late success of the timed-out attempt, while awaiting a new method, still pays', () => {
    const waiting = run(timedOut).saga;
    expect(waiting.state).toBe('awaiting_payment_method');
    expect(waiting.data.attemptId).toBe(attemptA);
    const { saga, last } = run([...timedOut, successOf(attemptA, A_PAYMENT)]);
    expect(saga.state).toBe('shipping');
    expect(saga.data.paymentId).toBe(A_PAYMENT);
    expect(applied(last).order).toMatchObject({ status: 'confirmed', paymentId: A_PAYMENT });
  });

  it('once the customer paid with a new card, the old attempt’s success is ignored, twice, and the new one pays', () => {
    expect(attemptB).not.toBe(attemptA);
    const late = run([...timedOut, newCard, successOf(attemptA, A_PAYMENT)]);
    expect(late.last).toMatchObject({ outcome: 'ignored' });
    expect(late.saga.state).toBe('charging');
    expect(
      run([...timedOut, newCard, successOf(attemptA, A_PAYMENT), successOf(attemptA, A_PAYMENT)])
        .last.outcome,
    ).toBe('ignored');
    const paid = run([
      ...timedOut,
      newCard,
      successOf(attemptA, A_PAYMENT),
      successOf(attemptB, B_PAYMENT),
    ]);
    expect(paid.saga.state).toBe('shipping');
    expect(applied(paid.last).order).toMatchObject({ status: 'confirmed', paymentId: B_PAYMENT });
    expect(sent(paid.last, RefundPayment)).toEqual([]);
  });

  it('the old attempt’s success arriving after the new one paid is ignored: no confirmation, no refund from the saga', () => {
    const { saga, last } = run([
      ...timedOut,
      newCard,
      successOf(attemptB, B_PAYMENT),
      successOf(attemptA, A_PAYMENT),
    ]);
    expect(last).toMatchObject({ outcome: 'ignored' });
    expect(saga.data.paymentId).toBe(B_PAYMENT);
  });

  it('payments’ refund of the superseded charge (its own refund id) changes nothing here', () => {
    for (const reply of [
      { type: 'refund_succeeded', refundId: 'own', paymentId: A_PAYMENT },
      { type: 'refund_failed', refundId: 'own', paymentId: A_PAYMENT, code: 'x', retryable: true },
    ] as SagaEvent[]) {
      expect(run([...timedOut, newCard, reply]).last.outcome).toBe('ignored');
      expect(run([...timedOut, newCard, successOf(attemptB, B_PAYMENT), reply]).last.outcome).toBe(
        'ignored',
      );
    }
  });

  it('an attempt given up on after a transient failure cannot pay once the retry is out', () => {
    const first = run([reserved]).saga.data.attemptId!;
    const retrying = run([reserved, failed, deadline]);
    expect(retrying.saga.data.attemptId).not.toBe(first);
    expect(run([reserved, failed, deadline, successOf(first, A_PAYMENT)]).last.outcome).toBe(
      'ignored',
    );
    // Backing off, no later attempt issued yet: the failed attempt is still the latest.
    expect(run([reserved, failed]).saga.data.attemptId).toBe(first);
  });

  it('after a cancel, the latest attempt’s late success is refunded by the saga, tracked to the end', () => {
    const cancelled = [
      ...timedOut,
      { type: 'cancel_requested' } as SagaEvent,
      { type: 'stock_released' } as SagaEvent,
    ];
    expect(run(cancelled).saga.state).toBe('cancelled');
    const late = run([...cancelled, successOf(attemptA, A_PAYMENT)]);
    expect(late.saga.state).toBe('compensating');
    expect(sent(late.last, RefundPayment)[0]!.data).toMatchObject({ paymentId: A_PAYMENT });
    expect(
      run([...cancelled, successOf(attemptA, A_PAYMENT), successOf(attemptA, A_PAYMENT)]).last
        .outcome,
    ).toBe('ignored');
    const refundFailed = (s: Saga): SagaEvent => ({
      type: 'refund_failed',
      refundId: refundOf(s).refundId,
      paymentId: A_PAYMENT,
      code: 'provider_error',
      retryable: true,
    });
    const stuck = run([...cancelled, successOf(attemptA, A_PAYMENT), refundFailed, refundFailed]);
    expect(stuck.saga.state).toBe('needs_attention');
    expect(applied(stuck.last).needsAttention).toBe(true);
    // The order was cancelled already and stays so: no status change.
    expect(applied(stuck.last).order.status).toBeUndefined();
  });

  it('after a cancel, a superseded attempt’s success is payments’ to refund', () => {
    const cancelledPaying = [...timedOut, newCard, { type: 'cancel_requested' } as SagaEvent];
    expect(run(cancelledPaying).saga.state).toBe('compensating');
    const { last } = run([...cancelledPaying, successOf(attemptA, A_PAYMENT)]);
    expect(last).toMatchObject({ outcome: 'ignored' });
    const done = run([
      ...cancelledPaying,
      { type: 'stock_released' },
      successOf(attemptA, A_PAYMENT),
    ]);
    expect(done.last).toMatchObject({ outcome: 'ignored' });
    expect(done.saga.state).toBe('cancelled');
    // The latest attempt's success, out of order after all that, is the saga's to refund.
    const latest = run([
      ...cancelledPaying,
      { type: 'stock_released' },
      successOf(attemptA, A_PAYMENT),
      successOf(attemptB, B_PAYMENT),
    ]);
    expect(sent(latest.last, RefundPayment)[0]!.data).toMatchObject({ paymentId: B_PAYMENT });
  });

  it('a saga with no attempt on record (stored before attempts were kept) refunds a late success after a cancel', () => {
    const cancelled = run([reserved, { type: 'cancel_requested' }, { type: 'stock_released' }]);
    const legacy: Saga = {
      ...cancelled.saga,
      data: { ...cancelled.saga.data, attemptId: null },
    };
    const decision = applied(decide(legacy, successOf('any', A_PAYMENT), context()));
    expect(decision.saga.state).toBe('compensating');
    expect(sent(decision, RefundPayment)[0]!.data).toMatchObject({ paymentId: A_PAYMENT });
    // While paying, an unknown attempt never pays.
    const paying: Saga = { ...run([reserved]).saga };
    paying.data = { ...paying.data, attemptId: null };
    expect(decide(paying, successOf('any', A_PAYMENT), context()).outcome).toBe('ignored');
  });

  it('a decline or failure of a superseded attempt is stale', () => {
    for (const reply of [
      { type: 'charge_declined', attemptId: attemptA, code: 'card_declined' },
      { type: 'charge_failed', attemptId: attemptA, code: 'attempt_superseded' },
    ] as SagaEvent[]) {
      const { saga, last } = run([...timedOut, newCard, reply]);
      expect(last.outcome).toBe('ignored');
      expect(saga.state).toBe('charging');
    }
  });
});
