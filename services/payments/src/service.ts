import type { ServiceDefinition } from '@shop/service-kit';
import { registerPaymentsApp } from './app.js';
import type { PaymentsConfig } from './config.js';
import { paymentsDatabase } from './db/index.js';
import { paymentsConsumers, paymentsStreams } from './messaging/topology.js';

/** Everything that makes this process the payments service; main.ts and the tests start it. */
export function paymentsService(config: PaymentsConfig): ServiceDefinition {
  return {
    name: 'payments',
    port: config.PAYMENTS_PORT,
    environment: config,
    database: paymentsDatabase,
    streams: paymentsStreams,
    consumers: paymentsConsumers,
    register: registerPaymentsApp,
  };
}
