import { once } from 'node:events';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startGateway, startUpstream, type FakeUpstream, type TestGateway } from './support.js';

// Body size and request rate: refused by the gateway itself, never by an upstream.
const MIB = 1024 * 1024;

let users: FakeUpstream;
let inventory: FakeUpstream;
let sut: TestGateway;

beforeAll(async () => {
  [users, inventory] = await Promise.all([startUpstream('users'), startUpstream('inventory')]);
  sut = await startGateway('limits', {
    USERS_URL: users.url,
    INVENTORY_URL: inventory.url,
    PAYMENTS_URL: inventory.url,
    ORDERS_URL: inventory.url,
    RATE_LIMIT_PER_MINUTE: '5',
    AUTH_RATE_LIMIT_PER_MINUTE: '3',
  });
});

afterAll(async () => {
  await sut?.close();
  await Promise.all([users?.close(), inventory?.close()]);
});

beforeEach(() => {
  users.seen.length = 0;
  inventory.seen.length = 0;
});

/** A token for a user of its own, so each test has its own rate-limit allowance. */
function tokenOf(user: string) {
  const suffix = Buffer.from(user).toString('hex').padStart(12, '0').slice(-12);
  return sut.tokenFor({ userId: `00000000-0000-4000-8000-${suffix}`, role: 'manager' });
}

interface RawResponse {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

/** Sends `chunks` on a real socket; without `contentLength` the body goes chunked. */
async function send(
  path: string,
  chunks: Buffer[],
  { contentLength, token }: { contentLength?: number; token: string },
): Promise<RawResponse> {
  const request = httpRequest(`${sut.url}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(contentLength === undefined ? {} : { 'content-length': String(contentLength) }),
      authorization: `Bearer ${token}`,
    },
  });
  // The gateway may answer before the body is all sent; writes after that must not matter.
  request.on('error', () => undefined);
  const responded = once(request, 'response') as Promise<[IncomingMessage]>;
  for (const chunk of chunks) if (!request.write(chunk)) await once(request, 'drain');
  request.end();
  const [response] = await responded;
  let body = '';
  response.setEncoding('utf8');
  response.on('data', (chunk: string) => (body += chunk));
  await once(response, 'end');
  return { status: response.statusCode ?? 0, headers: response.headers, body };
}

describe('bodies over 1 MiB', () => {
  it('are refused from their Content-Length with 413 problem+json, before any upstream', async () => {
    const body = Buffer.alloc(MIB + 1, 'a');
    const response = await send('/v1/products', [body], {
      contentLength: body.length,
      token: await tokenOf('size-1'),
    });
    expect(response.status).toBe(413);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(JSON.parse(response.body)).toMatchObject({ status: 413, code: 'payload_too_large' });
    expect(inventory.seen).toHaveLength(0);
  });

  it('are refused while streaming when sent chunked, before any upstream', async () => {
    const chunks = Array.from({ length: 20 }, () => Buffer.alloc(64 * 1024, 'b'));
    const response = await send('/v1/products', chunks, { token: await tokenOf('size-2') });
    expect(response.status).toBe(413);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(JSON.parse(response.body)).toMatchObject({ code: 'payload_too_large' });
    expect(inventory.seen).toHaveLength(0);
  });

  it('pass when exactly 1 MiB, chunked or not', async () => {
    const body = Buffer.alloc(MIB, 'c');
    const token = await tokenOf('size-3');
    const sized = await send('/v1/products', [body], { contentLength: body.length, token });
    expect(sized.status).toBe(200);
    const halves = [body.subarray(0, MIB / 2), body.subarray(MIB / 2)];
    const chunked = await send('/v1/products', halves, { token });
    expect(chunked.status).toBe(200);
    expect(inventory.seen.map((seen) => seen.body.length)).toEqual([MIB, MIB]);
  });
});

describe('rate limits', () => {
  it('limit anonymous callers per ip, with 429 problem+json and Retry-After', async () => {
    const ip = '203.0.113.10';
    const statuses: number[] = [];
    let last;
    for (let i = 0; i < 6; i += 1) {
      last = await sut.app.inject({ url: '/v1/products', remoteAddress: ip });
      statuses.push(last.statusCode);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    expect(last?.headers['content-type']).toContain('application/problem+json');
    expect(last?.json()).toMatchObject({ status: 429, code: 'rate_limited' });
    const retryAfter = Number(last?.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(inventory.seen).toHaveLength(5);

    // Another address has its own allowance.
    const other = await sut.app.inject({ url: '/v1/products', remoteAddress: '203.0.113.11' });
    expect(other.statusCode).toBe(200);
  });

  it('limit authenticated callers per user, wherever they call from', async () => {
    const token = await sut.tokenFor({
      userId: '6c1f2f8e-3a1b-4c55-8f0e-5d8e0c7b9a01',
      role: 'customer',
    });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i += 1) {
      const response = await sut.app.inject({
        url: '/v1/orders',
        remoteAddress: `192.0.2.${i + 1}`,
        headers: { authorization: `Bearer ${token}` },
      });
      statuses.push(response.statusCode);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
  });

  it('are stricter on /v1/auth/*, per ip', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i += 1) {
      const response = await sut.app.inject({
        method: 'POST',
        url: '/v1/auth/login',
        remoteAddress: '203.0.113.20',
        payload: { email: 'a@b.example', password: 'guess' },
      });
      statuses.push(response.statusCode);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    // The general allowance of that address is untouched.
    const browse = await sut.app.inject({ url: '/v1/products', remoteAddress: '203.0.113.20' });
    expect(browse.statusCode).toBe(200);
  });

  it('count requests with forged tokens too (per ip), before refusing them', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i += 1) {
      const response = await sut.app.inject({
        url: '/v1/users/me',
        remoteAddress: '203.0.113.30',
        headers: { authorization: 'Bearer forged.token.here' },
      });
      statuses.push(response.statusCode);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
  });
});
