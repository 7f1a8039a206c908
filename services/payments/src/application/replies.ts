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
import type { PaymentRecord } from '../db/repositories/payments.js';
import type { RefundRecord } from '../db/repositories/refunds.js';

/**
 * The saga's answer for a settled attempt, built from the row alone: a first settlement and a
 * duplicate command answer the same. A refunded attempt was charged, so it answers succeeded.
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
    case 'refunded':
      await enqueueMessage(manager, ChargeSucceeded, {
        ...common,
        providerChargeId: payment.providerChargeId ?? '',
        succeededAt: at,
      });
      return;
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
