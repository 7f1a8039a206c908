import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, startUpstream, type FakeUpstream, type TestGateway } from './support.js';

// Redis unreachable: the limits cannot be counted, so they are skipped (fail open) and the
// skips are counted in a metric instead.
let inventory: FakeUpstream;
let sut: TestGateway;

beforeAll(async () => {
  inventory = await startUpstream('inventory');
  sut = await startGateway(
    'fail_open',
    {
      USERS_URL: inventory.url,
      INVENTORY_URL: inventory.url,
      PAYMENTS_URL: inventory.url,
      ORDERS_URL: inventory.url,
      REDIS_URL: 'redis://127.0.0.1:6390',
      RATE_LIMIT_PER_MINUTE: '1',
      AUTH_RATE_LIMIT_PER_MINUTE: '1',
    },
    { awaitRedis: false },
  );
});

afterAll(async () => {
  await sut?.close();
  await inventory?.close();
});

function failOpenCount(metrics: string, limiter: string): number {
  const line = metrics
    .split('\n')
    .find(
      (row) =>
        row.startsWith('gateway_rate_limit_fail_open_total') &&
        row.includes(`limiter="${limiter}"`),
    );
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('rate limits with Redis down', () => {
  it('let every request through and count each one', async () => {
    for (let i = 0; i < 5; i += 1) {
      const browse = await sut.app.inject({ url: '/v1/products', remoteAddress: '203.0.113.50' });
      expect(browse.statusCode).toBe(200);
      const login = await sut.app.inject({
        method: 'POST',
        url: '/v1/auth/login',
        remoteAddress: '203.0.113.50',
        payload: {},
      });
      expect(login.statusCode).toBe(200);
    }
    expect(inventory.seen).toHaveLength(10);

    const metrics = (await sut.app.inject({ url: '/metrics' })).body;
    expect(failOpenCount(metrics, 'api')).toBe(5);
    expect(failOpenCount(metrics, 'auth')).toBe(5);
  });

  it('keeps the gateway ready (Redis is not critical)', async () => {
    const response = await sut.app.inject({ url: '/health/ready' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ status: 'degraded' });
  });
});
