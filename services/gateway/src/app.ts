import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import {
  DEFAULT_BODY_LIMIT,
  PayloadTooLargeError,
  createHttpServer,
  createTokenRevocationCheck,
  type AccessTokenVerifier,
  type HttpApp,
  type Logger,
  type RedisHandle,
} from '@shop/service-kit';
import { createAccessControl } from './access.js';
import { corsOrigins, type GatewayConfig } from './config.js';
import { createDocsMerger } from './docs.js';
import { registerUpstreamProxy } from './proxy.js';
import { createRateLimits } from './rate-limit.js';
import { upstreamReadiness, upstreamsFrom } from './upstreams.js';

export interface GatewayDependencies {
  config: GatewayConfig;
  logger: Logger;
  redis: RedisHandle;
  /** Checks access tokens with the users service's public key. */
  verifier: AccessTokenVerifier;
}

/**
 * The public edge. Order of work for a proxied request: request id, security headers and CORS
 * (root hooks); then, in the proxy scope, the token is identified, the rate limit counted,
 * protected paths refused without a valid token (401), oversized bodies refused (413), the body
 * read (at most 1 MiB), and only then the upstream called through its breaker.
 */
export async function buildGatewayApp({
  config,
  logger,
  redis,
  verifier,
}: GatewayDependencies): Promise<HttpApp> {
  const upstreams = upstreamsFrom(config);
  const app = await createHttpServer({
    service: 'gateway',
    logger,
    trustProxy: config.TRUST_PROXY,
    // The only route that cannot declare a policy is @fastify/cors' preflight route; proxied
    // routes are guarded by the gateway's access control, health, metrics and docs are public.
    auth: { defaultPolicy: 'public' },
    readinessChecks: [
      ...upstreams.map((upstream) =>
        upstreamReadiness(upstream, config.UPSTREAM_HEALTH_TIMEOUT_MS),
      ),
      { name: 'redis', critical: false, check: () => redis.ping() },
    ],
    docs: createDocsMerger(upstreams, { timeoutMs: config.UPSTREAM_HEALTH_TIMEOUT_MS, logger }),
  });

  await app.register(helmet);
  const origins = corsOrigins(config);
  await app.register(cors, {
    origin: origins.length > 0 ? origins : false,
    // A preflight missing its headers would get a text/plain 400 otherwise; let it pass to
    // the route, which answers in problem+json.
    strictPreflight: false,
  });

  const access = createAccessControl(
    verifier,
    createTokenRevocationCheck({ redis, logger, registry: app.metricsRegistry }),
  );
  const limit = await createRateLimits(app, redis, config);

  await app.register(async (edge) => {
    edge.addHook('onRequest', access.identify);
    edge.addHook('onRequest', limit);
    edge.addHook('onRequest', access.enforce);
    // Refused from the header alone, before a byte is read (a GET's body would not be read).
    edge.addHook('onRequest', async (request) => {
      if (Number(request.headers['content-length']) > DEFAULT_BODY_LIMIT)
        throw new PayloadTooLargeError('The request body is larger than the 1 MiB limit.');
    });

    // Every body is read whole, as bytes, before the upstream is called: a chunked body over
    // the limit becomes a 413 here (Fastify counts while it reads), never a half-sent request.
    edge.removeAllContentTypeParsers();
    edge.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => {
      done(null, body);
    });

    for (const upstream of upstreams)
      await registerUpstreamProxy(edge, upstream, {
        access,
        logger,
        timeoutMs: config.UPSTREAM_TIMEOUT_MS,
        resetTimeoutMs: config.UPSTREAM_BREAKER_RESET_MS,
      });
  });

  return app;
}
