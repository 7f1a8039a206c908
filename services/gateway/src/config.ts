import Type, { type Static } from 'typebox';
import { LogLevel, NodeEnv, Port, Url } from '@shop/service-kit';

/** The gateway's environment. Upstream URLs default from the upstreams' own port variables. */
export const GatewayConfig = Type.Object({
  NODE_ENV: NodeEnv(),
  LOG_LEVEL: LogLevel('info'),
  GATEWAY_PORT: Port(8080),
  REDIS_URL: Url('redis://127.0.0.1:6379'),
  USERS_URL: Url(),
  INVENTORY_URL: Url(),
  PAYMENTS_URL: Url(),
  ORDERS_URL: Url(),
  /** How long the gateway waits for an upstream's readiness answer. */
  UPSTREAM_HEALTH_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 2000 }),
  SHUTDOWN_TIMEOUT_MS: Type.Integer({ minimum: 1000, default: 15_000 }),
});
export type GatewayConfig = Static<typeof GatewayConfig>;
