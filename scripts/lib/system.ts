import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProcessSpec } from './processes.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Every program `pnpm start` runs, in start order: the gateway last, once its upstreams answer. */
export const PROGRAMS = ['users', 'inventory', 'payments', 'orders', 'gateway'] as const;
export type ProgramName = (typeof PROGRAMS)[number];

const DEFAULT_PORTS: Record<string, number> = {
  GATEWAY_PORT: 8080,
  USERS_PORT: 3001,
  ORDERS_PORT: 3002,
  INVENTORY_PORT: 3003,
  PAYMENTS_PORT: 3004,
  PAYMENT_PROVIDER_PORT: 3005,
};

export interface DevelopmentSecrets {
  internalApiToken: string;
  jwtPrivateKey: string;
  jwtPublicKey: string;
}

/**
 * The environment every program of one running system shares. Anything already set wins;
 * each upstream URL defaults to the matching port, so changing a port changes both ends.
 */
export function systemEnvironment(
  base: NodeJS.ProcessEnv,
  secrets: DevelopmentSecrets,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  env.DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/shop';
  env.NATS_URL ??= 'nats://127.0.0.1:4222';
  env.REDIS_URL ??= 'redis://127.0.0.1:6379';
  env.LOG_LEVEL ??= 'info';
  for (const [name, port] of Object.entries(DEFAULT_PORTS)) env[name] ??= String(port);
  env.USERS_URL ??= `http://127.0.0.1:${env.USERS_PORT}`;
  env.ORDERS_URL ??= `http://127.0.0.1:${env.ORDERS_PORT}`;
  env.INVENTORY_URL ??= `http://127.0.0.1:${env.INVENTORY_PORT}`;
  env.PAYMENTS_URL ??= `http://127.0.0.1:${env.PAYMENTS_PORT}`;
  env.PAYMENT_PROVIDER_URL ??= `http://127.0.0.1:${env.PAYMENT_PROVIDER_PORT}`;
  env.INTERNAL_API_TOKEN ??= secrets.internalApiToken;
  env.JWT_PUBLIC_KEY ??= secrets.jwtPublicKey;
  env.JWT_PRIVATE_KEY ??= secrets.jwtPrivateKey;
  return env;
}

export function programSpec(name: ProgramName, env: NodeJS.ProcessEnv): ProcessSpec {
  const portVariable = `${name.toUpperCase()}_PORT`;
  const programEnv: NodeJS.ProcessEnv = { ...env };
  // Only the users service signs tokens; everyone else verifies with the public key.
  if (name !== 'users') delete programEnv.JWT_PRIVATE_KEY;
  return {
    name,
    entry: path.join(ROOT, 'services', name, 'src', 'main.ts'),
    env: programEnv,
    readyUrl: `http://127.0.0.1:${env[portVariable]}/health/ready`,
  };
}
