import type { CancellationReason } from '@shop/contracts';
import {
  chargePayment,
  orderCancelled,
  orderConfirmed,
  orderDelivered,
  orderShipped,
  refundPayment,
  releaseStock,
  reserveStock,
  shipOrder,
} from './commands.js';
import { createDraft, ignored, type Draft } from './draft.js';
import type {
  Decision,
  Saga,
  SagaContext,
  SagaData,
  SagaEvent,
  SagaSettings,
  SagaState,
  ShipmentSummary,
} from './types.js';

/**
 * The order saga: `decide(saga, event, context)` says what the event changes and what to send,
 * and never does it. The runtime writes the answer in one transaction. An event that does not
 * fit the current state (a duplicate, a late or out-of-order reply) is `ignored` with a reason
 * for the log, and changes nothing.
 *
 *   reserving ──reserved──▶ charging ──succeeded──▶ [fulfillment_hold ─deadline─▶] shipping
 *                                                      ──created──▶ shipped ──▶ delivered
 *      │rejected             │failed: payment_backoff ─deadline─▶ charging (new attempt)
 *      ▼                     │declined / retries spent: awaiting_payment_method ─pay─▶ charging
 *   cancelled ◀── compensating (release stock, refund) ◀── cancel, window over, reservation expired
 */

/** Steps at which the customer (or staff) may still cancel: the warehouse was not asked yet. */
export function canCancel(state: SagaState): boolean {
  return (
    state === 'reserving' ||
    state === 'charging' ||
    state === 'payment_backoff' ||
    state === 'awaiting_payment_method' ||
    state === 'fulfillment_hold'
  );
}

export function canPay(state: SagaState): boolean {
  return state === 'awaiting_payment_method';
}

/** The first step of a new order: ask the warehouse to reserve. */
export function startSaga(data: SagaData, context: SagaContext): Decision & { outcome: 'applied' } {
  const draft = createDraft(
    { state: 'reserving', deadlineAt: null, stepResends: 0, data },
    context,
  );
  draft.startStep();
  draft.send(reserveStock(draft.data));
  draft.step('order', 'accepted');
  draft.step('reserve_stock', 'requested');
  return draft.decision() as Decision & { outcome: 'applied' };
}

export function decide(saga: Saga, event: SagaEvent, context: SagaContext): Decision {
  // A saga waiting for a person still takes replies (a refund that finally went through), as if
  // it were in the step it stopped in; only a retry or a deadline is its own business.
  if (
    saga.state === 'needs_attention' &&
    event.type !== 'retry_requested' &&
    event.type !== 'deadline_reached' &&
    saga.data.stuckIn
  ) {
    const stuckIn = saga.data.stuckIn;
    const inner = decide({ ...saga, state: stuckIn }, event, context);
    if (inner.outcome === 'applied' && inner.saga.state === stuckIn) {
      inner.saga = { ...inner.saga, state: 'needs_attention', deadlineAt: null };
    } else if (inner.outcome === 'applied') {
      inner.saga.data.stuckIn = null;
    }
    return inner;
  }

  const draft = createDraft(saga, context);
  switch (event.type) {
    case 'stock_reserved':
      return onStockReserved(draft, event.expiresAt);
    case 'stock_rejected':
      return onStockRejected(draft, event.reason, event.detail);
    case 'stock_released':
      return onStockReleased(draft);
    case 'reservation_expired':
      return onReservationExpired(draft);
    case 'charge_succeeded':
      return onChargeSucceeded(draft, event.attemptId, event.paymentId, event.amount);
    case 'charge_declined':
      return onChargeDeclined(draft, event.attemptId, event.code);
    case 'charge_failed':
      return onChargeFailed(draft, event.attemptId, event.code);
    case 'refund_succeeded':
      return onRefundSucceeded(draft, event.refundId, event.paymentId);
    case 'refund_failed':
      return onRefundFailed(draft, event.refundId, event.code, event.retryable);
    case 'shipment_created':
      return onShipmentCreated(draft, event.shipment);
    case 'shipment_delivered':
      return onShipmentDelivered(draft, event.shipmentId, event.deliveredAt);
    case 'payment_method_replaced':
      return onPaymentMethodReplaced(draft, event.paymentMethodId, event.providerPaymentMethodId);
    case 'cancel_requested':
      if (!canCancel(draft.state)) return ignored(`cannot cancel in ${draft.state}`);
      draft.step('cancel', 'requested');
      return compensate(draft, 'customer_request');
    case 'retry_requested':
      return onRetry(draft);
    case 'deadline_reached':
      return onDeadline(draft, saga.deadlineAt);
  }
}

