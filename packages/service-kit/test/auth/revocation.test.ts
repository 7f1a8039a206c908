import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  TOKEN_REVOCATION_MARGIN_SECONDS,
  createAccessTokenSigner,
  createAccessTokenVerifier,
  createTokenRevocationCheck,
  storeTokenRevocation,
  tokenRevocationKey,
  type TokenRevocationCheckOptions,
  type TokenVersionLookup,
} from '../../src/auth/index.js';
import { createHttpServer } from '../../src/http/index.js';
import { createLogger } from '../../src/logger.js';
import { createMetricsRegistry } from '../../src/metrics.js';
import { createRedis, type RedisHandle } from '../../src/redis.js';
import { waitFor } from '../../src/testing/wait.js';
import { captureLogs, newKeyPair } from '../http/fixtures.js';

// The shared Redis on the machine, every key of this file under its own prefix; and a Redis
// that is down (nothing listens on 6390) without stopping the shared one.
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const DEAD_URL = 'redis://127.0.0.1:6390';
const TOKEN_TTL_SECONDS = 900;
const quiet = createLogger({ service: 'revocation-test', level: 'silent' });
const keys = newKeyPair();
const signer = createAccessTokenSigner({ privateKey: keys.privateKey });

let redis: RedisHandle;
let down: RedisHandle;

beforeAll(async () => {
  redis = createRedis(REDIS_URL, quiet, {
    keyPrefix: `test:service-kit:revocation:${randomUUID()}:`,
  });
  down = createRedis(DEAD_URL, quiet);
  await waitFor(() => redis.isHealthy(), 'Redis to be healthy', {
    timeoutMs: 5000,
    intervalMs: 20,
  });
});

afterAll(async () => {
  await redis?.close();
  await down?.close();
});

/** A service with an admin route and a route for anyone signed in, checking revocations. */
async function buildApp(options: Partial<TokenRevocationCheckOptions> = {}) {
  const logs = captureLogs();
  const logger = createLogger({ service: 'test', level: 'info', destination: logs.stream });
  const registry = createMetricsRegistry('test');
  const app = await createHttpServer({
    service: 'test',
    logger,
    registry,
    auth: {
      verifier: createAccessTokenVerifier({ publicKey: keys.publicKey }),
      revocations: createTokenRevocationCheck({ redis, logger, registry, ...options }),
    },
  });
  app.get('/me', { config: { auth: 'authenticated' } }, async (request) => request.identity);
  app.get('/admin', { config: { auth: { roles: ['admin'] } } }, async () => ({ ok: true }));
  await app.ready();

  return {
    app,
    logs,
    async get(url: string, token: string) {
      return app.inject({ url, headers: { authorization: `Bearer ${token}` } });
    },
    async failOpenCount() {
      const metric = registry.getSingleMetric('auth_token_revocation_fail_open_total');
      return (await metric?.get())?.values[0]?.value ?? 0;
    },
  };
}

type Sut = Awaited<ReturnType<typeof buildApp>>;

async function revoke(userId: string, tokenVersion: number, revokedAt = new Date()) {
  await storeTokenRevocation(redis.client, { userId, tokenVersion, revokedAt }, TOKEN_TTL_SECONDS);
}

function expectRevoked(response: Awaited<ReturnType<Sut['get']>>) {
  expect(response.statusCode).toBe(401);
  expect(response.headers['content-type']).toContain('application/problem+json');
  expect(response.json()).toMatchObject({ status: 401, code: 'unauthorized' });
}

describe('the ver claim', () => {
  const verifier = createAccessTokenVerifier({ publicKey: keys.publicKey });

  it('carries the token version; a token without it verifies as before', async () => {
    const versioned = await signer.sign({ userId: 'u', role: 'admin', tokenVersion: 3 });
    await expect(verifier.verify(versioned)).resolves.toEqual({
      userId: 'u',
      role: 'admin',
      tokenVersion: 3,
    });
    const legacy = await signer.sign({ userId: 'u', role: 'admin' });
    await expect(verifier.verify(legacy)).resolves.toEqual({ userId: 'u', role: 'admin' });
  });

  it('refuses to sign a version that is not a non-negative integer', async () => {
    for (const tokenVersion of [-1, 1.5, Number.NaN])
      await expect(signer.sign({ userId: 'u', role: 'admin', tokenVersion })).rejects.toThrow(
        TypeError,
      );
  });
});

