import {
  IDEMPOTENCY_KEY_HEADER,
  type Charge,
  type ProviderErrorBody,
  type Refund,
} from '../provider/api.js';
import {
  ProviderAnswerError,
  type ChargeRequest,
  type PaymentProvider,
  type ProviderCharge,
  type ProviderRefund,
  type RefundRequest,
} from './types.js';

/** The adapter for the sandbox provider process (src/provider/), over plain HTTP. */
export function createSandboxProvider(baseUrl: string): PaymentProvider {
  const url = (path: string) => new URL(path, baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);

  async function call(
    path: string,
    signal: AbortSignal,
    init: { method: 'GET' | 'POST'; key?: string; body?: unknown; query?: Record<string, string> },
  ): Promise<{ status: number; body: unknown }> {
    const target = url(path);
    for (const [name, value] of Object.entries(init.query ?? {}))
      target.searchParams.set(name, value);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (init.key) headers[IDEMPOTENCY_KEY_HEADER] = init.key;
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(target, {
      method: init.method,
      headers,
      body: init.body === undefined ? null : JSON.stringify(init.body),
      signal,
    });
    const text = await response.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = text;
    }
    // A 5xx (or anything unexpected) is thrown: whether the call took effect is unknown.
    if (response.status >= 500) {
      throw new ProviderAnswerError(
        `payment provider answered ${response.status}`,
        response.status,
        errorCode(body) ?? 'provider_error',
      );
    }
    return { status: response.status, body };
  }

  function errorCode(body: unknown): string | undefined {
    return (body as Partial<ProviderErrorBody> | null)?.error?.code;
  }

  function fromCharge(charge: Charge): ProviderCharge {
    if (charge.status === 'succeeded') return { status: 'succeeded', chargeId: charge.id };
    return {
      status: 'failed',
      chargeId: charge.id,
      code: charge.failureCode ?? 'card_declined',
      message: charge.failureMessage ?? '',
    };
  }

  function unexpected(what: string, status: number, body: unknown): never {
    throw new ProviderAnswerError(
      `payment provider answered ${status} to ${what}`,
      status,
      errorCode(body) ?? 'unexpected_answer',
    );
  }

  return {
    name: 'sandbox',
    // Its ledger is written before it answers, and keys are kept for ever.
    lookupIsAuthoritative: true,
    idempotencyKeyTtlMs: null,
    async charge(request: ChargeRequest, signal: AbortSignal) {
      const { status, body } = await call('v1/charges', signal, {
        method: 'POST',
        key: request.idempotencyKey,
        body: {
          amount: request.amount,
          currency: request.currency,
          paymentMethod: request.providerPaymentMethodId,
          description: `order ${request.orderId} attempt ${request.attemptId}`,
        },
      });
      if (status === 201) return fromCharge(body as Charge);
      const charge = (body as Partial<ProviderErrorBody> | null)?.error?.charge;
      if (status === 402 && charge) return fromCharge(charge);
      // 409 (key reused with other parameters) and 400s land here: not an answer about this
      // charge, so the caller settles it by looking the key up.
      return unexpected('a charge', status, body);
    },

    async findCharge(idempotencyKey: string, signal: AbortSignal) {
      const { status, body } = await call('v1/charges', signal, {
        method: 'GET',
        query: { idempotencyKey },
      });
      if (status === 200) return fromCharge(body as Charge);
      if (status === 404) return null;
      return unexpected('a charge lookup', status, body);
    },

    async refund(request: RefundRequest, signal: AbortSignal): Promise<ProviderRefund> {
      const { status, body } = await call('v1/refunds', signal, {
        method: 'POST',
        key: request.idempotencyKey,
        body: { charge: request.chargeId, amount: request.amount },
      });
      if (status === 201) return { status: 'succeeded', refundId: (body as Refund).id };
      if (status === 400 || status === 404) {
        const error = (body as ProviderErrorBody).error;
        return { status: 'refused', code: error.code, message: error.message };
      }
      return unexpected('a refund', status, body);
    },
  };
}
