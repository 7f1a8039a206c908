import rateLimit from '@fastify/rate-limit';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  TooManyRequestsError,
  serviceCounter,
  type HttpApp,
  type RedisHandle,
} from '@shop/service-kit';
import { pathOf } from './access.js';
import type { GatewayConfig } from './config.js';

/**
 * Requests per minute, counted in Redis so every gateway replica shares the counters: per user
 * when the token is valid, else per ip, and a much lower per-ip limit on /v1/auth/* against
 * password guessing. @fastify/rate-limit does the counting; this file decides which limit
 * applies and what happens when Redis cannot answer.
 *
 * Redis down means no limits rather than no service (fail open), counted by
 * `gateway_rate_limit_fail_open_total`. The plugin's own `skipOnError` would pass the request
 * too, but silently; here the error is caught, counted, and the request goes on. A down Redis
 * costs no latency: the client has no offline queue, and a client that is not connected is
 * not even asked.
 */

type Check = ReturnType<HttpApp['createRateLimit']>;
type LimiterName = 'api' | 'auth';

const WINDOW_MS = 60_000;

function isAuthPath(path: string): boolean {
  return path === '/v1/auth' || path.startsWith('/v1/auth/');
}

/** One counter family in Redis, registered in a scope of its own so its keys get their prefix. */
async function createCheck(
  app: HttpApp,
  redis: RedisHandle,
  options: { max: number; nameSpace: string; key: (request: FastifyRequest) => string },
): Promise<Check> {
  let check: Check | undefined;
  await app.register(async (scope) => {
    await scope.register(rateLimit, {
      global: false,
      max: options.max,
      timeWindow: WINDOW_MS,
      redis: redis.client,
      nameSpace: options.nameSpace,
      keyGenerator: options.key,
      skipOnError: false,
    });
    check = scope.createRateLimit();
  });
  if (!check) throw new Error('@fastify/rate-limit did not register');
  return check;
}

/** The onRequest hook enforcing the limits; runs after the token is identified. */
export async function createRateLimits(app: HttpApp, redis: RedisHandle, config: GatewayConfig) {
  const prefix = config.RATE_LIMIT_KEY_PREFIX;
  const checks: Partial<Record<LimiterName, Check>> = {};
  if (config.RATE_LIMIT_PER_MINUTE > 0)
    checks.api = await createCheck(app, redis, {
      max: config.RATE_LIMIT_PER_MINUTE,
      nameSpace: `${prefix}api:`,
      key: (request) => (request.identity ? `user:${request.identity.userId}` : `ip:${request.ip}`),
    });
  if (config.AUTH_RATE_LIMIT_PER_MINUTE > 0)
    checks.auth = await createCheck(app, redis, {
      max: config.AUTH_RATE_LIMIT_PER_MINUTE,
      nameSpace: `${prefix}auth:`,
      key: (request) => `ip:${request.ip}`,
    });

  const failOpen = serviceCounter(app.metricsRegistry, {
    name: 'gateway_rate_limit_fail_open_total',
    help: 'Requests let through unlimited because the rate-limit store (Redis) was unavailable',
    labelNames: ['limiter'],
  });

  return async function limit(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const limiter: LimiterName = isAuthPath(pathOf(request)) ? 'auth' : 'api';
    const check = checks[limiter];
    if (!check) return;
    if (!redis.isHealthy()) {
      failOpen.inc({ limiter });
      return;
    }

    let result: Awaited<ReturnType<Check>>;
    try {
      result = await check(request);
    } catch (error) {
      failOpen.inc({ limiter });
      request.log.debug({ err: error }, 'rate limit skipped: store unavailable');
      return;
    }
    if (result.isAllowed) return;

    // Seconds until the window resets; at least 1, so Retry-After never says "now".
    const resetSeconds = Math.max(1, result.ttlInSeconds);
    reply.header('x-ratelimit-limit', result.max);
    reply.header('x-ratelimit-remaining', result.remaining);
    reply.header('x-ratelimit-reset', resetSeconds);
    if (result.isExceeded)
      throw new TooManyRequestsError(
        resetSeconds,
        `Too many requests; try again in ${resetSeconds} s.`,
      );
  };
}
