import { randomUUID } from 'node:crypto';
import { RefundPayment } from '@shop/contracts';
import { enqueueMessage, recordAudit, serviceCounter, type Logger } from '@shop/service-kit';
import type { EntityManager } from 'typeorm';
import { classifyCallFailure } from '../domain/charge-outcome.js';
import { ownRefundId } from '../domain/own-refund-id.js';
import { assertTransition } from '../domain/payment-status.js';
import {
  paymentsRepository,
  type PaymentRecord,
  type UnwantedReason,
} from '../db/repositories/payments.js';
import { refundsRepository, type RefundRecord } from '../db/repositories/refunds.js';
import type { GuardedProvider } from '../payment-provider/index.js';
import { replyRefundFailed, replyRefundSucceeded } from './replies.js';

/**
 * Opens a refund of the payment (or finds its live one: pending or succeeded) and asks our own
 * consumer to carry it out through the outbox, so the request commits even if the provider is
 * down. After a refused refund this opens a new one. Used by staff's
 * POST /v1/payments/:id/refund and by the reconciler. `payment` is locked.
 */
export async function requestRefund(
  manager: EntityManager,
  payment: PaymentRecord,
  request: { reason: string; requestedBy: string | null },
): Promise<{ refund: RefundRecord; created: boolean }> {
  const opened = await refundsRepository(manager).findOrCreate(payment, {
    refundId: randomUUID(),
    ...request,
  });
  if (!opened.created) return opened;
  await recordAudit(manager, {
    entityType: 'refund',
    entityId: opened.refund.id,
    action: 'create',
    after: opened.refund,
    userId: request.requestedBy,
  });
  await enqueueMessage(manager, RefundPayment, {
    orderId: payment.orderId,
    refundId: opened.refund.refundId,
    paymentId: payment.id,
    amount: payment.amount,
    currency: payment.currency,
    reason: request.reason,
  });
  return opened;
}

/**
 * Carries out a payment's refund at the provider, with the refund's id as idempotency key, and
 * answers `replyRefundId` (the requester's id). Every answer is a reply; a lost or failed call
 * leaves the refund pending for a retry (same key, so never two refunds); a refusal marks it
 * failed, and only a new refund (new id, new key) can try again.
 */
export async function executeRefund(
  manager: EntityManager,
  payment: PaymentRecord,
  refund: RefundRecord,
  provider: GuardedProvider,
  replyRefundId = refund.refundId,
): Promise<RefundRecord> {
  const about = {
    orderId: refund.orderId,
    refundId: replyRefundId,
    paymentId: refund.paymentId,
    amount: refund.amount,
    currency: refund.currency,
  };
  if (refund.status === 'succeeded') {
    await replyRefundSucceeded(manager, refund, replyRefundId);
    return refund;
  }
  if (refund.status === 'failed') {
    // Refused for good under this key (Stripe would replay the refusal): a retry is a new
    // refund under a new id, never this one again.
    await replyRefundFailed(manager, about, {
      code: refund.failureReason ?? 'refund_failed',
      retryable: false,
    });
    return refund;
  }
  const refunds = refundsRepository(manager);
  let result;
  try {
    result = await provider.refund({
      idempotencyKey: refund.refundId,
      chargeId: payment.providerChargeId ?? '',
      amount: refund.amount,
    });
  } catch (error) {
    const failure = classifyCallFailure(error);
    await replyRefundFailed(manager, about, { ...failure, retryable: true });
    return refund;
  }
  if (result.status === 'refused') {
    const failed = await refunds.markFailed(refund.id, result.code);
    await recordAudit(manager, {
      entityType: 'refund',
      entityId: refund.id,
      action: 'update',
      before: refund,
      after: failed,
    });
    await replyRefundFailed(manager, about, { ...result, retryable: false });
    return failed;
  }
  const done = await refunds.markSucceeded(refund.id, result.refundId);
  await recordAudit(manager, {
    entityType: 'refund',
    entityId: refund.id,
    action: 'update',
    before: refund,
    after: done,
  });
  if (payment.status === 'succeeded') {
    assertTransition(payment.status, 'refunded');
    const refunded = await paymentsRepository(manager).markRefunded(payment.id);
    await recordAudit(manager, {
      entityType: 'payment',
      entityId: payment.id,
      action: 'update',
      before: payment,
      after: refunded,
    });
  }
  await replyRefundSucceeded(manager, done, replyRefundId);
  return done;
}

