import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer } from '../../src/http/index.js';
import { createLogger } from '../../src/logger.js';
import { buildApp, INTERNAL_TOKEN } from './fixtures.js';

type Ctx = Awaited<ReturnType<typeof buildApp>>;
let sut: Ctx;

beforeAll(async () => {
  sut = await buildApp();
});
afterAll(async () => {
  await sut.app.close();
});

const validItem = { name: 'Mug', price: 1999 };

function expectProblem(
  response: { statusCode: number; headers: Record<string, unknown>; json: () => unknown },
  status: number,
  code: string,
) {
  expect(response.statusCode).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = response.json() as Record<string, unknown>;
  expect(body).toMatchObject({ status, code });
  expect(typeof body.type).toBe('string');
  expect(typeof body.title).toBe('string');
  expect(typeof body.detail).toBe('string');
  return body;
}

describe('strict body validation', () => {
  it('accepts a valid body', async () => {
    const response = await sut.app.inject({ method: 'POST', url: '/items', payload: validItem });
    expect(response.statusCode).toBe(201);
    expect(response.json()).toEqual(validItem);
  });

  it('rejects an unknown field with 400 naming it', async () => {
    const response = await sut.app.inject({
      method: 'POST',
      url: '/items',
      payload: { ...validItem, role: 'admin' },
    });
    const body = expectProblem(response, 400, 'validation_failed');
    expect(body.errors).toContainEqual({ path: '/body/role', message: 'is not an allowed field' });
  });

  it('rejects "1" for a number instead of coercing it', async () => {
    const response = await sut.app.inject({
      method: 'POST',
      url: '/items',
      payload: { name: 'Mug', price: '1' },
    });
    const body = expectProblem(response, 400, 'validation_failed');
    expect(body.errors).toEqual([{ path: '/body/price', message: 'must be integer' }]);
  });

  it('reports every problem and missing fields at once', async () => {
    const response = await sut.app.inject({ method: 'POST', url: '/items', payload: { x: 1 } });
    const body = expectProblem(response, 400, 'validation_failed');
    expect(body.errors).toEqual(
      expect.arrayContaining([
        { path: '/body/name', message: 'is required' },
        { path: '/body/price', message: 'is required' },
        { path: '/body/x', message: 'is not an allowed field' },
      ]),
    );
  });

  it('still parses query strings and applies their defaults', async () => {
    const parsed = await sut.app.inject({ url: '/search?limit=5&active=true' });
    expect(parsed.statusCode).toBe(200);
    expect(parsed.json()).toEqual({ limit: 5, active: true });

    const defaulted = await sut.app.inject({ url: '/search' });
    expect(defaulted.json()).toEqual({ limit: 20 });

    const wrong = await sut.app.inject({ url: '/search?limit=abc' });
    const body = expectProblem(wrong, 400, 'validation_failed');
    expect(body.errors).toEqual([{ path: '/query/limit', message: 'must be integer' }]);
  });

  it('validates path parameters with formats', async () => {
    const bad = await sut.app.inject({ url: '/things/not-a-uuid' });
    const body = expectProblem(bad, 400, 'validation_failed');
    expect(body.errors).toEqual([{ path: '/params/id', message: 'must match format "uuid"' }]);
    const good = await sut.app.inject({ url: '/things/6f1c9a52-3f3e-4a4e-9d55-1a2b3c4d5e6f' });
    expect(good.statusCode).toBe(200);
  });
});

