import Type from 'typebox';
import { defineMessage, type MessageData } from '../message.js';
import { Currency, PositiveMoney, Timestamp, Uuid } from '../primitives.js';

// Commands payments receives from the order saga.

/**
 * Charge one attempt. Orders mints `attemptId` per attempt and payments uses it as the
 * provider's idempotency key, so a resent command never charges twice; a retry after a
 * transient failure is a new attempt with a new id.
 */
export const ChargePayment = defineMessage(
  'payments.commands.charge',
  1,
  Type.Object({
    orderId: Uuid,
    orderNumber: Type.String({ minLength: 1 }),
    customerId: Uuid,
    attemptId: Uuid,
    attempt: Type.Integer({ minimum: 1 }),
    amount: PositiveMoney,
    currency: Currency,
    paymentMethodId: Uuid,
    // The provider's token (`pm_...`): payments keeps no copy of users' data.
    providerPaymentMethodId: Type.String({ minLength: 1 }),
  }),
);
export type ChargePayment = MessageData<typeof ChargePayment>;

/** Refund a succeeded payment. `refundId`, minted by the sender, is the idempotency key. */
export const RefundPayment = defineMessage(
  'payments.commands.refund',
  1,
  Type.Object({
    orderId: Uuid,
    refundId: Uuid,
    paymentId: Uuid,
    amount: PositiveMoney,
    currency: Currency,
    // Recorded, not acted on (e.g. `customer_request`, `reservation_expired`).
    reason: Type.String({ minLength: 1 }),
  }),
);
export type RefundPayment = MessageData<typeof RefundPayment>;

// Outcomes of a charge attempt. Each echoes `attemptId` so the saga can drop the answer to an
// attempt it has already given up on.

const ChargeOutcomeProperties = {
  orderId: Uuid,
  attemptId: Uuid,
  attempt: Type.Integer({ minimum: 1 }),
  paymentId: Uuid,
  amount: PositiveMoney,
  currency: Currency,
};

/**
 * The charge payments keeps as the order's payment (at most one per order). Sent only for the
 * order's latest attempt as payments knows it: a charge it gives back (the order was cancelled,
 * or a later attempt replaced this one) is answered with ChargeFailed, never with this.
 */
export const ChargeSucceeded = defineMessage(
  'payments.events.charge.succeeded',
  1,
  Type.Object({
    ...ChargeOutcomeProperties,
    providerChargeId: Type.String({ minLength: 1 }),
    succeededAt: Timestamp,
  }),
);
export type ChargeSucceeded = MessageData<typeof ChargeSucceeded>;

/** A hard decline: retrying the same card will not help, the customer must pay another way. */
export const ChargeDeclined = defineMessage(
  'payments.events.charge.declined',
  1,
  Type.Object({
    ...ChargeOutcomeProperties,
    // The provider's decline code (`card_declined`, `insufficient_funds`, ...): open-ended.
    declineCode: Type.String({ minLength: 1 }),
    message: Type.Optional(Type.String()),
    declinedAt: Timestamp,
  }),
);
export type ChargeDeclined = MessageData<typeof ChargeDeclined>;

/**
 * A transient failure (timeout, provider 5xx, breaker open) whose outcome payments has settled
 * as "not charged": the saga may retry with a new attempt after a backoff. Also the answer for
 * an attempt the order no longer wants, not charged or charged and given back at once
 * (`order_cancelled`, `attempt_superseded`, `order_already_paid`), or refunded later on request
 * (`refunded`): net, nothing of it is kept. The saga has moved past such an attempt (it
 * cancelled, issued a later one, or was paid), so it does not retry it.
 */
export const ChargeFailed = defineMessage(
  'payments.events.charge.failed',
  1,
  Type.Object({
    ...ChargeOutcomeProperties,
    // `processing_error`, `timeout`, `provider_unavailable`, ...: open-ended.
    errorCode: Type.String({ minLength: 1 }),
    message: Type.Optional(Type.String()),
    failedAt: Timestamp,
  }),
);
export type ChargeFailed = MessageData<typeof ChargeFailed>;

// Outcomes of a refund, whether the saga or staff (`POST /v1/payments/:id/refund`) asked.

export const RefundSucceeded = defineMessage(
  'payments.events.refund.succeeded',
  1,
  Type.Object({
    orderId: Uuid,
    refundId: Uuid,
    paymentId: Uuid,
    amount: PositiveMoney,
    currency: Currency,
    providerRefundId: Type.String({ minLength: 1 }),
    refundedAt: Timestamp,
  }),
);
export type RefundSucceeded = MessageData<typeof RefundSucceeded>;

export const RefundFailed = defineMessage(
  'payments.events.refund.failed',
  1,
  Type.Object({
    orderId: Uuid,
    refundId: Uuid,
    paymentId: Uuid,
    amount: PositiveMoney,
    currency: Currency,
    errorCode: Type.String({ minLength: 1 }),
    message: Type.Optional(Type.String()),
    // False when asking again cannot help (e.g. the charge is disputed): a person must look.
    retryable: Type.Boolean(),
    failedAt: Timestamp,
  }),
);
export type RefundFailed = MessageData<typeof RefundFailed>;
