import { randomUUID } from 'node:crypto';
import { storeTokenRevocation, tokenRevocationKey } from '@shop/service-kit';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startGateway, startUpstream, type FakeUpstream, type TestGateway } from './support.js';

// The gateway vouches for the identity it forwards (x-user-id, x-user-role) and counts limits by
// it, so a token revoked since it was issued (role change, deleted account) stops here too.
let upstream: FakeUpstream;
let sut: TestGateway;
const revokedUsers: string[] = [];

beforeAll(async () => {
  upstream = await startUpstream('any');
  sut = await startGateway('revocation', {
    USERS_URL: upstream.url,
    INVENTORY_URL: upstream.url,
    PAYMENTS_URL: upstream.url,
    ORDERS_URL: upstream.url,
  });
});

afterAll(async () => {
  if (revokedUsers.length > 0) await sut?.redis.client.del(...revokedUsers.map(tokenRevocationKey));
  await sut?.close();
  await upstream?.close();
});

beforeEach(() => {
  upstream.seen.length = 0;
});

async function revoke(userId: string, tokenVersion: number) {
  revokedUsers.push(userId);
  await storeTokenRevocation(
    sut.redis.client,
    { userId, tokenVersion, revokedAt: new Date() },
    900,
  );
}

describe('a revoked token at the gateway', () => {
  it('is refused on a protected path with 401 unauthorized, and never reaches the service', async () => {
    const userId = randomUUID();
    const old = await sut.tokenFor({ userId, role: 'admin', tokenVersion: 2 });
    await revoke(userId, 3);

    const response = await sut.app.inject({
      url: '/v1/orders',
      headers: { authorization: `Bearer ${old}` },
    });
    expect(response.statusCode).toBe(401);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.json()).toMatchObject({ status: 401, code: 'unauthorized' });
    expect(upstream.seen).toHaveLength(0);
  });

  it('lets the token issued after the revocation through, with its identity', async () => {
    const userId = randomUUID();
    await revoke(userId, 3);
    const fresh = await sut.tokenFor({ userId, role: 'customer', tokenVersion: 3 });

    const response = await sut.app.inject({
      url: '/v1/orders',
      headers: { authorization: `Bearer ${fresh}` },
    });
    expect(response.statusCode).toBe(200);
    expect(upstream.seen[0]?.headers['x-user-id']).toBe(userId);
    expect(upstream.seen[0]?.headers['x-user-role']).toBe('customer');
  });

  it('vouches for nobody on a public path: the call goes on anonymously', async () => {
    const userId = randomUUID();
    const old = await sut.tokenFor({ userId, role: 'admin' });
    await revoke(userId, 1);

    const response = await sut.app.inject({
      url: '/v1/products',
      headers: { authorization: `Bearer ${old}` },
    });
    expect(response.statusCode).toBe(200);
    expect(upstream.seen[0]?.headers['x-user-id']).toBeUndefined();
    expect(upstream.seen[0]?.headers['x-user-role']).toBeUndefined();
  });
});
