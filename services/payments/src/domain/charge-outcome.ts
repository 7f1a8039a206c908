import type { ProviderCharge } from '../payment-provider/types.js';

/**
 * Turning what the provider said (or did not say) into what payments records and replies.
 * Pure, so every branch is unit-tested: this is where "never charge twice" is decided.
 */

/** Hard declines: another try with the same card will not help. Anything else is transient. */
const HARD_DECLINES = new Set([
  'card_declined',
  'insufficient_funds',
  'expired_card',
  'incorrect_cvc',
  'incorrect_number',
  'invalid_cvc',
  'invalid_expiry_month',
  'invalid_expiry_year',
  'lost_card',
  'stolen_card',
  'fraudulent',
  'do_not_honor',
  'generic_decline',
  'card_not_supported',
  'currency_not_supported',
  'authentication_required',
]);

export type ChargeOutcome =
  | { kind: 'succeeded'; chargeId: string }
  | { kind: 'declined'; chargeId: string | null; code: string; message: string }
  /** Definitely not charged; the saga may try again with a new attempt. */
  | { kind: 'failed'; chargeId: string | null; code: string; message: string };

export function outcomeOfCharge(charge: ProviderCharge): ChargeOutcome {
  if (charge.status === 'succeeded') return { kind: 'succeeded', chargeId: charge.chargeId };
  const kind = HARD_DECLINES.has(charge.code) ? 'declined' : 'failed';
  return { kind, chargeId: charge.chargeId, code: charge.code, message: charge.message };
}

/**
 * A call that threw. `not_sent`: the request provably never reached the provider (the breaker
 * was open, the connection was refused), so nothing was charged. `unknown`: it may have been
 * processed (timeout after sending, connection reset, a 5xx): only asking the provider by
 * idempotency key can tell.
 */
export type CallFailure = { certainty: 'not_sent' | 'unknown'; code: string; message: string };

const NOT_SENT_CODES = new Set([
  'EOPENBREAKER',
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

function codesIn(error: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = error;
  // Walk the cause chain: fetch wraps the socket error, the breaker wraps both.
  for (let depth = 0; current && typeof current === 'object' && depth < 6; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    const errno = (current as { errors?: unknown }).errors;
    if (Array.isArray(errno)) codes.push(...errno.flatMap((inner) => codesIn(inner)));
    current = (current as { cause?: unknown }).cause;
  }
  return codes;
}

export function classifyCallFailure(error: unknown): CallFailure {
  const codes = codesIn(error);
  const message = error instanceof Error ? error.message : String(error);
  if (codes.includes('EOPENBREAKER')) {
    return { certainty: 'not_sent', code: 'provider_unavailable', message };
  }
  const notSent = codes.find((code) => NOT_SENT_CODES.has(code));
  if (notSent) return { certainty: 'not_sent', code: 'provider_unavailable', message };
  if (codes.includes('ETIMEDOUT') || codes.includes('UND_ERR_HEADERS_TIMEOUT')) {
    return { certainty: 'unknown', code: 'timeout', message };
  }
  return { certainty: 'unknown', code: 'provider_error', message };
}

/** What a recorded failure replies: a hard decline, or a transient failure the saga retries. */
export function isHardDecline(code: string): boolean {
  return HARD_DECLINES.has(code);
}
