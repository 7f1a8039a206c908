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

export interface PaymentProvider {
  readonly name: string;
  charge(request: ChargeRequest, signal: AbortSignal): Promise<ProviderCharge>;
  /** The charge made with this key, or null if the provider has none (it never happened). */
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
