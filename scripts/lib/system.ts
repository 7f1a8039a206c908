import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { withDefaultAddresses } from '@shop/service-kit';
import type { ProcessSpec } from './processes.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Every program `pnpm start` runs, in start order: the gateway last, once its upstreams answer. */
export const PROGRAMS = [
  'users',
  'inventory',
  'payment-provider',
  'payments',
  'orders',
  'gateway',
] as const;
export type ProgramName = (typeof PROGRAMS)[number];

/**
 * The environment every program of one running system shares. Anything already set wins;
 * each upstream URL defaults to the matching port, so changing a port changes both ends.
 * Signing keys and the internal credential are not set here: when the environment has none,
 * every service reads the same git-ignored development file (service-kit's resolveAuthSecrets).
 */
export function systemEnvironment(base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  env.DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/shop';
  env.NATS_URL ??= 'nats://127.0.0.1:4222';
  env.REDIS_URL ??= 'redis://127.0.0.1:6379';
  env.LOG_LEVEL ??= 'info';
  return withDefaultAddresses(env);
}

/** `payment-provider` listens on PAYMENT_PROVIDER_PORT: names become variable-safe. */
export function portVariable(name: ProgramName): string {
  return `${name.toUpperCase().replaceAll('-', '_')}_PORT`;
}

/** The entry point: a service's main.ts, or the sandbox provider inside the payments service. */
function entryOf(name: ProgramName): string {
  if (name === 'payment-provider') {
    return path.join(ROOT, 'services', 'payments', 'src', 'provider', 'main.ts');
  }
  return path.join(ROOT, 'services', name, 'src', 'main.ts');
}

export function programSpec(name: ProgramName, env: NodeJS.ProcessEnv): ProcessSpec {
  const programEnv: NodeJS.ProcessEnv = { ...env };
  // Only the users service signs tokens; everyone else verifies with the public key.
  if (name !== 'users') delete programEnv.JWT_PRIVATE_KEY;
  return {
    name,
    entry: entryOf(name),
    env: programEnv,
    readyUrl: `http://127.0.0.1:${env[portVariable(name)]}/health/ready`,
  };
}
