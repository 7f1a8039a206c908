import { Redis } from 'ioredis';
import type { Logger } from './logger.js';

/**
 * Redis is a cache here, never the source of truth (ARCHITECTURE.md): when it is down the
 * service must keep answering from Postgres, just slower. So the connection retries forever in
 * the background, but a command issued while it is down fails at once (no offline queue, few
 * retries, a command timeout) and callers fall back to the source.
 */

export interface RedisHandle {
  /** The ioredis client (e.g. for @fastify/rate-limit). */
  client: Redis;
  /** True while connected and ready; cheap, for hot paths. */
  isHealthy(): boolean;
  /** PING with the command timeout; for readiness checks (throws when down). */
  ping(): Promise<void>;
  /** QUIT, or disconnect if Redis is unreachable. */
  close(): Promise<void>;
}

export interface RedisOptions {
  /** Default 1000 ms. */
  connectTimeoutMs?: number;
  /** Default 500 ms: a slow cache is worse than none. */
  commandTimeoutMs?: number;
  /** Prefix every key (tests, or several apps on one Redis). */
  keyPrefix?: string;
}

export function createRedis(url: string, logger: Logger, options: RedisOptions = {}): RedisHandle {
  let lastErrorLog = 0;
  const client = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: options.connectTimeoutMs ?? 1000,
    commandTimeout: options.commandTimeoutMs ?? 500,
    // Backoff up to 5 s, never giving up: Redis coming back must heal the service by itself.
    retryStrategy: (attempt) => Math.min(100 * 2 ** Math.min(attempt, 6), 5000),
    ...(options.keyPrefix ? { keyPrefix: options.keyPrefix } : {}),
  });

  // Without an 'error' listener ioredis errors would crash the process; with one they are just
  // logged, at most every 10 s so a long outage does not flood the log.
  client.on('error', (error: Error) => {
    const now = Date.now();
    if (now - lastErrorLog < 10_000) return;
    lastErrorLog = now;
    logger.warn({ err: error }, 'redis unavailable; serving without cache');
  });
  client.on('ready', () => logger.info('redis connected'));

  return {
    client,
    isHealthy: () => client.status === 'ready',
    async ping() {
      await client.ping();
    },
    async close() {
      if (client.status === 'ready') {
        await client.quit().catch(() => client.disconnect());
      } else {
        client.disconnect();
      }
    },
  };
}

/**
 * Cache-aside read: the cached JSON value if there is one, else `load()` stored for
 * `ttlSeconds`. Redis failing at any point only costs a call to `load()`; it never fails
 * the read.
 */
export async function readThrough<T>(
  redis: Redis,
  key: string,
  ttlSeconds: number,
  load: () => Promise<T>,
): Promise<T> {
  try {
    const cached = await redis.get(key);
    if (cached !== null) return JSON.parse(cached) as T;
  } catch {
    // Down, slow, or a corrupt entry: the source still answers.
  }
  const value = await load();
  try {
    await redis.set(key, JSON.stringify(value), 'EX', ttlSeconds);
  } catch {
    // Not cached this time; the next read tries again.
  }
  return value;
}

/** Drops a cached key; best effort, a failure only leaves it to expire by its TTL. */
export async function invalidate(redis: Redis, ...keys: string[]): Promise<void> {
  if (keys.length === 0) return;
  try {
    await redis.del(...keys);
  } catch {
    // TTL bounds the staleness.
  }
}

export interface Versioned<T> {
  version: number;
  value: T;
}

// Compare and write in one step on the server: two writers racing (an old event handled late,
// a replica behind) can never leave the older value on top.
const WRITE_IF_NEWER = `
local current = tonumber(redis.call('HGET', KEYS[1], 'version'))
if current and current >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'version', ARGV[1], 'value', ARGV[2])
if tonumber(ARGV[3]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[3]) end
return 1
`;

/**
 * Stores `value` under `key` only if `version` is newer than the stored one (e.g. the stock
 * row's version after a commit). Returns true if written, false if an equal or newer version
 * was there. Throws when Redis is down: the caller decides (usually: ignore and invalidate).
 */
export async function writeIfNewer<T>(
  redis: Redis,
  key: string,
  version: number,
  value: T,
  ttlSeconds = 0,
): Promise<boolean> {
  if (!Number.isSafeInteger(version)) throw new TypeError('version must be a safe integer');
  const written = await redis.eval(
    WRITE_IF_NEWER,
    1,
    key,
    String(version),
    JSON.stringify(value),
    String(ttlSeconds),
  );
  return written === 1;
}

/** Reads what writeIfNewer stored, or null when absent (or Redis is down). */
export async function readVersioned<T>(redis: Redis, key: string): Promise<Versioned<T> | null> {
  try {
    const [version, value] = await redis.hmget(key, 'version', 'value');
    if (version === null || version === undefined || value === null || value === undefined)
      return null;
    return { version: Number(version), value: JSON.parse(value) as T };
  } catch {
    return null;
  }
}
