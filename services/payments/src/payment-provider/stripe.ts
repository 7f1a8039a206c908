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

/** The SDK takes no AbortSignal: settle on the signal instead, and let its own timeout end it. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
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
 * searching the metadata. Stripe's own network retries are off: the breaker and the caller
 * decide about retrying, and always with the same key.
 */
export function createStripeProvider(settings: StripeSettings): PaymentProvider {
  const stripe = new Stripe(settings.secretKey, {
    maxNetworkRetries: 0,
    timeout: settings.timeoutMs,
    ...(settings.host ? { host: settings.host } : {}),
    ...(settings.port ? { port: settings.port } : {}),
    ...(settings.protocol ? { protocol: settings.protocol } : {}),
  });

  return {
    name: 'stripe',
    async charge(request: ChargeRequest, signal: AbortSignal) {
      try {
        const intent = await abortable(
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
          signal,
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
      const result = await abortable(
        stripe.paymentIntents.search({ query: `metadata['attempt_id']:'${idempotencyKey}'` }),
        signal,
      );
      const intent = result.data[0];
      return intent ? fromIntent(intent as PaymentIntent) : null;
    },

    async refund(request: RefundRequest, signal: AbortSignal): Promise<ProviderRefund> {
      try {
        const refund = await abortable(
          stripe.refunds.create(
            { payment_intent: request.chargeId, amount: request.amount },
            { idempotencyKey: request.idempotencyKey },
          ),
          signal,
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
