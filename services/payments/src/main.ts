import { loadConfig, startService } from '@shop/service-kit';
import { registerPaymentsApp } from './app.js';
import { PaymentsConfig } from './config.js';
import { paymentsDatabase } from './db/index.js';
import { paymentsConsumers, paymentsStreams } from './messaging/topology.js';

const config = loadConfig(PaymentsConfig);
const service = await startService({
  name: 'payments',
  port: config.PAYMENTS_PORT,
  environment: config,
  database: paymentsDatabase,
  streams: paymentsStreams,
  consumers: paymentsConsumers,
  register: registerPaymentsApp,
});
service.shutdown.install();