describe('the authenticator with revocations', () => {
  let sut: Sut;

  beforeAll(async () => {
    sut = await buildApp();
  });

  afterAll(async () => {
    await sut?.app.close();
  });

  it('refuses a token older than the revocation with 401 unauthorized, before the role check', async () => {
    const userId = randomUUID();
    const old = await signer.sign({ userId, role: 'admin', tokenVersion: 0 });
    expect((await sut.get('/admin', old)).statusCode).toBe(200);

    await revoke(userId, 1);
    expectRevoked(await sut.get('/admin', old));
    expectRevoked(await sut.get('/me', old));
    // The role check would say 403; a revoked token is no token at all.
    const oldCustomer = await signer.sign({ userId, role: 'customer', tokenVersion: 0 });
    expectRevoked(await sut.get('/admin', oldCustomer));
  });

  it('tells tokens of the same second apart by version, both ways', async () => {
    const userId = randomUUID();
    const second = new Date(Math.floor(Date.now() / 1000) * 1000);
    // Issued in the very second of the revocation: `iat` alone could not order them.
    const before = await signer.sign({ userId, role: 'admin', tokenVersion: 4 }, { now: second });
    await revoke(userId, 5, second);
    const after = await signer.sign({ userId, role: 'customer', tokenVersion: 5 }, { now: second });

    expectRevoked(await sut.get('/me', before));
    const fresh = await sut.get('/me', after);
    expect(fresh.statusCode).toBe(200);
    expect(fresh.json()).toEqual({ userId, role: 'customer', tokenVersion: 5 });
    expect((await sut.get('/admin', after)).statusCode).toBe(403);
  });

  it('accepts tokens without a version until a revocation, then refuses them', async () => {
    const userId = randomUUID();
    const legacy = await signer.sign({ userId, role: 'manager' });
    expect((await sut.get('/me', legacy)).statusCode).toBe(200);
    await revoke(userId, 1);
    expectRevoked(await sut.get('/me', legacy));
  });

  it('only ever raises the stored version, and keeps it as long as an older token could live', async () => {
    const userId = randomUUID();
    await revoke(userId, 2);
    await revoke(userId, 1);
    expect(await redis.client.hget(tokenRevocationKey(userId), 'version')).toBe('2');
    const ttl = await redis.client.ttl(tokenRevocationKey(userId));
    expect(ttl).toBeGreaterThan(TOKEN_TTL_SECONDS);
    expect(ttl).toBeLessThanOrEqual(TOKEN_TTL_SECONDS + TOKEN_REVOCATION_MARGIN_SECONDS);

    // A revocation older than any token it could refuse is not stored at all.
    const ancient = new Date(Date.now() - (TOKEN_TTL_SECONDS + 120) * 1000);
    const stale = randomUUID();
    await expect(
      storeTokenRevocation(
        redis.client,
        { userId: stale, tokenVersion: 1, revokedAt: ancient },
        TOKEN_TTL_SECONDS,
      ),
    ).resolves.toBe(false);
    expect(await redis.client.exists(tokenRevocationKey(stale))).toBe(0);
  });

  it('leaves other users alone', async () => {
    const revoked = randomUUID();
    await revoke(revoked, 1);
    const other = await signer.sign({ userId: randomUUID(), role: 'admin', tokenVersion: 0 });
    expect((await sut.get('/admin', other)).statusCode).toBe(200);
  });
});

describe('with Redis down', () => {
  it('accepts verified tokens unchecked (fail open), counts each, warns once, adds no wait', async () => {
    const sut = await buildApp({ redis: down });
    try {
      const token = await signer.sign({ userId: randomUUID(), role: 'admin', tokenVersion: 0 });
      const started = Date.now();
      for (let i = 0; i < 3; i += 1) expect((await sut.get('/admin', token)).statusCode).toBe(200);
      expect(Date.now() - started).toBeLessThan(500);
      expect(await sut.failOpenCount()).toBe(3);
      const warnings = sut.logs.lines.filter((line) =>
        String(line.msg).includes('accepting access tokens unchecked'),
      );
      expect(warnings).toHaveLength(1);
      expect(warnings[0]?.level).toBe(40);
      // Still verified: a bad token is 401 as ever, not let through.
      expect((await sut.get('/admin', 'not.a.jwt')).statusCode).toBe(401);
    } finally {
      await sut.app.close();
    }
  });

  it('asks the fallback when there is one: the source of truth decides', async () => {
    const current = new Map<string, number | null>();
    const fallback: TokenVersionLookup = async (userId) =>
      current.has(userId) ? (current.get(userId) ?? null) : 0;
    const sut = await buildApp({ redis: down, fallback });
    try {
      const demoted = randomUUID();
      const deleted = randomUUID();
      current.set(demoted, 1);
      current.set(deleted, null);
      expectRevoked(await sut.get('/me', await signer.sign({ userId: demoted, role: 'admin' })));
      const relogged = await signer.sign({ userId: demoted, role: 'customer', tokenVersion: 1 });
      expect((await sut.get('/me', relogged)).statusCode).toBe(200);
      const gone = await signer.sign({ userId: deleted, role: 'customer', tokenVersion: 7 });
      expectRevoked(await sut.get('/me', gone));
      expect(await sut.failOpenCount()).toBe(0);
    } finally {
      await sut.app.close();
    }
  });
});
