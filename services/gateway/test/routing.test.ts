import { once } from 'node:events';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startGateway, startUpstream, type FakeUpstream, type TestGateway } from './support.js';

// The gateway in process in front of four real HTTP servers standing in for the services.
let users: FakeUpstream;
let inventory: FakeUpstream;
let payments: FakeUpstream;
let orders: FakeUpstream;
let sut: TestGateway;

beforeAll(async () => {
  [users, inventory, payments, orders] = await Promise.all([
    startUpstream('users'),
    startUpstream('inventory'),
    startUpstream('payments'),
    startUpstream('orders'),
  ]);
  sut = await startGateway('routing', {
    USERS_URL: users.url,
    INVENTORY_URL: inventory.url,
    PAYMENTS_URL: payments.url,
    ORDERS_URL: orders.url,
    CORS_ORIGINS: 'https://shop.example',
  });
});

afterAll(async () => {
  await sut?.close();
  await Promise.all([users, inventory, payments, orders].map((upstream) => upstream?.close()));
});

beforeEach(() => {
  for (const upstream of [users, inventory, payments, orders]) upstream.seen.length = 0;
});

const all = () => [users, inventory, payments, orders];
const hits = () => all().reduce((total, upstream) => total + upstream.seen.length, 0);

async function rawRequest(url: string, token: string) {
  const { host, pathname } = new URL(url);
  const path = url.slice(url.indexOf(host) + host.length) || pathname;
  const request = httpRequest(`http://${host}`, {
    path,
    headers: { authorization: `Bearer ${token}` },
  });
  request.end();
  const [response] = (await once(request, 'response')) as [IncomingMessage];
  response.resume();
  await once(response, 'end');
  return { status: response.statusCode, contentType: response.headers['content-type'] ?? '' };
}

async function customerToken() {
  return sut.tokenFor({ userId: '0b9d4c1e-5a7e-4a57-9d25-2c1f6b1f0a11', role: 'customer' });
}

describe('routing by prefix', () => {
  it.each([
    ['POST', '/v1/auth/login', 'users'],
    ['GET', '/v1/users/me', 'users'],
    ['GET', '/v1/products', 'inventory'],
    ['GET', '/v1/inventory/low-stock', 'inventory'],
    ['GET', '/v1/shipments/5', 'inventory'],
    ['GET', '/v1/orders', 'orders'],
    ['POST', '/v1/orders/7/cancel', 'orders'],
    ['GET', '/v1/payments', 'payments'],
  ])('%s %s goes to %s', async (method, url, upstream) => {
    const token = await customerToken();
    const response = await sut.app.inject({
      method: method as 'GET' | 'POST',
      url,
      headers: { authorization: `Bearer ${token}` },
      ...(method === 'POST' ? { payload: { email: 'a@b.example', password: 'x' } } : {}),
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ upstream, method, url });
    expect(hits()).toBe(1);
  });

  it('preserves the path and the query exactly (order, repeats, encoding)', async () => {
    const url = '/v1/orders/a%20b/timeline?status=pending&status=shipped&q=caf%C3%A9+bar&empty=';
    const response = await sut.app.inject({
      url,
      headers: { authorization: `Bearer ${await customerToken()}` },
    });
    expect(response.statusCode).toBe(200);
    expect(orders.seen[0]?.url).toBe(url);
  });

  it('forwards a body byte for byte, with its content type', async () => {
    const payload = '{"email":"x@y.example","password":"secret-pass","firstName":"Zoë"}';
    const response = await sut.app.inject({
      method: 'POST',
      url: '/v1/auth/register',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      payload,
    });
    expect(response.statusCode).toBe(200);
    expect(users.seen[0]?.body).toBe(payload);
    expect(users.seen[0]?.headers['content-type']).toBe('application/json; charset=utf-8');
  });

  it.each([
    '/internal/v1/products/prices',
    '/internal/v1/users/x/addresses/y',
    '/v1/nowhere',
    '/v1/usersx',
  ])('%s is 404 problem+json at the gateway, and no upstream is called', async (url) => {
    const response = await sut.app.inject({
      url,
      headers: { authorization: `Bearer ${await customerToken()}` },
    });
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.json()).toMatchObject({ status: 404, code: 'not_found' });
    expect(hits()).toBe(0);
  });

  it.each(['/v1/users/../../internal/v1/users', '/v1/users/%2e%2e/%2e%2e/internal/v1/users'])(
    'refuses %s, which climbs out of its prefix, before any upstream',
    async (path) => {
      // A raw socket request: an HTTP client library would resolve the dots itself.
      const response = await rawRequest(`${sut.url}${path}`, await customerToken());
      expect([400, 404]).toContain(response.status);
      expect(response.contentType).toContain('application/problem+json');
      expect(hits()).toBe(0);
    },
  );
});

