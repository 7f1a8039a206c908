import {
  createLogger,
  createRedis,
  createShutdown,
  loadConfig,
  withDefaultAddresses,
} from '@shop/service-kit';
import { buildGatewayApp } from './app.js';
import { GatewayConfig } from './config.js';

const config = loadConfig(GatewayConfig, withDefaultAddresses(process.env));
const logger = createLogger({ service: 'gateway', level: config.LOG_LEVEL });
const redis = createRedis(config.REDIS_URL, logger);
const app = await buildGatewayApp({ config, logger, redis });
const address = await app.listen({ port: config.GATEWAY_PORT, host: '0.0.0.0' });
logger.info({ address }, 'gateway started');

createShutdown({
  logger,
  timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
  steps: [
    { name: 'http', run: () => app.close() },
    { name: 'redis', run: () => redis.close() },
  ],
}).install();
