import { AsyncLocalStorage } from 'node:async_hooks';
import Stripe from 'stripe';
import {
  ProviderAnswerError,
  type ChargeRequest,
  type PaymentProvider,
  type ProviderCharge,
  type ProviderRefund,
  type RefundRequest,
} from './types.js';

export interface StripeSettings {
  secretKey: string;
  /** Per request; the breaker's timeout should be at least this. */
  timeoutMs: number;
  /** Only for tests (a local server replaying recorded answers) and stripe-mock. */
  host?: string;
  port?: number;
  protocol?: 'http' | 'https';
}

type StripeClient = InstanceType<typeof Stripe>;
type PaymentIntent = Awaited<ReturnType<StripeClient['paymentIntents']['retrieve']>>;

/**
 * The signal of the provider call in progress, for the SDK's HTTP requests. The SDK takes no
 * AbortSignal per call, so the call runs inside this store and the fetch the SDK is given
 * (`signalledFetch`) adds the signal to every request it makes for it. When the breaker gives up
 * on a call, its request is aborted for real (the socket closed), not merely left behind: the
 * create that settles an unknown outcome under the same key must be the only one in flight.
 */
const callSignal = new AsyncLocalStorage<AbortSignal>();

const signalledFetch: typeof fetch = (input, init) => {
  const signal = callSignal.getStore();
  if (!signal) return fetch(input, init);
  const own = init?.signal;
  return fetch(input, { ...init, signal: own ? AbortSignal.any([own, signal]) : signal });
};

/** Runs one SDK call under `signal`: its requests are aborted with it, and it rejects at once. */
function abortable<T>(signal: AbortSignal, call: () => Promise<T>): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    callSignal
      .run(signal, call)
      .then(resolve, reject)
      .finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function fromIntent(intent: PaymentIntent): ProviderCharge {
  switch (intent.status) {
    case 'succeeded':
      return { status: 'succeeded', chargeId: intent.id };
    case 'requires_payment_method': {
      const error = intent.last_payment_error;
      return {
        status: 'failed',
        chargeId: intent.id,
        code: error?.decline_code ?? error?.code ?? 'card_declined',
        message: error?.message ?? 'The payment was declined.',
      };
    }
    case 'requires_action':
      // 3-D Secure: nobody is there to authenticate in a background charge.
      return {
        status: 'failed',
        chargeId: intent.id,
        code: 'authentication_required',
        message: 'The card requires authentication.',
      };
    case 'canceled':
      return { status: 'failed', chargeId: intent.id, code: 'canceled', message: 'Canceled.' };
    default:
      // processing, requires_confirmation, requires_capture: not settled yet.
      throw new ProviderAnswerError(`payment intent is ${intent.status}`, null, intent.status);
  }
}

/**
 * The Stripe adapter: one PaymentIntent per attempt, created and confirmed in one call with the
 * attempt id as Stripe's idempotency key and as metadata, so an unanswered call can be found by
 * searching the metadata, eventually: search lags, so an attempt it does not find is settled by
 * repeating the create under the same key (settleCharge). Stripe's own network retries are
 * off: the breaker and the caller decide about retrying, and always with the same key.
 */
export function createStripeProvider(settings: StripeSettings): PaymentProvider {
  const stripe = new Stripe(settings.secretKey, {
    maxNetworkRetries: 0,
    timeout: settings.timeoutMs,
    httpClient: Stripe.createFetchHttpClient(signalledFetch),
    ...(settings.host ? { host: settings.host } : {}),
    ...(settings.port ? { port: settings.port } : {}),
    ...(settings.protocol ? { protocol: settings.protocol } : {}),
  });

  return {
    name: 'stripe',
    // Search is not read-after-write: a charge made a moment ago may not be found yet.
    lookupIsAuthoritative: false,
    // Stripe keeps keys at least 24 hours; an hour of margin for clocks and slow settling.
    idempotencyKeyTtlMs: 23 * 60 * 60 * 1000,
    async charge(request: ChargeRequest, signal: AbortSignal) {
      try {
        const intent = await abortable(signal, () =>
          stripe.paymentIntents.create(
            {
              amount: request.amount,
              currency: request.currency.toLowerCase(),
              payment_method: request.providerPaymentMethodId,
              // Server-side charge: no customer is there to follow a redirect.
              automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
              confirm: true,
              metadata: { attempt_id: request.attemptId, order_id: request.orderId },
            },
            { idempotencyKey: request.idempotencyKey },
          ),
        );
        return fromIntent(intent);
      } catch (error) {
        // A decline is a 402 card error that still names the intent it failed.
        if (error instanceof Stripe.errors.StripeCardError) {
          const raw = error.raw as { payment_intent?: { id?: string } } | undefined;
          return {
            status: 'failed',
            chargeId: raw?.payment_intent?.id ?? null,
            code: error.decline_code ?? error.code ?? 'card_declined',
            message: error.message,
          };
        }
        throw error;
      }
    },

    async findCharge(idempotencyKey: string, signal: AbortSignal) {
      // Our keys are UUIDs, so they are safe inside the search query's quotes.
      // Not read-after-write (see lookupIsAuthoritative): null here proves nothing.
      const result = await abortable(signal, () =>
        stripe.paymentIntents.search({ query: `metadata['attempt_id']:'${idempotencyKey}'` }),
      );
      const intent = result.data[0];
      return intent ? fromIntent(intent as PaymentIntent) : null;
    },

    async refund(request: RefundRequest, signal: AbortSignal): Promise<ProviderRefund> {
      try {
        const refund = await abortable(signal, () =>
          stripe.refunds.create(
            { payment_intent: request.chargeId, amount: request.amount },
            { idempotencyKey: request.idempotencyKey },
          ),
        );
        if (refund.status === 'failed' || refund.status === 'canceled') {
          return {
            status: 'refused',
            code: refund.failure_reason ?? refund.status,
            message: `refund ${refund.status}`,
          };
        }
        return { status: 'succeeded', refundId: refund.id };
      } catch (error) {
        if (error instanceof Stripe.errors.StripeInvalidRequestError) {
          return {
            status: 'refused',
            code: error.code ?? 'invalid_request',
            message: error.message,
          };
        }
        throw error;
      }
    },
  };
}