describe('inputs a route does not declare', () => {
  const thing = '6f1c9a52-3f3e-4a4e-9d55-1a2b3c4d5e6f';

  it('refuses a query parameter the route does not name, like an unknown body field', async () => {
    const unknown = await sut.app.inject({ url: '/search?limit=5&stauts=paid' });
    const body = expectProblem(unknown, 400, 'validation_failed');
    expect(body.errors).toEqual([{ path: '/query/stauts', message: 'is not an allowed field' }]);
    // A route that takes no query at all refuses any.
    const none = await sut.app.inject({ url: `/things/${thing}?expand=all` });
    expectProblem(none, 400, 'validation_failed');
  });

  it('refuses a body with fields on a route that takes none, and acts on nothing', async () => {
    const refused = await sut.app.inject({
      method: 'POST',
      url: `/things/${thing}/cancel`,
      payload: { reason: 'changed my mind' },
    });
    const body = expectProblem(refused, 400, 'validation_failed');
    expect(body.errors).toEqual([{ path: '/body/reason', message: 'is not an allowed field' }]);
    const notAnObject = await sut.app.inject({
      method: 'POST',
      url: `/things/${thing}/cancel`,
      payload: [1],
    });
    expectProblem(notAnObject, 400, 'validation_failed');
  });

  it('takes no body, or an empty object, on such a route', async () => {
    for (const payload of [undefined, {}]) {
      const accepted = await sut.app.inject({
        method: 'POST',
        url: `/things/${thing}/cancel`,
        ...(payload ? { payload } : {}),
      });
      expect(accepted.statusCode).toBe(202);
    }
  });

  it('refuses a route whose query schema would let unknown parameters through', async () => {
    const app = await createHttpServer({
      service: 'test',
      logger: createLogger({ service: 'test', level: 'silent' }),
    });
    expect(() =>
      app.get(
        '/loose',
        {
          config: { auth: 'public' },
          schema: { querystring: { type: 'object', properties: { q: { type: 'string' } } } },
        },
        async () => ({}),
      ),
    ).toThrow(/StrictObject/);
    await app.close();
  });
});

describe('body parsing', () => {
  it('refuses a body over 1 MiB with 413', async () => {
    const response = await sut.app.inject({
      method: 'POST',
      url: '/items',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ name: 'x'.repeat(1024 * 1024), price: 1 }),
    });
    expectProblem(response, 413, 'payload_too_large');
  });

  it('refuses broken JSON with 400', async () => {
    const response = await sut.app.inject({
      method: 'POST',
      url: '/items',
      headers: { 'content-type': 'application/json' },
      payload: '{"name": "Mug", ',
    });
    expectProblem(response, 400, 'invalid_json');
  });

  it('refuses prototype poisoning with 400', async () => {
    const response = await sut.app.inject({
      method: 'POST',
      url: '/items',
      headers: { 'content-type': 'application/json' },
      payload: '{"name": "Mug", "price": 1, "__proto__": {"admin": true}}',
    });
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('refuses a non-JSON content type with 415', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded']) {
      const response = await sut.app.inject({
        method: 'POST',
        url: '/items',
        headers: { 'content-type': type },
        payload: 'name=Mug&price=1',
      });
      expectProblem(response, 415, 'unsupported_media_type');
    }
  });
});

describe('errors', () => {
  it('answers an unknown route with a 404 problem', async () => {
    const response = await sut.app.inject({ url: '/nope' });
    expectProblem(response, 404, 'not_found');
    expect(response.headers['x-request-id']).toBeTruthy();
  });

  it('maps error classes to their status and code', async () => {
    const response = await sut.app.inject({ url: '/conflict' });
    const body = expectProblem(response, 409, 'email_taken');
    expect(body.detail).toBe('That email is already registered.');
  });

  it('answers a dependency outage with 503 and Retry-After', async () => {
    const response = await sut.app.inject({ url: '/unavailable' });
    expectProblem(response, 503, 'service_unavailable');
    expect(response.headers['retry-after']).toBe('10');
  });

  it('keeps a 502 from a plugin but not its message', async () => {
    const response = await sut.app.inject({ url: '/proxy-failure' });
    const body = expectProblem(response, 502, 'bad_gateway');
    expect(JSON.stringify(body)).not.toContain('10.0.0.7');
  });

  it('hides the internals of an unexpected error behind a 500', async () => {
    const response = await sut.app.inject({ url: '/boom' });
    const body = expectProblem(response, 500, 'internal_error');
    expect(JSON.stringify(body)).not.toContain('hunter2');
    // ... but the log has it, for whoever investigates.
    expect(JSON.stringify(sut.logs.lines)).toContain('hunter2');
  });
});

