import {
  ChargeDeclined,
  ChargeFailed,
  ChargeSucceeded,
  RefundFailed,
  RefundSucceeded,
} from '@shop/contracts';
import { enqueueMessage } from '@shop/service-kit';
import type { EntityManager } from 'typeorm';
import { isHardDecline } from '../domain/charge-outcome.js';
import { UNWANTED_REASONS, type PaymentRecord } from '../db/repositories/payments.js';
import { refundsRepository, type RefundRecord } from '../db/repositories/refunds.js';

/**
 * The saga's answer for a settled attempt, built from the rows alone: a first settlement and a
 * duplicate command answer the same. Succeeded only for the charge payments keeps for the
 * order: the saga confirms the order on it. A refunded attempt answers a failure, whatever it
 * once was: its money is back, so it can never pay for the order. Its code says why it was
 * given back (`attempt_superseded`, `order_cancelled`, `order_already_paid`: payments' own
 * refunds of unwanted charges) or is `refunded` (refunded on request after it paid). A failure
 * is not retried by the saga unless it names its latest attempt, which a refund-as-unwanted
 * never does (the order is cancelled, or a later attempt exists).
 */
export async function replyToCharge(manager: EntityManager, payment: PaymentRecord): Promise<void> {
  const common = {
    orderId: payment.orderId,
    attemptId: payment.attemptId,
    attempt: payment.attempt,
    paymentId: payment.id,
    amount: payment.amount,
    currency: payment.currency,
  };
  const at = payment.settledAt ?? new Date().toISOString();
  switch (payment.status) {
    case 'pending':
      throw new Error(`payment ${payment.id} is not settled; nothing to reply yet`);
    case 'succeeded':
      await enqueueMessage(manager, ChargeSucceeded, {
        ...common,
        providerChargeId: payment.providerChargeId ?? '',
        succeededAt: at,
      });
      return;
    case 'refunded': {
      const reason = await refundsRepository(manager).succeededReason(payment.id);
      const unwanted = (UNWANTED_REASONS as readonly string[]).includes(reason ?? '');
      await enqueueMessage(manager, ChargeFailed, {
        ...common,
        errorCode: unwanted && reason ? reason : 'refunded',
        message: unwanted
          ? 'Charged, then refunded at once: the order no longer wanted this attempt.'
          : 'Charged, then refunded.',
        failedAt: at,
      });
      return;
    }
    case 'failed': {
      const code = payment.failureReason ?? 'processing_error';
      const message = payment.failureMessage ?? undefined;
      if (isHardDecline(code)) {
        await enqueueMessage(manager, ChargeDeclined, {
          ...common,
          declineCode: code,
          ...(message ? { message } : {}),
          declinedAt: at,
        });
      } else {
        await enqueueMessage(manager, ChargeFailed, {
          ...common,
          errorCode: code,
          ...(message ? { message } : {}),
          failedAt: at,
        });
      }
      return;
    }
  }
}

export async function replyRefundSucceeded(
  manager: EntityManager,
  refund: RefundRecord,
  refundId = refund.refundId,
): Promise<void> {
  await enqueueMessage(manager, RefundSucceeded, {
    orderId: refund.orderId,
    refundId,
    paymentId: refund.paymentId,
    amount: refund.amount,
    currency: refund.currency,
    providerRefundId: refund.providerRefundId ?? '',
    refundedAt: refund.updatedAt,
  });
}

export async function replyRefundFailed(
  manager: EntityManager,
  about: { orderId: string; refundId: string; paymentId: string; amount: number; currency: string },
  failure: { code: string; message?: string; retryable: boolean },
): Promise<void> {
  await enqueueMessage(manager, RefundFailed, {
    ...about,
    errorCode: failure.code,
    ...(failure.message ? { message: failure.message } : {}),
    retryable: failure.retryable,
    failedAt: new Date().toISOString(),
  });
}
