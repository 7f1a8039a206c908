import {
  classifyCallFailure,
  outcomeOfCharge,
  type CallFailure,
  type ChargeOutcome,
} from '../domain/charge-outcome.js';
import type { PaymentRecord } from '../db/repositories/payments.js';
import type { GuardedProvider } from '../payment-provider/index.js';

export type Settled =
  { kind: 'settled'; outcome: ChargeOutcome } | { kind: 'unknown'; failure: CallFailure };

const settled = (outcome: ChargeOutcome): Settled => ({ kind: 'settled', outcome });

async function lookUp(provider: GuardedProvider, payment: PaymentRecord, notFound: ChargeOutcome) {
  try {
    const found = await provider.findCharge(payment.attemptId);
    return settled(found ? outcomeOfCharge(found) : notFound);
  } catch (error) {
    return { kind: 'unknown', failure: classifyCallFailure(error) } satisfies Settled;
  }
}

/**
 * Finds out what happened to an attempt, charging it only when nothing can have been charged
 * under its key yet. The rules that keep a card from being charged twice:
 * - the attempt id is the provider's idempotency key on every call;
 * - `mode: 'resume'` (the row existed already: a redelivery, a duplicate command, a handler
 *   that died after calling) asks the provider by key before charging;
 * - a call that provably never left (breaker open, connection refused) is a plain failure;
 * - a call that may have left (timeout, reset, 5xx) is settled by asking the provider by key;
 *   if even that cannot be answered, the outcome stays unknown and nothing is replied.
 * `mode: 'lookup-only'` (the reconciler) never charges: no key found means no charge.
 */
export async function settleCharge(
  provider: GuardedProvider,
  payment: PaymentRecord,
  mode: 'fresh' | 'resume' | 'lookup-only',
): Promise<Settled> {
  const neverCharged: ChargeOutcome = {
    kind: 'failed',
    chargeId: null,
    code: 'not_charged',
    message: 'The provider has no charge for this attempt.',
  };
  if (mode !== 'fresh') {
    const known = await lookUp(provider, payment, neverCharged);
    if (known.kind === 'unknown' || mode === 'lookup-only') return known;
    if (known.outcome.kind !== 'failed' || known.outcome.code !== 'not_charged') return known;
  }
  try {
    const charge = await provider.charge({
      idempotencyKey: payment.attemptId,
      amount: payment.amount,
      currency: payment.currency,
      providerPaymentMethodId: payment.providerPaymentMethodId,
      orderId: payment.orderId,
      attemptId: payment.attemptId,
    });
    return settled(outcomeOfCharge(charge));
  } catch (error) {
    const failure = classifyCallFailure(error);
    if (failure.certainty === 'not_sent') {
      return settled({
        kind: 'failed',
        chargeId: null,
        code: failure.code,
        message: failure.message,
      });
    }
    // It may have been charged: only the provider knows. Not found means the call never
    // took effect (the sandbox records a charge before it answers, Stripe before it returns).
    return lookUp(provider, payment, {
      kind: 'failed',
      chargeId: null,
      code: failure.code,
      message: failure.message,
    });
  }
}
