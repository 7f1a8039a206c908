import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import {
  createRedis,
  invalidate,
  readThrough,
  readVersioned,
  writeIfNewer,
  type RedisHandle,
} from '../../src/redis.js';
import { waitFor } from '../../src/testing/wait.js';

// The shared Redis on the machine; every key of this file lives under its own prefix.
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
// Nothing listens here: a Redis that is down, without stopping the shared one.
const DEAD_URL = 'redis://127.0.0.1:6390';
const prefix = `test:service-kit:redis:${randomUUID()}:`;
const logger = createLogger({ service: 'redis-test', level: 'silent' });

let sut: RedisHandle;
let down: RedisHandle;

beforeAll(async () => {
  sut = createRedis(REDIS_URL, logger);
  down = createRedis(DEAD_URL, logger);
  await waitFor(() => sut.isHealthy(), 'Redis to be healthy', { timeoutMs: 5000, intervalMs: 20 });
});

afterAll(async () => {
  const keys = await sut.client.keys(`${prefix}*`);
  if (keys.length > 0) await sut.client.del(...keys);
  await sut.close();
  await down.close();
});

describe('createRedis', () => {
  it('reports health and answers pings when up', async () => {
    expect(sut.isHealthy()).toBe(true);
    await expect(sut.ping()).resolves.toBeUndefined();
  });

  it('fails fast, without crashing, when Redis is down', async () => {
    expect(down.isHealthy()).toBe(false);
    const started = Date.now();
    await expect(down.ping()).rejects.toThrow();
    await expect(down.client.get(`${prefix}x`)).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(500);
  });
});

describe('readThrough', () => {
  it('loads once, then serves from the cache', async () => {
    const key = `${prefix}product:1`;
    let loads = 0;
    const load = async () => {
      loads += 1;
      return { available: 7 };
    };
    expect(await readThrough(sut.client, key, 60, load)).toEqual({ available: 7 });
    expect(await readThrough(sut.client, key, 60, load)).toEqual({ available: 7 });
    expect(loads).toBe(1);
    expect(await sut.client.ttl(key)).toBeGreaterThan(0);

    await invalidate(sut.client, key);
    await readThrough(sut.client, key, 60, load);
    expect(loads).toBe(2);
  });

  it('falls back to the source when Redis is down', async () => {
    let loads = 0;
    const started = Date.now();
    for (let i = 0; i < 3; i += 1) {
      const value = await readThrough(down.client, `${prefix}product:2`, 60, async () => {
        loads += 1;
        return { available: 3 };
      });
      expect(value).toEqual({ available: 3 });
    }
    expect(loads).toBe(3);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('falls back to the source when the cached entry is corrupt', async () => {
    const key = `${prefix}product:3`;
    await sut.client.set(key, '{not json', 'EX', 60);
    expect(await readThrough(sut.client, key, 60, async () => 'fresh')).toBe('fresh');
    expect(await sut.client.get(key)).toBe('"fresh"');
  });

  it('does not swallow errors from the source itself', async () => {
    await expect(
      readThrough(sut.client, `${prefix}product:4`, 60, async () => {
        throw new Error('database down');
      }),
    ).rejects.toThrow('database down');
  });

  it('invalidate is harmless when Redis is down', async () => {
    await expect(invalidate(down.client, `${prefix}x`)).resolves.toBeUndefined();
  });
});

describe('writeIfNewer', () => {
  it('never lets an older version overwrite a newer one', async () => {
    const key = `${prefix}stock:1`;
    expect(await writeIfNewer(sut.client, key, 5, { available: 50 })).toBe(true);
    expect(await writeIfNewer(sut.client, key, 3, { available: 30 })).toBe(false);
    expect(await writeIfNewer(sut.client, key, 5, { available: 55 })).toBe(false);
    expect(await readVersioned(sut.client, key)).toEqual({ version: 5, value: { available: 50 } });
    expect(await writeIfNewer(sut.client, key, 6, { available: 60 }, 30)).toBe(true);
    expect(await readVersioned(sut.client, key)).toEqual({ version: 6, value: { available: 60 } });
    expect(await sut.client.ttl(key)).toBeGreaterThan(0);
  });

  it('keeps the newest value when writes race in any order', async () => {
    const key = `${prefix}stock:2`;
    const versions = Array.from({ length: 50 }, (_, i) => i + 1).sort(() => Math.random() - 0.5);
    await Promise.all(versions.map((v) => writeIfNewer(sut.client, key, v, { available: v })));
    expect(await readVersioned(sut.client, key)).toEqual({ version: 50, value: { available: 50 } });
  });

  it('reads null for a missing key or when Redis is down, and writes fail loudly when down', async () => {
    expect(await readVersioned(sut.client, `${prefix}stock:missing`)).toBeNull();
    expect(await readVersioned(down.client, `${prefix}stock:1`)).toBeNull();
    await expect(writeIfNewer(down.client, `${prefix}stock:1`, 9, {})).rejects.toThrow();
  });
});
