import { ChargePayment, OrderCancelled, RefundPayment } from '@shop/contracts';
import { defineHandler, recordAudit } from '@shop/service-kit';
import { recordChargeOutcome, refundEarlierCharges } from '../application/record-charge.js';
import { executeRefund } from '../application/refunds.js';
import { replyRefundFailed, replyToCharge } from '../application/replies.js';
import { settleCharge } from '../application/settle-charge.js';
import { paymentsRepository } from '../db/repositories/payments.js';
import { RefundIdReusedError, refundsRepository } from '../db/repositories/refunds.js';
import type { ChargeOutcome } from '../domain/charge-outcome.js';
import type { GuardedProvider } from '../payment-provider/index.js';

/** Thrown to have the command redelivered later: the charge's outcome could not be learnt. */
export class OutcomeUnknownError extends Error {
  constructor(attemptId: string, cause: string) {
    super(`outcome of attempt ${attemptId} is unknown (${cause}); asking again later`);
    this.name = 'OutcomeUnknownError';
  }
}

/**
 * The provider is built when the service registers (it needs the metrics registry), which is
 * after the consumers start; a message arriving in between waits for it.
 */
export type ProviderSource = () => Promise<GuardedProvider>;

export function chargeHandler(provider: ProviderSource) {
  return defineHandler(ChargePayment, async (data, { manager, logger }) => {
    const gateway = await provider();
    // Committed on its own before the provider is called, so that a crash after the charge
    // leaves a pending attempt for the redelivery and the reconciler to settle.
    const created = await manager.connection.transaction(async (own) => {
      const row = await paymentsRepository(own).insertAttempt(data, gateway.name);
      if (row)
        await recordAudit(own, {
          entityType: 'payment',
          entityId: row.id,
          action: 'create',
          after: row,
        });
      return row !== null;
    });
    // Held until this handler commits: a duplicate command waits here and then answers what
    // this one recorded; the reconciler skips the row while it is locked.
    const payment = await paymentsRepository(manager).lockByAttemptId(data.attemptId);
    if (!payment) throw new Error(`attempt ${data.attemptId} missing after insert`);
    if (payment.status !== 'pending') {
      if (payment.amount !== data.amount || payment.orderId !== data.orderId) {
        logger.warn(
          { attemptId: data.attemptId },
          'charge command reuses an attempt id with other details',
        );
      }
      await replyToCharge(manager, payment);
      return;
    }
    const deps = { provider: gateway, logger };
    // Before the provider hears of it (cheap reads): a command the order no longer wants (a
    // late or duplicate one for a cancelled order, or one of an attempt a later one replaced)
    // is never charged. The same checks run again once charged, for what arrives meanwhile.
    const unwanted = await paymentsRepository(manager).isUnwanted(payment);
    if (unwanted && created) {
      logger.info(
        { attemptId: data.attemptId, orderId: data.orderId, reason: unwanted },
        'charge command for an order that no longer wants it; not charging',
      );
      await recordChargeOutcome(manager, payment, notCharged(unwanted), deps);
      return;
    }
    if (!unwanted) {
      // Earlier attempts' kept charges go back before this one is made, so the card is never
      // charged twice at once; if that cannot be done now, this attempt is not made either.
      // Also on a redelivery (the row exists: its first delivery may have died before this
      // step, and `resume` may charge it now); idempotent, as only kept charges are refunded.
      const cleared = await refundEarlierCharges(manager, payment, deps);
      if (!cleared.ok) {
        // A row from an earlier delivery may have been charged already: declared "not charged"
        // only once the provider says so (a charge found is recorded as usual).
        let outcome = notCharged(cleared.code);
        if (!created) {
          const known = await settleCharge(gateway, payment, 'lookup-only');
          if (known.kind === 'unknown') {
            throw new OutcomeUnknownError(data.attemptId, known.failure.message);
          }
          if (known.outcome.kind === 'succeeded') outcome = known.outcome;
        }
        await recordChargeOutcome(manager, payment, outcome, deps);
        return;
      }
    }
    // A row that existed already may have been charged by a handler that died: it is settled
    // by asking the provider first. When unwanted, it is only resolved, never charged anew
    // (with a lookup that can miss a recent charge, resolving replays the same create).
    const mode = created ? 'fresh' : unwanted ? 'lookup-only' : 'resume';
    const settled = await settleCharge(gateway, payment, mode);
    if (settled.kind === 'unknown') {
      throw new OutcomeUnknownError(data.attemptId, settled.failure.message);
    }
    await recordChargeOutcome(manager, payment, settled.outcome, deps);
  });
}

/** The outcome of an attempt that payments decided not to make: a failure, nothing charged. */
function notCharged(code: string): ChargeOutcome {
  return {
    kind: 'failed',
    chargeId: null,
    code,
    message:
      'Not charged: the order no longer wants this attempt, or an earlier charge is not back yet.',
  };
}

export function refundHandler(provider: ProviderSource) {
  return defineHandler(RefundPayment, async (data, { manager }) => {
    const gateway = await provider();
    const payment = await paymentsRepository(manager).lockById(data.paymentId);
    const about = {
      orderId: data.orderId,
      refundId: data.refundId,
      paymentId: data.paymentId,
      amount: data.amount,
      currency: data.currency,
    };
    if (!payment || payment.orderId !== data.orderId) {
      await replyRefundFailed(manager, about, { code: 'payment_not_found', retryable: false });
      return;
    }
    if (payment.status === 'pending') {
      // Its outcome is being settled; asking again shortly will find it charged or not.
      await replyRefundFailed(manager, about, { code: 'payment_pending', retryable: true });
      return;
    }
    if (payment.status === 'failed') {
      await replyRefundFailed(manager, about, { code: 'not_charged', retryable: false });
      return;
    }
    const refunds = refundsRepository(manager);
    let refund;
    try {
      ({ refund } = await refunds.findOrCreate(payment, {
        refundId: data.refundId,
        reason: data.reason,
        requestedBy: null,
      }));
    } catch (error) {
      if (!(error instanceof RefundIdReusedError)) throw error;
      await replyRefundFailed(manager, about, { code: 'refund_id_reused', retryable: false });
      return;
    }
    await executeRefund(manager, payment, refund, gateway, data.refundId);
  });
}

/** Remembers that an order is cancelled: its kept charge, if any, is the reconciler's to refund. */
export const orderCancelledHandler = defineHandler(OrderCancelled, async (data, { manager }) => {
  await manager.query(
    `INSERT INTO cancelled_orders (order_id, reason, cancelled_at) VALUES ($1, $2, $3)
     ON CONFLICT (order_id) DO NOTHING`,
    [data.orderId, data.cancellationReason, data.cancelledAt],
  );
});
