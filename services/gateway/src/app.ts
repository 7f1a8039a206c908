import { createHttpServer, type HttpApp, type Logger, type RedisHandle } from '@shop/service-kit';
import type { GatewayConfig } from './config.js';
import { upstreamReadiness, upstreamsFrom } from './upstreams.js';

export interface GatewayDependencies {
  config: GatewayConfig;
  logger: Logger;
  redis: RedisHandle;
}

/** The public edge: for now health, metrics and docs; routing arrives with the gateway issue. */
export async function buildGatewayApp({
  config,
  logger,
  redis,
}: GatewayDependencies): Promise<HttpApp> {
  const timeoutMs = config.UPSTREAM_HEALTH_TIMEOUT_MS;
  return createHttpServer({
    service: 'gateway',
    logger,
    trustProxy: true,
    readinessChecks: [
      ...upstreamsFrom(config).map((upstream) => upstreamReadiness(upstream, timeoutMs)),
      { name: 'redis', critical: false, check: () => redis.ping() },
    ],
  });
}