describe('request id and trace context', () => {
  it('echoes a sane client request id', async () => {
    const response = await sut.app.inject({
      url: '/health/live',
      headers: { 'x-request-id': 'client-abc.123' },
    });
    expect(response.headers['x-request-id']).toBe('client-abc.123');
  });

  it('generates one when absent or unsafe', async () => {
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    const absent = await sut.app.inject({ url: '/health/live' });
    expect(absent.headers['x-request-id']).toMatch(uuid);
    const unsafe = await sut.app.inject({
      url: '/health/live',
      headers: { 'x-request-id': 'evil\tvalue with spaces' + 'x'.repeat(200) },
    });
    expect(unsafe.headers['x-request-id']).toMatch(uuid);
    expect(unsafe.headers['x-request-id']).not.toBe(absent.headers['x-request-id']);
  });

  it('runs the handler inside the request context, after the body was parsed', async () => {
    const response = await sut.app.inject({
      method: 'POST',
      url: '/context',
      headers: { 'x-request-id': 'trace-me-1' },
      payload: validItem,
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      context: { requestId: 'trace-me-1', correlationId: 'trace-me-1' },
    });
    const line = sut.logs.lines.find((l) => l.msg === 'inside handler');
    expect(line).toMatchObject({ requestId: 'trace-me-1', correlationId: 'trace-me-1' });
    const completed = sut.logs.lines.find(
      (l) => l.msg === 'request completed' && l.requestId === 'trace-me-1',
    );
    expect(completed).toMatchObject({ statusCode: 200 });
  });

  it('sets the header on error answers too', async () => {
    const response = await sut.app.inject({
      method: 'POST',
      url: '/items',
      headers: { 'x-request-id': 'err-1' },
      payload: { bad: true },
    });
    expect(response.statusCode).toBe(400);
    expect(response.headers['x-request-id']).toBe('err-1');
  });
});

describe('authentication before validation', () => {
  it('401 wins over a bad body when no token is sent', async () => {
    const response = await sut.app.inject({
      method: 'POST',
      url: '/admin/items',
      payload: { nonsense: true },
    });
    expectProblem(response, 401, 'unauthorized');
    expect(response.headers['www-authenticate']).toBe('Bearer');
  });

  it('401 wins over a body too large or of the wrong type', async () => {
    const big = await sut.app.inject({
      method: 'POST',
      url: '/admin/items',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) }),
    });
    expectProblem(big, 401, 'unauthorized');
    const text = await sut.app.inject({
      method: 'POST',
      url: '/admin/items',
      headers: { 'content-type': 'text/plain' },
      payload: 'hello',
    });
    expectProblem(text, 401, 'unauthorized');
  });

  it('403 wins over a bad body for a role too weak', async () => {
    const token = await sut.signer.sign({ userId: 'u-1', role: 'customer' });
    const response = await sut.app.inject({
      method: 'POST',
      url: '/admin/items',
      headers: { authorization: `Bearer ${token}` },
      payload: { nonsense: true },
    });
    expectProblem(response, 403, 'forbidden');
  });

  it('lets the right role through to validation and the handler', async () => {
    const token = await sut.signer.sign({ userId: 'admin-1', role: 'admin' });
    const headers = { authorization: `Bearer ${token}` };
    const bad = await sut.app.inject({
      method: 'POST',
      url: '/admin/items',
      headers,
      payload: { nonsense: true },
    });
    expectProblem(bad, 400, 'validation_failed');
    const good = await sut.app.inject({
      method: 'POST',
      url: '/admin/items',
      headers,
      payload: validItem,
    });
    expect(good.statusCode).toBe(200);
    expect(good.json()).toEqual({ ...validItem, by: 'admin-1' });
  });

  it('treats staff as employee, manager and admin', async () => {
    for (const [role, status] of [
      ['employee', 200],
      ['manager', 200],
      ['admin', 200],
      ['customer', 403],
    ] as const) {
      const token = await sut.signer.sign({ userId: `u-${role}`, role });
      const response = await sut.app.inject({
        url: '/staff',
        headers: { authorization: `Bearer ${token}` },
      });
      expect(response.statusCode, role).toBe(status);
      if (status === 200)
        expect(response.json()).toEqual({ identity: { userId: `u-${role}`, role } });
    }
  });

  it('accepts any role on authenticated routes and rejects garbage', async () => {
    const token = await sut.signer.sign({ userId: 'c-1', role: 'customer' });
    const ok = await sut.app.inject({ url: '/me', headers: { authorization: `Bearer ${token}` } });
    expect(ok.json()).toEqual({ identity: { userId: 'c-1', role: 'customer' } });
    for (const authorization of ['Bearer', 'Basic abc', 'Bearer not.a.jwt', token]) {
      const response = await sut.app.inject({ url: '/me', headers: { authorization } });
      expectProblem(response, 401, 'unauthorized');
    }
  });

  it('requires the service credential on internal routes', async () => {
    const none = await sut.app.inject({ url: '/internal/v1/ping' });
    expectProblem(none, 401, 'unauthorized');
    const wrong = await sut.app.inject({
      url: '/internal/v1/ping',
      headers: { 'x-internal-token': 'guess' },
    });
    expectProblem(wrong, 401, 'unauthorized');
    // A user's token is not a service credential, even an admin's.
    const adminToken = await sut.signer.sign({ userId: 'a', role: 'admin' });
    const user = await sut.app.inject({
      url: '/internal/v1/ping',
      headers: { authorization: `Bearer ${adminToken}` },
    });
    expectProblem(user, 401, 'unauthorized');
    const ok = await sut.app.inject({
      url: '/internal/v1/ping',
      headers: { 'x-internal-token': INTERNAL_TOKEN },
    });
    expect(ok.statusCode).toBe(200);
  });
});