// ── steps ─────────────────────────────────────────────────────────────────────────────────

function startCharge(draft: Draft): Decision {
  const { data } = draft;
  data.paymentAttempts += 1;
  data.roundAttempts += 1;
  data.attemptId = draft.context.newId();
  draft.moveTo('charging');
  draft.startStep();
  draft.send(chargePayment(data));
  draft.order({ paymentStatus: 'pending', paymentAttempts: data.paymentAttempts });
  draft.step('charge_payment', 'requested', `attempt ${data.paymentAttempts}`);
  return draft.decision();
}

/** Waits for `POST /pay` until the window that the first failure opened closes. */
function awaitPaymentMethod(
  draft: Draft,
  failure: 'payment_declined' | 'payment_failed',
): Decision {
  const { data } = draft;
  // The attempt stays the order's latest: after a timeout its late success still pays.
  data.paymentFailure = failure;
  data.paymentWindowEndsAt ??= new Date(
    draft.context.now.getTime() + draft.context.settings.paymentWindowMs,
  ).toISOString();
  draft.moveTo('awaiting_payment_method');
  draft.deadlineAt(new Date(data.paymentWindowEndsAt));
  draft.order({ paymentStatus: 'failed', paymentAttempts: data.paymentAttempts });
  draft.step('await_payment_method', 'waiting', `until ${data.paymentWindowEndsAt}`);
  return draft.decision();
}

/**
 * Paid: the order is confirmed. With a fulfilment hold it waits, still cancellable, until the
 * hold's deadline; without one the warehouse is asked to ship in the same decision.
 */
function confirmOrder(draft: Draft, paymentId: string): Decision {
  const { data, context } = draft;
  data.paymentId = paymentId;
  draft.order({
    status: 'confirmed',
    paymentStatus: 'succeeded',
    paymentAttempts: data.paymentAttempts,
    paymentId,
  });
  draft.send(orderConfirmed(data, paymentId, draft.at));
  draft.step('charge_payment', 'succeeded', `payment ${paymentId}`);
  const holdMs = context.settings.fulfillmentHoldMs;
  if (holdMs > 0) {
    draft.moveTo('fulfillment_hold');
    draft.startStep(holdMs);
    draft.step(
      'fulfillment_hold',
      'waiting',
      `until ${new Date(context.now.getTime() + holdMs).toISOString()}`,
    );
    return draft.decision();
  }
  return startShipping(draft);
}

/** From here on the order can no longer be cancelled: the warehouse was asked to ship. */
function startShipping(draft: Draft): Decision {
  draft.moveTo('shipping');
  draft.startStep();
  draft.send(shipOrder(draft.data));
  draft.step('ship_order', 'requested');
  return draft.decision();
}

/**
 * Undo in reverse: refund what was charged, release what is held, then cancel. Anything still
 * in flight (a reservation, a charge) is undone when its late reply arrives.
 */
function compensate(draft: Draft, reason: CancellationReason): Decision {
  const { data } = draft;
  const reservationMayExist = data.holdsStock || draft.state === 'reserving';
  // attemptId stays: if that attempt's charge lands after all, the saga refunds it.
  data.compensation = {
    reason,
    releasePending: reservationMayExist,
    refund: data.paymentId ? newRefund(draft, data.paymentId, data.total) : null,
    refunded: false,
  };
  if (data.compensation.refund) {
    draft.send(refundPayment(data, data.compensation.refund, reason));
    draft.step('refund_payment', 'requested', reason);
  }
  if (data.compensation.releasePending) {
    draft.send(releaseStock(data, reason));
    draft.step('release_stock', 'requested', reason);
  }
  draft.moveTo('compensating');
  draft.startStep();
  return finishIfCompensated(draft);
}

