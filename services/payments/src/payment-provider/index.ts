import type { Logger, ServiceInfrastructure } from '@shop/service-kit';
import type { PaymentsConfig } from '../config.js';
import { guardProvider, type GuardedProvider } from './guarded.js';
import { createSandboxProvider } from './sandbox.js';
import { createStripeProvider } from './stripe.js';
import type { PaymentProvider } from './types.js';

export type { GuardedProvider } from './guarded.js';
export * from './types.js';

/** The adapter the configuration names, behind the breaker. */
export function createPaymentProvider(
  config: PaymentsConfig,
  deps: { registry?: ServiceInfrastructure['registry']; logger?: Logger } = {},
): GuardedProvider {
  let provider: PaymentProvider;
  if (config.PAYMENT_PROVIDER === 'stripe') {
    if (!config.STRIPE_SECRET_KEY)
      throw new Error('PAYMENT_PROVIDER=stripe needs STRIPE_SECRET_KEY');
    provider = createStripeProvider({
      secretKey: config.STRIPE_SECRET_KEY,
      timeoutMs: config.PAYMENT_PROVIDER_TIMEOUT_MS,
      ...(config.STRIPE_API_HOST ? { host: config.STRIPE_API_HOST } : {}),
      ...(config.STRIPE_API_PORT ? { port: config.STRIPE_API_PORT } : {}),
      ...(config.STRIPE_API_PROTOCOL ? { protocol: config.STRIPE_API_PROTOCOL } : {}),
    });
  } else {
    provider = createSandboxProvider(config.PAYMENT_PROVIDER_URL);
  }
  return guardProvider(provider, {
    timeoutMs: config.PAYMENT_PROVIDER_TIMEOUT_MS,
    resetTimeoutMs: config.PAYMENT_PROVIDER_BREAKER_RESET_MS,
    ...deps,
  });
}
