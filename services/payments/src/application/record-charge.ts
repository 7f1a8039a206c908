import { recordAudit, type Logger } from '@shop/service-kit';
import type { EntityManager } from 'typeorm';
import type { ChargeOutcome } from '../domain/charge-outcome.js';
import { assertTransition } from '../domain/payment-status.js';
import { paymentsRepository, type PaymentRecord } from '../db/repositories/payments.js';
import type { GuardedProvider } from '../payment-provider/index.js';
import { refundUnwantedCharge } from './refunds.js';
import { replyToCharge } from './replies.js';

/**
 * Records a settled outcome on a pending attempt (row locked by the caller) and replies to the
 * saga, in the caller's transaction. A charge the order no longer wants (cancelled, superseded,
 * already paid) is refunded at once instead of kept, with an audit row saying why.
 */
export async function recordChargeOutcome(
  manager: EntityManager,
  payment: PaymentRecord,
  outcome: ChargeOutcome,
  deps: { provider: GuardedProvider; logger: Logger },
): Promise<PaymentRecord> {
  const payments = paymentsRepository(manager);
  if (outcome.kind === 'succeeded') {
    const unwanted = await payments.isUnwanted(payment);
    if (unwanted) {
      deps.logger.warn(
        { paymentId: payment.id, orderId: payment.orderId, reason: unwanted },
        'charge succeeded for an order that no longer wants it; refunding',
      );
      return refundUnwantedCharge(manager, payment, outcome.chargeId, unwanted, deps.provider);
    }
  }
  const status = outcome.kind === 'succeeded' ? 'succeeded' : 'failed';
  assertTransition(payment.status, status);
  const settled = await payments.settle(payment.id, {
    status,
    providerChargeId: outcome.chargeId,
    ...(outcome.kind === 'succeeded'
      ? {}
      : { failureReason: outcome.code, failureMessage: outcome.message }),
  });
  await recordAudit(manager, {
    entityType: 'payment',
    entityId: payment.id,
    action: 'update',
    before: payment,
    after: settled,
  });
  await replyToCharge(manager, settled);
  return settled;
}
