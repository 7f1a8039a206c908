import { tokenRevocationKey } from '@shop/service-kit';
import { waitFor, type TestService } from '@shop/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PASSWORD,
  call,
  login,
  newAdmin,
  newCustomer,
  startUsers,
  type Account,
  type Problem,
  type UserBody,
} from './support/users.js';

// A role change or a deletion ends the account's existing tokens at once: here in the users
// service itself, and (through the Redis key it writes) in every other one.
let sut: TestService;
let admin: Account;

beforeAll(async () => {
  sut = await startUsers('users_revocation');
  admin = await newAdmin(sut);
  await waitFor(() => sut.infrastructure.redis.isHealthy(), 'Redis to be healthy', {
    timeoutMs: 10_000,
    intervalMs: 25,
  });
});

afterAll(async () => {
  await sut?.stop();
});

function claims(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Record<
    string,
    unknown
  >;
}

async function setRole(service: TestService, userId: string, role: string) {
  return call<UserBody>(service, 'PATCH', `/v1/users/${userId}/role`, {
    token: admin.token,
    body: { role },
  });
}

function expectRevoked(answer: { status: number; body: unknown }) {
  expect(answer.status).toBe(401);
  expect((answer.body as Problem).code).toBe('unauthorized');
}

describe('demoting an admin', () => {
  it('refuses their old token at once; a new login works and carries the new role', async () => {
    const demoted = await newAdmin(sut);
    expect((await call(sut, 'GET', '/v1/users', { token: demoted.token })).status).toBe(200);

    const changed = await setRole(sut, demoted.user.id, 'customer');
    expect(changed.status).toBe(200);
    expectRevoked(await call<Problem>(sut, 'GET', '/v1/users', { token: demoted.token }));
    expectRevoked(await call<Problem>(sut, 'GET', '/v1/users/me', { token: demoted.token }));
    // The revocation is in Redis, where every other service reads it, for a token's lifetime.
    const key = tokenRevocationKey(demoted.user.id);
    expect(await sut.infrastructure.redis.client.hget(key, 'version')).toBe(
      String((claims(demoted.token).ver as number) + 1),
    );
    expect(await sut.infrastructure.redis.client.ttl(key)).toBeGreaterThan(900);

    // Right away, most likely in the same second as the change: the version tells them apart.
    const fresh = await login(sut, demoted.email, PASSWORD);
    expect(claims(fresh)).toMatchObject({ sub: demoted.user.id, role: 'customer' });
    expect(claims(fresh).ver).toBeGreaterThan(claims(demoted.token).ver as number);
    const forbidden = await call<Problem>(sut, 'GET', '/v1/users', { token: fresh });
    expect(forbidden.status).toBe(403);
    const me = await call<UserBody>(sut, 'GET', '/v1/users/me', { token: fresh });
    expect(me.status).toBe(200);
    expect(me.body.role).toBe('customer');
  });

  it('leaves the admin who changed the role, and everyone else, signed in', async () => {
    const bystander = await newCustomer(sut);
    const target = await newCustomer(sut);
    expect((await setRole(sut, target.user.id, 'employee')).status).toBe(200);
    expect((await call(sut, 'GET', '/v1/users', { token: admin.token })).status).toBe(200);
    expect((await call(sut, 'GET', '/v1/users/me', { token: bystander.token })).status).toBe(200);
  });

  it('revokes nothing when the role does not change', async () => {
    const same = await newCustomer(sut);
    expect((await setRole(sut, same.user.id, 'customer')).status).toBe(200);
    expect((await call(sut, 'GET', '/v1/users/me', { token: same.token })).status).toBe(200);
  });
});

describe('deleting an account', () => {
  it('refuses its token at once, with unauthorized', async () => {
    const leaving = await newCustomer(sut);
    expect((await call(sut, 'DELETE', '/v1/users/me', { token: leaving.token })).status).toBe(204);
    expectRevoked(await call<Problem>(sut, 'GET', '/v1/users/me', { token: leaving.token }));
    expect(await sut.infrastructure.redis.client.exists(tokenRevocationKey(leaving.user.id))).toBe(
      1,
    );
  });
});

describe('when Redis loses a revocation', () => {
  it('writes it again from the table as soon as Redis reconnects', async () => {
    const target = await newAdmin(sut);
    expect((await setRole(sut, target.user.id, 'manager')).status).toBe(200);
    const redis = sut.infrastructure.redis.client;
    const key = tokenRevocationKey(target.user.id);
    // As if Redis had restarted empty.
    await redis.del(key);
    expect((await call(sut, 'GET', '/v1/users', { token: target.token })).status).toBe(200);

    redis.disconnect(true);
    await waitFor(async () => (await redis.exists(key).catch(() => 0)) === 1, 'the key back', {
      timeoutMs: 10_000,
      intervalMs: 50,
    });
    expectRevoked(await call<Problem>(sut, 'GET', '/v1/users', { token: target.token }));
  });
});

describe('with Redis down', () => {
  let cut: TestService;
  let cutAdmin: Account;

  beforeAll(async () => {
    // Nothing listens on 6390: this instance never reaches Redis.
    cut = await startUsers('users_revocation_redis_down', { REDIS_URL: 'redis://127.0.0.1:6390' });
    cutAdmin = await newAdmin(cut);
  });

  afterAll(async () => {
    await cut?.stop();
  });

  it('still changes the role, and its own routes refuse the old token from the table', async () => {
    const demoted = await newAdmin(cut);
    const changed = await call<UserBody>(cut, 'PATCH', `/v1/users/${demoted.user.id}/role`, {
      token: cutAdmin.token,
      body: { role: 'customer' },
    });
    expect(changed.status).toBe(200);
    expectRevoked(await call<Problem>(cut, 'GET', '/v1/users', { token: demoted.token }));
    const fresh = await login(cut, demoted.email, PASSWORD);
    expect((await call(cut, 'GET', '/v1/users/me', { token: fresh })).status).toBe(200);

    const leaving = await newCustomer(cut);
    expect((await call(cut, 'DELETE', '/v1/users/me', { token: leaving.token })).status).toBe(204);
    expectRevoked(await call<Problem>(cut, 'GET', '/v1/users/me', { token: leaving.token }));
  });
});