function newRefund(draft: Draft, paymentId: string, amount: number) {
  return { refundId: draft.context.newId(), paymentId, amount, failures: 0 };
}

function finishIfCompensated(draft: Draft): Decision {
  const compensation = draft.data.compensation;
  if (!compensation || compensation.releasePending || compensation.refund) {
    return draft.decision();
  }
  const { data } = draft;
  draft.moveTo('cancelled');
  draft.deadlineAt(null);
  data.holdsStock = false;
  if (data.cancelledAt === null) {
    // The first completion cancels the order; a later one (a late charge refunded) does not.
    data.cancelledAt = draft.at;
    draft.order({
      status: 'cancelled',
      cancellationReason: compensation.reason,
      cancelledAt: draft.at,
    });
    draft.send(orderCancelled(data, compensation.reason, compensation.refunded, draft.at));
    draft.step('cancel', 'completed', compensation.reason);
  } else {
    draft.step('compensation', 'completed', compensation.reason);
  }
  return draft.decision();
}

// ── replies from inventory ────────────────────────────────────────────────────────────────

function onStockReserved(draft: Draft, expiresAt: string): Decision {
  const { data } = draft;
  switch (draft.state) {
    case 'reserving':
      data.holdsStock = true;
      draft.step('reserve_stock', 'succeeded', `reserved until ${expiresAt}`);
      return startCharge(draft);
    case 'compensating':
    case 'cancelled': {
      // A reservation that landed after we gave up on it (or after our release overtook it):
      // release again, the warehouse treats a second release as a no-op.
      const reason = data.compensation?.reason ?? 'customer_request';
      draft.send(releaseStock(data, reason));
      draft.step('release_stock', 'requested', 'late reservation');
      if (draft.state === 'compensating' && data.compensation) {
        data.compensation.releasePending = true;
      }
      return draft.decision();
    }
    default:
      return ignored(`stock reserved again in ${draft.state}`);
  }
}

function onStockRejected(
  draft: Draft,
  reason: 'insufficient_stock' | 'product_unavailable',
  detail: string,
): Decision {
  const { data } = draft;
  if (draft.state === 'reserving') {
    draft.step('reserve_stock', 'rejected', detail);
    data.compensation = { reason, releasePending: false, refund: null, refunded: false };
    return finishIfCompensated(draft);
  }
  if (draft.state === 'compensating' && data.compensation?.releasePending && !data.holdsStock) {
    // Cancelled while reserving and nothing was reserved after all: no release to wait for.
    data.compensation.releasePending = false;
    draft.step('reserve_stock', 'rejected', detail);
    return finishIfCompensated(draft);
  }
  return ignored(`reservation rejected in ${draft.state}`);
}

function onStockReleased(draft: Draft): Decision {
  const compensation = draft.data.compensation;
  if (draft.state !== 'compensating' || !compensation?.releasePending) {
    return ignored(`stock released in ${draft.state}`);
  }
  compensation.releasePending = false;
  draft.data.holdsStock = false;
  draft.step('release_stock', 'succeeded');
  return finishIfCompensated(draft);
}

function onReservationExpired(draft: Draft): Decision {
  switch (draft.state) {
    case 'charging':
    case 'payment_backoff':
    case 'awaiting_payment_method':
    case 'fulfillment_hold':
    case 'shipping':
      // The warehouse already let the stock go: nothing to release, refund any charge.
      draft.data.holdsStock = false;
      draft.step('reserve_stock', 'expired');
      return compensate(draft, 'reservation_expired');
    default:
      return ignored(`reservation expired in ${draft.state}`);
  }
}

function onShipmentCreated(draft: Draft, shipment: ShipmentSummary): Decision {
  if (draft.state !== 'shipping') return ignored(`shipment created in ${draft.state}`);
  draft.data.holdsStock = false;
  draft.moveTo('shipped');
  draft.deadlineAt(null);
  draft.order({ status: 'shipped', shipment, shippedAt: shipment.shippedAt });
  draft.send(orderShipped(draft.data, shipment));
  draft.step('ship_order', 'succeeded', `${shipment.carrier} ${shipment.trackingNumber}`);
  return draft.decision();
}