/**
 * A charge found for an attempt whose order no longer wants it: refunded at the provider now
 * (synchronously: keeping it would break one-success-per-order) and recorded in one step as
 * charged-and-refunded, with the refund and audit rows saying why. Throws if the provider
 * cannot be reached, so the caller's transaction rolls back and it is tried again later, under
 * the same derived refund id (`ownRefundId`), so a refund that did happen is not made twice.
 * A refusal is recorded (failed refund, error log, `payments_unwanted_refund_failures_total`)
 * and the charge stays settled; the reconciler asks again under a new key
 * (`unrefundedUnwanted`). The charge's reply is a failure (`replyToCharge`), never a success.
 */
export async function refundUnwantedCharge(
  manager: EntityManager,
  payment: PaymentRecord,
  chargeId: string,
  reason: UnwantedReason,
  provider: GuardedProvider,
  logger: Logger,
): Promise<PaymentRecord> {
  assertTransition(payment.status, 'refunded');
  const payments = paymentsRepository(manager);
  const refunds = refundsRepository(manager);
  const charged = await payments.settle(payment.id, {
    status: 'refunded',
    providerChargeId: chargeId,
  });
  await recordAudit(manager, {
    entityType: 'payment',
    entityId: payment.id,
    action: 'update',
    before: payment,
    after: { ...charged, refundReason: reason },
  });
  const { refund, created } = await refunds.findOrCreate(charged, {
    refundId: ownRefundId(payment.attemptId, await refunds.failedCount(charged)),
    reason,
    requestedBy: null,
  });
  if (created) {
    await recordAudit(manager, {
      entityType: 'refund',
      entityId: refund.id,
      action: 'create',
      after: refund,
    });
  }
  const result = await provider.refund({
    idempotencyKey: refund.refundId,
    chargeId,
    amount: payment.amount,
  });
  if (result.status === 'refused') {
    // Recorded, not rolled back: a refused key is refused for good (Stripe replays it), so
    // the next try (the reconciler's: `unrefundedUnwanted`) must be a new refund, and the
    // derived id counts this refusal. The charge stays settled, and the saga gets its answer.
    const failed = await refunds.markFailed(refund.id, result.code);
    await recordAudit(manager, {
      entityType: 'refund',
      entityId: refund.id,
      action: 'update',
      before: refund,
      after: failed,
    });
    await replyRefundFailed(
      manager,
      {
        orderId: refund.orderId,
        refundId: refund.refundId,
        paymentId: refund.paymentId,
        amount: refund.amount,
        currency: refund.currency,
      },
      { code: result.code, retryable: false },
    );
    if (provider.registry) {
      serviceCounter(provider.registry, {
        name: 'payments_unwanted_refund_failures_total',
        help: 'Refunds of charges the order no longer wanted that the provider refused (retried later under a new key)',
        labelNames: ['reason'],
      }).inc({ reason });
    }
    logger.error(
      {
        paymentId: payment.id,
        orderId: payment.orderId,
        refundId: refund.refundId,
        reason,
        code: result.code,
      },
      'provider refused to refund a charge the order no longer wants; the reconciler tries again',
    );
    return charged;
  }
  const done = await refunds.markSucceeded(refund.id, result.refundId);
  await replyRefundSucceeded(manager, done);
  return charged;
}

/**
 * A kept charge of an earlier attempt, superseded by `by`, the attempt about to be charged or
 * recorded: only an order's latest attempt may pay for it, and the saga, which issued `by`,
 * ignores the earlier attempt's success. Payments owns this refund (the saga never asks for
 * it). Carried out now, through `executeRefund` (so the reconciler retries it with the same key
 * if its answer is lost), under a derived id that a rolled-back try finds again. `earlier` is
 * locked. Answers whether the money is back, and if not why.
 */
export async function refundSupersededCharge(
  manager: EntityManager,
  earlier: PaymentRecord,
  by: PaymentRecord,
  provider: GuardedProvider,
  logger: Logger,
): Promise<{ refunded: true } | { refunded: false; code: string }> {
  const refunds = refundsRepository(manager);
  const { refund, created } = await refunds.findOrCreate(earlier, {
    refundId: ownRefundId(earlier.attemptId, await refunds.failedCount(earlier)),
    reason: 'attempt_superseded',
    requestedBy: null,
  });
  if (created) {
    await recordAudit(manager, {
      entityType: 'refund',
      entityId: refund.id,
      action: 'create',
      after: { ...refund, supersededBy: by.id },
    });
  }
  logger.warn(
    { paymentId: earlier.id, orderId: earlier.orderId, supersededBy: by.id },
    'an earlier attempt kept a charge the order no longer wants; refunding it',
  );
  const done = await executeRefund(manager, earlier, refund, provider);
  if (done.status === 'succeeded') return { refunded: true };
  return {
    refunded: false,
    code: done.status === 'failed' ? 'superseded_charge_not_refundable' : 'provider_unavailable',
  };
}