describe('route declarations', () => {
  it('refuses to start with a route that does not declare its auth', async () => {
    const app = await createHttpServer({
      service: 'x',
      logger: createLogger({ service: 'x', level: 'silent' }),
    });
    expect(() => app.get('/oops', async () => 'hi')).toThrow(/declares no config.auth/);
    await app.close();
  });

  it('refuses an authenticated route without a verifier', async () => {
    const app = await createHttpServer({
      service: 'x',
      logger: createLogger({ service: 'x', level: 'silent' }),
    });
    expect(() => app.get('/me', { config: { auth: 'authenticated' } }, async () => 'hi')).toThrow(
      /verifier/,
    );
    await app.close();
  });
});

describe('operational routes', () => {
  it('serves liveness', async () => {
    const response = await sut.app.inject({ url: '/health/live' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok' });
  });

  it('serves Prometheus metrics with request durations by route', async () => {
    await sut.app.inject({ url: '/search?limit=3' });
    const response = await sut.app.inject({ url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    expect(response.body).toContain('# TYPE http_request_duration_seconds histogram');
    expect(response.body).toMatch(
      /http_request_duration_seconds_count\{[^}]*route="\/search"[^}]*method="GET"[^}]*status_code="200"/,
    );
    expect(response.body).toContain('service="test"');
  });

  it('serves the OpenAPI document with the routes and their schemas', async () => {
    const response = await sut.app.inject({ url: '/docs/json' });
    expect(response.statusCode).toBe(200);
    const doc = response.json() as {
      openapi: string;
      paths: Record<string, Record<string, Record<string, unknown>>>;
    };
    expect(doc.openapi).toMatch(/^3\./);
    const post = doc.paths['/items']?.post;
    expect(post).toBeDefined();
    expect(JSON.stringify(post)).toContain('"price"');
    expect(doc.paths['/admin/items']?.post?.security).toEqual([{ bearerAuth: [] }]);
    expect(doc.paths['/internal/v1/ping']?.get?.security).toEqual([{ internalToken: [] }]);
    expect(doc.paths['/metrics']).toBeUndefined();
  });
});