describe('request id, identity and client address', () => {
  it('echoes a sane client request id and passes it upstream', async () => {
    const response = await sut.app.inject({
      url: '/v1/products',
      headers: { 'x-request-id': 'req-42' },
    });
    expect(response.headers['x-request-id']).toBe('req-42');
    expect(inventory.seen[0]?.headers['x-request-id']).toBe('req-42');
  });

  it('makes up a request id when the client sends none and passes that one upstream', async () => {
    const response = await sut.app.inject({ url: '/v1/products' });
    const id = response.headers['x-request-id'];
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(inventory.seen[0]?.headers['x-request-id']).toBe(id);
  });

  it('drops identity headers a client sends and sets them from the verified token', async () => {
    const token = await sut.tokenFor({
      userId: 'c2a4e0b8-1111-4a57-9d25-2c1f6b1f0a11',
      role: 'manager',
    });
    await sut.app.inject({
      url: '/v1/orders',
      headers: {
        authorization: `Bearer ${token}`,
        'x-user-id': 'someone-else',
        'x-user-role': 'admin',
        'x-internal-token': 'guess',
      },
    });
    const seen = orders.seen[0]?.headers;
    expect(seen?.['x-user-id']).toBe('c2a4e0b8-1111-4a57-9d25-2c1f6b1f0a11');
    expect(seen?.['x-user-role']).toBe('manager');
    expect(seen?.['x-internal-token']).toBeUndefined();
    // The services verify the token again themselves.
    expect(seen?.authorization).toBe(`Bearer ${token}`);
  });

  it('sends no identity upstream for an anonymous call, whatever the client claims', async () => {
    await sut.app.inject({
      url: '/v1/products/123',
      headers: { 'x-user-id': 'forged', 'x-user-role': 'admin' },
    });
    expect(inventory.seen[0]?.headers['x-user-id']).toBeUndefined();
    expect(inventory.seen[0]?.headers['x-user-role']).toBeUndefined();
  });

  it('replaces a client-sent X-Forwarded-For with the address it really came from', async () => {
    await sut.app.inject({
      url: '/v1/products',
      remoteAddress: '203.0.113.7',
      headers: { 'x-forwarded-for': '10.9.9.9' },
    });
    expect(inventory.seen[0]?.headers['x-forwarded-for']).toBe('203.0.113.7');
  });
});

describe('authentication at the edge', () => {
  it.each([
    ['POST', '/v1/auth/register'],
    ['POST', '/v1/auth/login'],
    ['GET', '/v1/products'],
    ['GET', '/v1/products/3f1c'],
  ])('%s %s is public', async (method, url) => {
    const response = await sut.app.inject({
      method: method as 'GET' | 'POST',
      url,
      ...(method === 'POST' ? { payload: {} } : {}),
    });
    expect(response.statusCode).toBe(200);
  });

  it.each([
    ['GET', '/v1/users/me'],
    ['PATCH', '/v1/products/3f1c'],
    ['POST', '/v1/products'],
    ['GET', '/v1/inventory/3f1c'],
    ['GET', '/v1/orders'],
    ['GET', '/v1/payments?orderId=1'],
    ['POST', '/v1/auth/logout'],
  ])('%s %s without a token is 401 problem+json, before any upstream', async (method, url) => {
    const response = await sut.app.inject({
      method: method as 'GET' | 'POST' | 'PATCH',
      url,
      ...(method === 'GET' ? {} : { payload: {} }),
    });
    expect(response.statusCode).toBe(401);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.headers['www-authenticate']).toBe('Bearer');
    expect(response.json()).toMatchObject({ status: 401, code: 'unauthorized' });
    expect(hits()).toBe(0);
  });

  it('refuses a tampered token', async () => {
    const token = await customerToken();
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as object;
    const forged = Buffer.from(JSON.stringify({ ...claims, role: 'admin' })).toString('base64url');
    const response = await sut.app.inject({
      url: '/v1/users',
      headers: { authorization: `Bearer ${header}.${forged}.${signature}` },
    });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toMatchObject({ code: 'unauthorized' });
    expect(hits()).toBe(0);
  });

  it('refuses an unsigned (alg none) token', async () => {
    const header = Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url');
    const claims = Buffer.from(
      JSON.stringify({ sub: 'x', role: 'admin', exp: Math.floor(Date.now() / 1000) + 600 }),
    ).toString('base64url');
    const response = await sut.app.inject({
      url: '/v1/users',
      headers: { authorization: `Bearer ${header}.${claims}.` },
    });
    expect(response.statusCode).toBe(401);
    expect(hits()).toBe(0);
  });

  it('refuses an expired token', async () => {
    const token = await sut.tokenFor(
      { userId: '0b9d4c1e-5a7e-4a57-9d25-2c1f6b1f0a11', role: 'customer' },
      { ttlSeconds: -60 },
    );
    const response = await sut.app.inject({
      url: '/v1/users/me',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toMatchObject({ detail: 'The access token has expired.' });
    expect(hits()).toBe(0);
  });

  it('lets a public route through even with a bad token, without an identity', async () => {
    const response = await sut.app.inject({
      url: '/v1/products',
      headers: { authorization: 'Bearer not-a-token' },
    });
    expect(response.statusCode).toBe(200);
    expect(inventory.seen[0]?.headers['x-user-id']).toBeUndefined();
  });
});

describe('edge headers', () => {
  it('adds security headers to proxied answers and to its own', async () => {
    for (const url of ['/v1/products', '/v1/nowhere']) {
      const response = await sut.app.inject({ url });
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(response.headers['strict-transport-security']).toBeDefined();
    }
  });

  it('allows only the configured origins', async () => {
    const allowed = await sut.app.inject({
      url: '/v1/products',
      headers: { origin: 'https://shop.example' },
    });
    expect(allowed.headers['access-control-allow-origin']).toBe('https://shop.example');
    const other = await sut.app.inject({
      url: '/v1/products',
      headers: { origin: 'https://evil.example' },
    });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('answers a preflight for an allowed origin without calling an upstream', async () => {
    const response = await sut.app.inject({
      method: 'OPTIONS',
      url: '/v1/orders',
      headers: {
        origin: 'https://shop.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
    });
    expect(response.statusCode).toBe(204);
    expect(response.headers['access-control-allow-origin']).toBe('https://shop.example');
    expect(hits()).toBe(0);
  });
});
