// The sandbox payment provider: a separate process, as a real provider would be, so tests and
// `pnpm start` can kill it, slow it down or make it flaky without touching payments.
import path from 'node:path';
import { createLogger, createShutdown, loadConfig } from '@shop/service-kit';
import { ProviderConfig } from './config.js';
import { openLedger } from './ledger.js';
import { buildProviderApp } from './server.js';

const config = loadConfig(ProviderConfig);
const logger = createLogger({ service: 'payment-provider', level: config.LOG_LEVEL });
const ledger = openLedger(path.resolve(config.PAYMENT_PROVIDER_DATA_FILE));
const app = await buildProviderApp(
  ledger,
  {
    latencyMs: config.PAYMENT_PROVIDER_LATENCY_MS,
    failureRate: config.PAYMENT_PROVIDER_FAILURE_RATE,
  },
  logger,
);
await app.listen({ port: config.PAYMENT_PROVIDER_PORT, host: '0.0.0.0' });
logger.info(
  { port: config.PAYMENT_PROVIDER_PORT, ledger: config.PAYMENT_PROVIDER_DATA_FILE, ...ledger.size },
  'payment provider sandbox started',
);
createShutdown({
  logger,
  steps: [
    { name: 'http', run: () => app.close() },
    { name: 'ledger', run: () => ledger.close() },
  ],
}).install();
