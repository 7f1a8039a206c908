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

type Lookup =
  | { kind: 'found'; outcome: ChargeOutcome }
  | { kind: 'not_found' }
  | { kind: 'unknown'; failure: CallFailure };

const settled = (outcome: ChargeOutcome): Settled => ({ kind: 'settled', outcome });
const unknown = (failure: CallFailure): Settled => ({ kind: 'unknown', failure });
const failedWith = (failure: CallFailure): ChargeOutcome => ({
  kind: 'failed',
  chargeId: null,
  code: failure.code,
  message: failure.message,
});

async function lookUp(provider: GuardedProvider, payment: PaymentRecord): Promise<Lookup> {
  try {
    const found = await provider.findCharge(payment.attemptId);
    return found ? { kind: 'found', outcome: outcomeOfCharge(found) } : { kind: 'not_found' };
  } catch (error) {
    return { kind: 'unknown', failure: classifyCallFailure(error) };
  }
}

/**
 * Finds out what happened to an attempt, charging it only under its own key. The rules that
 * keep a card from being charged twice:
 * - the attempt id is the provider's idempotency key on every call;
 * - `mode: 'resume'` (the row existed already: a redelivery, a duplicate command, a handler
 *   that died after calling) asks the provider by key before charging;
 * - a call that provably never left (breaker open, connection refused) is a plain failure,
 *   unless an earlier call under the key may have charged;
 * - a call that may have left (timeout, reset, 5xx) is settled by asking the provider by key;
 *   if even that cannot be answered, the outcome stays unknown and nothing is replied;
 * - "not found" settles it as not charged only where the lookup is authoritative (the
 *   sandbox's ledger). Elsewhere (Stripe's search lags) it proves nothing: the same create is
 *   repeated under the same key, which the provider answers with the first call's result or
 *   performs once. The breaker aborted the first call's request when it timed out, so the
 *   repeat is the only one of ours in flight. Never repeated once the provider may have
 *   forgotten the key (`idempotencyKeyTtlMs`): then it stays unknown, for a person.
 * `mode: 'lookup-only'` (the reconciler, and an attempt the order no longer wants) makes no
 * charge the key has not seen: with an authoritative lookup, not found means not charged; with
 * another it can only repeat the create under the same key, as above, which charges at most once.
 */
export async function settleCharge(
  provider: GuardedProvider,
  payment: PaymentRecord,
  mode: 'fresh' | 'resume' | 'lookup-only',
  now: Date = new Date(),
): Promise<Settled> {
  if (mode === 'fresh') return create(provider, payment, { earlierMayHaveCharged: false });
  const known = await lookUp(provider, payment);
  if (known.kind === 'found') return settled(known.outcome);
  if (known.kind === 'unknown') return unknown(known.failure);
  if (provider.lookupIsAuthoritative) {
    if (mode === 'lookup-only') {
      return settled({
        kind: 'failed',
        chargeId: null,
        code: 'not_charged',
        message: 'The provider has no charge for this attempt.',
      });
    }
    // Proven never charged: this is the attempt's first charge.
    return create(provider, payment, { earlierMayHaveCharged: false });
  }
  if (!keyStillHonoured(provider, payment, now)) {
    return unknown({
      certainty: 'unknown',
      code: 'idempotency_key_expired',
      message: `attempt ${payment.attemptId} is older than the provider keeps its key; not found by search, so a person must settle it`,
    });
  }
  return create(provider, payment, { earlierMayHaveCharged: true });
}

function keyStillHonoured(provider: GuardedProvider, payment: PaymentRecord, now: Date): boolean {
  if (provider.idempotencyKeyTtlMs === null) return true;
  return Date.parse(payment.attemptedAt) + provider.idempotencyKeyTtlMs > now.getTime();
}

/**
 * Charges under the attempt's key. `earlierMayHaveCharged`: a call under the key may have
 * charged before, so this one is a repeat: its own failure, even one that never left, says
 * nothing about the first, and it is not repeated again here.
 */
async function create(
  provider: GuardedProvider,
  payment: PaymentRecord,
  { earlierMayHaveCharged }: { earlierMayHaveCharged: boolean },
): Promise<Settled> {
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
      return earlierMayHaveCharged ? unknown(failure) : settled(failedWith(failure));
    }
    // It may have been charged: only the provider knows.
    const known = await lookUp(provider, payment);
    if (known.kind === 'found') return settled(known.outcome);
    if (known.kind === 'unknown') return unknown(known.failure);
    // Not found: the call never took effect, where the lookup can say so (the sandbox records
    // a charge before it answers).
    if (provider.lookupIsAuthoritative) return settled(failedWith(failure));
    if (earlierMayHaveCharged) return unknown(failure);
    return create(provider, payment, { earlierMayHaveCharged: true });
  }
}
