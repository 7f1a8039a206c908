import {
  createAccessTokenVerifier,
  createLogger,
  createRedis,
  createShutdown,
  loadConfig,
  loadOrCreateDevKeyPair,
  withDefaultAddresses,
} from '@shop/service-kit';
import { buildGatewayApp } from './app.js';
import { GatewayConfig } from './config.js';

const config = loadConfig(GatewayConfig, withDefaultAddresses(process.env));
const logger = createLogger({ service: 'gateway', level: config.LOG_LEVEL });
// The gateway only verifies: it needs the public key, never the private one or the internal
// credential, so it reads the dev key file only when no key is configured.
const publicKey = config.JWT_PUBLIC_KEY ?? (await loadOrCreateDevKeyPair()).publicKey;
const verifier = createAccessTokenVerifier({ publicKey });
const redis = createRedis(config.REDIS_URL, logger);
const app = await buildGatewayApp({ config, logger, redis, verifier });
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
