/**
 * What payments needs from a card processor, whichever one it is. Definite answers come back
 * as values (a decline is an expected outcome, not an error); a call that did not produce an
 * answer throws, and `classifyCallFailure` (domain/) decides whether it may have taken effect.
 */

export interface ChargeRequest {
  /** The attempt id: the same key never charges twice at the provider. */
  idempotencyKey: string;
  amount: number;
  currency: string;
  providerPaymentMethodId: string;
  /** Recorded at the provider (Stripe metadata), to find a charge by order when debugging. */
  orderId: string;
  attemptId: string;
}

/** A charge as the provider knows it. `failed` carries the provider's code. */
export type ProviderCharge =
  | { status: 'succeeded'; chargeId: string }
  | { status: 'failed'; chargeId: string | null; code: string; message: string };

export interface RefundRequest {
  idempotencyKey: string;
  chargeId: string;
  amount: number;
}

export type ProviderRefund =
  | { status: 'succeeded'; refundId: string }
  /** Refused for good (already refunded elsewhere, charge not refundable). */
  | { status: 'refused'; code: string; message: string };

/** What a provider's answers can be trusted for, which decides how an unknown outcome is settled. */
export interface ProviderGuarantees {
  /**
   * Whether `findCharge` answering null proves that nothing was charged under the key. The
   * sandbox reads its ledger, written before it answers: yes. Stripe's search is not
   * read-after-write (results lag, a minute or more in an outage): no, and there "not found" is
   * settled by repeating the same create under the same key instead, which Stripe answers with
   * the first request's result, or performs once.
   */
  readonly lookupIsAuthoritative: boolean;
  /**
   * How long the provider honours an idempotency key (null: for ever). A create repeated after
   * that could charge a second time, so it is never repeated then.
   */
  readonly idempotencyKeyTtlMs: number | null;
}

export interface PaymentProvider extends ProviderGuarantees {
  readonly name: string;
  charge(request: ChargeRequest, signal: AbortSignal): Promise<ProviderCharge>;
  /**
   * The charge made with this key, or null if the provider has none: proof that it never
   * happened only when `lookupIsAuthoritative`.
   */
  findCharge(idempotencyKey: string, signal: AbortSignal): Promise<ProviderCharge | null>;
  refund(request: RefundRequest, signal: AbortSignal): Promise<ProviderRefund>;
}

/**
 * The provider answered, but with something that is neither a charge nor a decline: a 5xx, a
 * 409 for a key still in flight, a body we cannot read. Whether the call took effect is unknown.
 */
export class ProviderAnswerError extends Error {
  constructor(
    message: string,
    readonly httpStatus: number | null,
    readonly code: string,
  ) {
    super(message);
    this.name = 'ProviderAnswerError';
  }
}