function onShipmentDelivered(draft: Draft, shipmentId: string, deliveredAt: string): Decision {
  if (draft.state !== 'shipped') return ignored(`shipment delivered in ${draft.state}`);
  draft.moveTo('delivered');
  draft.order({ status: 'delivered', deliveredAt });
  draft.send(orderDelivered(draft.data, shipmentId, deliveredAt));
  draft.step('delivery', 'succeeded');
  return draft.decision();
}

// ── replies from payments ─────────────────────────────────────────────────────────────────

/**
 * Only the order's latest attempt (`data.attemptId`) can pay for it. Once the saga has issued a
 * later attempt, an earlier one is superseded for good, and payments, which sees the later
 * attempt's command, refunds any charge the earlier one made (at once when it settles late,
 * or before it charges the later one if it was kept meanwhile): that refund is payments' to own,
 * so a superseded success is ignored here, never confirmed and never refunded a second time.
 * The same holds after confirmation: any other success is a superseded attempt's.
 */
function onChargeSucceeded(
  draft: Draft,
  attemptId: string,
  paymentId: string,
  amount: number,
): Decision {
  const { data } = draft;
  if (data.paymentId === paymentId) return ignored('charge success already applied');
  const latest = data.attemptId !== null && attemptId === data.attemptId;
  switch (draft.state) {
    case 'charging':
    case 'payment_backoff':
    case 'awaiting_payment_method':
      // The latest attempt pays even if we stopped waiting on it (a timeout while charging).
      if (!latest)
        return ignored(`success of superseded attempt ${attemptId}; payments refunds it`);
      return confirmOrder(draft, paymentId);
    case 'compensating':
    case 'cancelled': {
      // With no attempt on record (a saga stored before attempts were kept past their answer)
      // any success is given back here: refunding is always safe, payments makes one refund.
      if (!latest && data.attemptId !== null)
        return ignored(`success of superseded attempt ${attemptId}; payments refunds it`);
      // The latest attempt's money arrived for an order being (or already) cancelled: payments
      // kept it (it did not know of the cancellation yet), so the saga gives it back, tracked.
      if (data.compensation?.refund?.paymentId === paymentId)
        return ignored('refund already asked');
      const reason = data.compensation?.reason ?? 'customer_request';
      const refund = newRefund(draft, paymentId, amount);
      data.paymentId = paymentId;
      data.compensation = {
        reason,
        releasePending: data.compensation?.releasePending ?? false,
        refund,
        refunded: false,
      };
      draft.order({ paymentStatus: 'succeeded', paymentId });
      draft.send(refundPayment(data, refund, reason));
      draft.step('charge_payment', 'succeeded', 'late, after cancellation');
      draft.step('refund_payment', 'requested', reason);
      draft.moveTo('compensating');
      draft.startStep();
      return draft.decision();
    }
    case 'fulfillment_hold':
    case 'shipping':
    case 'shipped':
    case 'delivered':
      // Paid by the latest attempt already: another payment is a superseded attempt's, which
      // payments refunds (a refund from here too would give one charge two owners).
      return ignored(`second payment ${paymentId} for a paid order; payments refunds it`);
    case 'reserving':
    case 'needs_attention':
      return ignored(`charge succeeded in ${draft.state}`);
  }
}

function onChargeDeclined(draft: Draft, attemptId: string, code: string): Decision {
  if (draft.state !== 'charging' || draft.data.attemptId !== attemptId) {
    return ignored(`stale decline in ${draft.state}`);
  }
  draft.step('charge_payment', 'declined', code);
  return awaitPaymentMethod(draft, 'payment_declined');
}

function onChargeFailed(draft: Draft, attemptId: string, code: string): Decision {
  const { data, context } = draft;
  if (draft.state !== 'charging' || data.attemptId !== attemptId) {
    return ignored(`stale failure in ${draft.state}`);
  }
  draft.step('charge_payment', 'failed', code);
  if (data.roundAttempts >= context.settings.paymentMaxAttempts) {
    return awaitPaymentMethod(draft, 'payment_failed');
  }
  const delay = paymentBackoffMs(data.roundAttempts, context.settings);
  draft.moveTo('payment_backoff');
  draft.startStep(delay);
  draft.order({ paymentStatus: 'pending', paymentAttempts: data.paymentAttempts });
  draft.step('charge_payment', 'retry_scheduled', `in ${delay} ms`);
  return draft.decision();
}

