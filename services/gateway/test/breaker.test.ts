import { once } from 'node:events';
import { createServer } from 'node:http';
import { waitFor } from '@shop/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closedPort,
  startGateway,
  startUpstream,
  type FakeUpstream,
  type TestGateway,
} from './support.js';

// Upstreams that are dead (nothing listens) or wedged (accept and never answer): the gateway
// answers 503 problem+json for them, and the other upstreams keep answering.
let inventory: FakeUpstream;
let wedged: FakeUpstream;
let deadUrl: string;
let sut: TestGateway;

beforeAll(async () => {
  inventory = await startUpstream('inventory');
  wedged = await startUpstream('orders', { hang: true });
  deadUrl = await closedPort();
  sut = await startGateway('breaker', {
    USERS_URL: inventory.url,
    INVENTORY_URL: inventory.url,
    PAYMENTS_URL: deadUrl,
    ORDERS_URL: wedged.url,
    UPSTREAM_TIMEOUT_MS: '300',
    UPSTREAM_BREAKER_RESET_MS: '300',
  });
});

afterAll(async () => {
  await sut?.close();
  await Promise.all([inventory?.close(), wedged?.close()]);
});

async function call(url: string) {
  const token = await sut.tokenFor({
    userId: '9a4f8b52-2f7c-4b0e-9a52-7e1c3d5b6a10',
    role: 'admin',
  });
  return sut.app.inject({ url, headers: { authorization: `Bearer ${token}` } });
}

describe('a dead or wedged upstream', () => {
  it('gives 503 problem+json for a refused connection, not 502 or 500', async () => {
    const response = await call('/v1/payments?orderId=1');
    expect(response.statusCode).toBe(503);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.json()).toMatchObject({ status: 503, code: 'service_unavailable' });
  });

  it('gives 503 problem+json for an upstream that never answers, not 504', async () => {
    const response = await call('/v1/orders');
    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({ code: 'service_unavailable' });
    expect(wedged.seen.length).toBeGreaterThan(0);
  });

  it('leaves the other upstreams answering', async () => {
    const response = await call('/v1/products');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ upstream: 'inventory' });
  });

  it('opens the circuit after repeated failures: 503 at once, with Retry-After', async () => {
    // Every answer on the way is a 503; the open circuit's also says when to retry.
    const statuses = new Set<number>();
    const retryAfter = await waitFor(
      async () => {
        const response = await call('/v1/payments');
        statuses.add(response.statusCode);
        return response.headers['retry-after'] as string | undefined;
      },
      'the circuit to open',
      { timeoutMs: 10_000, intervalMs: 25 },
    );
    expect([...statuses]).toEqual([503]);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    const metrics = (await sut.app.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/circuit_breaker_state\{[^}]*breaker="payments"[^}]*\} 2/);
  });

  it('closes again once the upstream is back', async () => {
    const server = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{"back":true}');
    });
    server.listen(Number(new URL(deadUrl).port), '127.0.0.1');
    await once(server, 'listening');
    try {
      await waitFor(
        async () => (await call('/v1/payments')).statusCode === 200,
        'the circuit to close',
        { timeoutMs: 10_000, intervalMs: 25 },
      );
    } finally {
      server.close();
    }
  });
});
