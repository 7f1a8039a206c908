import { recordAudit, type Logger } from '@shop/service-kit';
import type { EntityManager } from 'typeorm';
import type { ChargeOutcome } from '../domain/charge-outcome.js';
import { assertTransition } from '../domain/payment-status.js';
import { paymentsRepository, type PaymentRecord } from '../db/repositories/payments.js';
import type { GuardedProvider } from '../payment-provider/index.js';
import { refundSupersededCharge, refundUnwantedCharge } from './refunds.js';
import { replyToCharge } from './replies.js';

/**
 * Records a settled outcome on a pending attempt (row locked by the caller) and replies to the
 * saga, in the caller's transaction. A charge the order no longer wants (cancelled, superseded,
 * already paid) is refunded at once instead of kept, with an audit row saying why, and answered
 * as a failure. A charge it wants is kept only once no earlier attempt keeps one: those were
 * superseded by this one and are refunded first (payments owns that refund; if the provider
 * cannot take it now, this throws and the attempt stays pending for a retry).
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
      const refunded = await refundUnwantedCharge(
        manager,
        payment,
        outcome.chargeId,
        unwanted,
        deps.provider,
        deps.logger,
      );
      // Answered as a duplicate command would be: a failure naming the reason. The saga is not
      // waiting on this attempt (it cancelled, or issued a later one), but it must never read
      // money given back as a payment.
      await replyToCharge(manager, refunded);
      return refunded;
    }
    const cleared = await refundEarlierCharges(manager, payment, deps);
    if (!cleared.ok) {
      throw new Error(
        `attempt ${payment.attemptId} charged, but an earlier kept charge could not be refunded yet (${cleared.code})`,
      );
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

/**
 * Gives back every kept charge of an attempt earlier than `payment` (see `lockEarlierKept`).
 * `ok: false` when one is not back yet: its refund is pending (asked again later under the
 * same key) or was refused (a person must look; logged).
 */
export async function refundEarlierCharges(
  manager: EntityManager,
  payment: PaymentRecord,
  deps: { provider: GuardedProvider; logger: Logger },
): Promise<{ ok: true } | { ok: false; code: string }> {
  for (const earlier of await paymentsRepository(manager).lockEarlierKept(payment)) {
    const result = await refundSupersededCharge(
      manager,
      earlier,
      payment,
      deps.provider,
      deps.logger,
    );
    if (!result.refunded) {
      deps.logger.error(
        { paymentId: earlier.id, orderId: earlier.orderId, code: result.code },
        'a superseded attempt keeps its charge: its refund did not go through',
      );
      return { ok: false, code: result.code };
    }
  }
  return { ok: true };
}
