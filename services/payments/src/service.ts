import type { ServiceDefinition } from '@shop/service-kit';
import { registerPaymentsApp } from './app.js';
import type { PaymentsConfig } from './config.js';
import { paymentsDatabase } from './db/index.js';
import { paymentsConsumers, paymentsStreams } from './messaging/topology.js';
import { createPaymentProvider, type GuardedProvider } from './payment-provider/index.js';

/** Everything that makes this process the payments service; main.ts and the tests start it. */
export function paymentsService(config: PaymentsConfig): ServiceDefinition {
  // The provider's breaker reports to the service's metrics registry, which exists only once
  // the service registers; consumers start earlier and wait on this for their first message.
  let resolveProvider!: (provider: GuardedProvider) => void;
  const provider = new Promise<GuardedProvider>((resolve) => (resolveProvider = resolve));
  return {
    name: 'payments',
    port: config.PAYMENTS_PORT,
    environment: config,
    database: paymentsDatabase,
    streams: paymentsStreams,
    consumers: paymentsConsumers(() => provider),
    register(app, infrastructure) {
      const guarded = createPaymentProvider(config, {
        registry: infrastructure.registry,
        logger: infrastructure.logger,
      });
      resolveProvider(guarded);
      registerPaymentsApp(app, infrastructure, { config, provider: guarded });
    },
  };
}
