import Type, { type Static } from 'typebox';
import { Flag, LogLevel, NodeEnv, Port, Url } from '@shop/service-kit';

/**
 * The gateway's environment: every setting it reads is here. Upstream URLs default from the
 * upstreams' own port variables (withDefaultAddresses).
 */
export const GatewayConfig = Type.Object({
  NODE_ENV: NodeEnv(),
  LOG_LEVEL: LogLevel('info'),
  GATEWAY_PORT: Port(8080),
  REDIS_URL: Url('redis://127.0.0.1:6379'),
  USERS_URL: Url(),
  INVENTORY_URL: Url(),
  PAYMENTS_URL: Url(),
  ORDERS_URL: Url(),
  /**
   * PEM (SPKI) or JWK of the users service's public key. Unset in development: the key from
   * the shared git-ignored dev secrets file is used.
   */
  JWT_PUBLIC_KEY: Type.Optional(Type.String({ minLength: 1 })),
  /** How long the gateway waits for an upstream's readiness answer. */
  UPSTREAM_HEALTH_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 2000 }),
  /** How long a proxied call may wait for the upstream's answer before it is a 503. */
  UPSTREAM_TIMEOUT_MS: Type.Integer({ minimum: 50, default: 5000 }),
  /** How long an upstream's open circuit answers 503 at once before letting a trial through. */
  UPSTREAM_BREAKER_RESET_MS: Type.Integer({ minimum: 100, default: 10_000 }),
  /** Requests per minute per user (or per ip when anonymous); 0 turns the limit off. */
  RATE_LIMIT_PER_MINUTE: Type.Integer({ minimum: 0, default: 600 }),
  /** Requests per minute per ip on /v1/auth/* (login, register); 0 turns the limit off. */
  AUTH_RATE_LIMIT_PER_MINUTE: Type.Integer({ minimum: 0, default: 20 }),
  /** Prefix of the rate-limit counters in Redis (several systems, or tests, may share one). */
  RATE_LIMIT_KEY_PREFIX: Type.String({ default: 'gateway:rate-limit:' }),
  /** Origins allowed by CORS, comma-separated (`https://shop.example,https://admin.example`). */
  CORS_ORIGINS: Type.String({ default: '' }),
  /**
   * Believe X-Forwarded-For from the peer. Only behind a load balancer that overwrites it:
   * at the edge, a client could otherwise pick any ip to dodge the per-ip limits.
   */
  TRUST_PROXY: Flag(false),
  SHUTDOWN_TIMEOUT_MS: Type.Integer({ minimum: 1000, default: 15_000 }),
});
export type GatewayConfig = Static<typeof GatewayConfig>;

/** CORS_ORIGINS as a list; empty means no cross-origin caller is allowed. */
export function corsOrigins(config: GatewayConfig): string[] {
  return config.CORS_ORIGINS.split(',')
    .map((origin) => origin.trim())
    .filter((origin) => origin.length > 0);
}
