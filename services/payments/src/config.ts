import Type, { type Static } from 'typebox';
import { Port, PositiveInteger, ServiceEnvironment, Url } from '@shop/service-kit';

/** The payments service's environment, checked at start: a bad value stops it with one clear line. */
export const PaymentsConfig = Type.Object({
  ...ServiceEnvironment,
  PAYMENTS_PORT: Port(3004),
  /** Which adapter charges cards: the sandbox process (default) or Stripe. */
  PAYMENT_PROVIDER: Type.Union([Type.Literal('sandbox'), Type.Literal('stripe')], {
    default: 'sandbox',
  }),
  PAYMENT_PROVIDER_URL: Url('http://127.0.0.1:3005'),
  STRIPE_SECRET_KEY: Type.Optional(Type.String({ minLength: 1 })),
  /** Where the Stripe SDK connects: only for stripe-mock or recorded-response tests. */
  STRIPE_API_HOST: Type.Optional(Type.String({ minLength: 1 })),
  STRIPE_API_PORT: Type.Optional(Port()),
  STRIPE_API_PROTOCOL: Type.Optional(Type.Union([Type.Literal('http'), Type.Literal('https')])),
  /** Per provider call; past it the outcome is unknown and is settled by a lookup. */
  PAYMENT_PROVIDER_TIMEOUT_MS: PositiveInteger(5000),
  /** How long the breaker stays open before one trial call. */
  PAYMENT_PROVIDER_BREAKER_RESET_MS: PositiveInteger(10_000),
  /** How often the reconciler looks for unsettled charges and unwanted money. */
  PAYMENTS_RECONCILE_INTERVAL_MS: PositiveInteger(30_000),
  /** An attempt pending (or a cancellation unrefunded) this long is the reconciler's to settle. */
  PAYMENTS_RECONCILE_AFTER_MS: PositiveInteger(60_000),
});
export type PaymentsConfig = Static<typeof PaymentsConfig>;