/** Delay before retry `n` (1 = after the first failure): doubling, capped. */
export function paymentBackoffMs(
  failedAttempts: number,
  settings: Pick<SagaSettings, 'paymentBackoffInitialMs' | 'paymentBackoffMaxMs'>,
): number {
  const exponent = Math.max(0, failedAttempts - 1);
  return Math.min(settings.paymentBackoffMaxMs, settings.paymentBackoffInitialMs * 2 ** exponent);
}

function onRefundSucceeded(draft: Draft, refundId: string, paymentId: string): Decision {
  const { data } = draft;
  const compensation = data.compensation;
  if (draft.state === 'compensating' && compensation?.refund?.refundId === refundId) {
    compensation.refund = null;
    compensation.refunded = true;
    draft.order({ paymentStatus: 'refunded' });
    draft.step('refund_payment', 'succeeded');
    return finishIfCompensated(draft);
  }
  if (data.paymentId === null && (draft.state === 'cancelled' || draft.state === 'compensating')) {
    // A charge that landed after the cancel (or a superseded attempt's): payments saw the order
    // no longer wanted it and refunded it itself, answering the charge with a failure, never a
    // success. The order shows that money was taken and given back.
    data.paymentId = paymentId;
    draft.order({ paymentStatus: 'refunded', paymentId });
    draft.step('refund_payment', 'succeeded', `late charge ${paymentId} refunded by payments`);
    return draft.decision();
  }
  if (paymentId === data.paymentId && draft.state !== 'compensating') {
    // Staff refunded the order's payment by hand (POST /v1/payments/:id/refund).
    draft.order({ paymentStatus: 'refunded' });
    draft.step('refund_payment', 'succeeded', 'refunded outside the saga');
    return draft.decision();
  }
  return ignored(`refund ${refundId} succeeded in ${draft.state}`);
}

function onRefundFailed(
  draft: Draft,
  refundId: string,
  code: string,
  retryable: boolean,
): Decision {
  const { data, context } = draft;
  const compensation = data.compensation;
  if (draft.state !== 'compensating' || compensation?.refund?.refundId !== refundId) {
    return ignored(`refund ${refundId} failed in ${draft.state}`);
  }
  const failures = compensation.refund.failures + 1;
  draft.step('refund_payment', 'failed', code);
  if (!retryable || failures >= context.settings.refundMaxAttempts) {
    compensation.refund = { ...compensation.refund, failures };
    draft.flagNeedsAttention(`refund failed ${failures} time(s): ${code}`);
    draft.step('saga', 'needs_attention', data.lastError);
    return draft.decision();
  }
  // A failed refund id is settled as failed on the payments side: a retry is a new refund.
  compensation.refund = {
    ...newRefund(draft, compensation.refund.paymentId, compensation.refund.amount),
    failures,
  };
  draft.send(refundPayment(data, compensation.refund, compensation.reason));
  draft.step('refund_payment', 'requested', `retry ${failures}`);
  draft.startStep();
  return draft.decision();
}

// ── the customer, staff and the clock ─────────────────────────────────────────────────────

function onPaymentMethodReplaced(
  draft: Draft,
  paymentMethodId: string,
  providerPaymentMethodId: string,
): Decision {
  if (!canPay(draft.state)) return ignored(`new payment method in ${draft.state}`);
  const { data } = draft;
  data.paymentMethodId = paymentMethodId;
  data.providerPaymentMethodId = providerPaymentMethodId;
  data.roundAttempts = 0;
  draft.order({ paymentMethodId });
  draft.step('await_payment_method', 'succeeded', 'new payment method');
  return startCharge(draft);
}

function onRetry(draft: Draft): Decision {
  const { data } = draft;
  if (draft.state !== 'needs_attention' || !data.stuckIn) {
    return ignored(`retry in ${draft.state}`);
  }
  const resumeIn = data.stuckIn;
  data.stuckIn = null;
  data.lastError = null;
  draft.moveTo(resumeIn);
  draft.startStep();
  draft.step('saga', 'retried', `resuming ${resumeIn}`);
  resendPending(draft, true);
  return draft.decision();
}

