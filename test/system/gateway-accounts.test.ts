import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSystem, type SystemUnderTest } from '../support/system.js';

// An account's first steps, only through the gateway: register, log in, reach a protected
// route with the token; and the stricter limit on /v1/auth/*.
let system: SystemUnderTest;

beforeAll(async () => {
  system = await startSystem('gateway_accounts', { AUTH_RATE_LIMIT_PER_MINUTE: '6' });
});

afterAll(async () => {
  await system?.stop();
});

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${system.gatewayUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

describe('accounts through the gateway', () => {
  it('registers, logs in and reaches /v1/users/me with the token', async () => {
    const email = `gw-${randomUUID()}@example.com`;
    const password = 'correct horse battery';
    const registered = await post('/v1/auth/register', {
      email,
      password,
      firstName: 'Ada',
      lastName: 'Lovelace',
    });
    expect(registered.status).toBe(201);

    const login = await post('/v1/auth/login', { email, password });
    expect(login.status).toBe(200);
    const { accessToken } = (await login.json()) as { accessToken: string };

    const me = await fetch(`${system.gatewayUrl}/v1/users/me`, {
      headers: { authorization: `Bearer ${accessToken}`, 'x-request-id': 'gw-accounts-me' },
    });
    expect(me.status).toBe(200);
    expect(me.headers.get('x-request-id')).toBe('gw-accounts-me');
    expect(await me.json()).toMatchObject({ email, role: 'customer' });

    const anonymous = await fetch(`${system.gatewayUrl}/v1/users/me`);
    expect(anonymous.status).toBe(401);
  });

  it('limits password guessing per ip with 429 problem+json and Retry-After', async () => {
    let response: Response | undefined;
    for (let attempt = 0; attempt < 10; attempt += 1) {
      response = await post('/v1/auth/login', {
        email: 'nobody@example.com',
        password: 'guess-guess',
      });
      if (response.status === 429) break;
      expect(response.status).toBe(401);
    }
    expect(response?.status).toBe(429);
    expect(response?.headers.get('content-type')).toContain('application/problem+json');
    expect(Number(response?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await response?.json()).toMatchObject({ status: 429, code: 'rate_limited' });
  });
});