/** Sends the current step's command again; receivers are idempotent per order and step. */
function resendPending(draft: Draft, fresh: boolean): void {
  const { data } = draft;
  switch (draft.state) {
    case 'reserving':
      draft.send(reserveStock(data));
      draft.step('reserve_stock', 'resent');
      return;
    case 'charging':
      draft.send(chargePayment(data));
      draft.step('charge_payment', 'resent', `attempt ${data.paymentAttempts}`);
      return;
    case 'shipping':
      draft.send(shipOrder(data));
      draft.step('ship_order', 'resent');
      return;
    case 'compensating': {
      const compensation = data.compensation;
      if (!compensation) return;
      if (compensation.refund) {
        // After a person looked, a refund that had failed is a new refund; a plain resend
        // after silence keeps its id so payments can recognise it.
        if (fresh)
          compensation.refund = newRefund(
            draft,
            compensation.refund.paymentId,
            compensation.refund.amount,
          );
        draft.send(refundPayment(data, compensation.refund, compensation.reason));
        draft.step('refund_payment', 'resent');
      }
      if (compensation.releasePending) {
        draft.send(releaseStock(data, compensation.reason));
        draft.step('release_stock', 'resent');
      }
      return;
    }
    case 'payment_backoff':
    case 'awaiting_payment_method':
    case 'fulfillment_hold':
    case 'shipped':
    case 'delivered':
    case 'cancelled':
    case 'needs_attention':
      return;
  }
}

function onDeadline(draft: Draft, deadlineAt: Date | null): Decision {
  const { data, context } = draft;
  if (deadlineAt === null || deadlineAt.getTime() > context.now.getTime()) {
    return ignored('deadline not due');
  }
  const canResend = draft.stepResends() < context.settings.maxStepResends;
  switch (draft.state) {
    case 'reserving':
      if (canResend) return resend(draft, 'reserve_stock');
      // The warehouse never answered: give up, releasing in case it did reserve.
      draft.step('reserve_stock', 'timed_out');
      return compensate(draft, 'product_unavailable');
    case 'charging':
      if (canResend) return resend(draft, 'charge_payment');
      // No word from payments: treated like retries spent, the customer may pay another way;
      // if that charge did go through after all, its late success still pays the order.
      draft.step('charge_payment', 'timed_out');
      return awaitPaymentMethod(draft, 'payment_failed');
    case 'payment_backoff':
      return startCharge(draft);
    case 'awaiting_payment_method':
      draft.step('await_payment_method', 'expired');
      return compensate(draft, data.paymentFailure ?? 'payment_declined');
    case 'fulfillment_hold':
      draft.step('fulfillment_hold', 'completed');
      return startShipping(draft);
    case 'shipping':
      if (canResend) return resend(draft, 'ship_order');
      // The parcel may have left: neither cancelling nor waiting on is safe to decide alone.
      draft.step('ship_order', 'timed_out');
      draft.flagNeedsAttention('the warehouse did not answer the ship command');
      draft.step('saga', 'needs_attention', data.lastError);
      return draft.decision();
    case 'compensating':
      if (canResend) {
        draft.resendStep();
        draft.step('compensation', 'timed_out', `resend ${draft.stepResends()}`);
        resendPending(draft, false);
        return draft.decision();
      }
      draft.step('compensation', 'timed_out');
      draft.flagNeedsAttention('compensation got no answer');
      draft.step('saga', 'needs_attention', data.lastError);
      return draft.decision();
    case 'shipped':
    case 'delivered':
    case 'cancelled':
    case 'needs_attention':
      // Nothing waits on a clock here: clear the stray deadline so the timer lets go of it.
      draft.deadlineAt(null);
      return draft.decision();
  }
}

function resend(draft: Draft, step: string): Decision {
  draft.resendStep();
  draft.step(step, 'timed_out', `resend ${draft.stepResends()}`);
  resendPending(draft, false);
  return draft.decision();
}
