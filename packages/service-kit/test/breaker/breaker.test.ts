import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBreaker } from '../../src/breaker.js';
import { runWithContext } from '../../src/context.js';
import { NotFoundError, ServiceUnavailableError } from '../../src/errors.js';
import { createMetricsRegistry } from '../../src/metrics.js';
import { createServiceClient, UpstreamHttpError } from '../../src/service-client.js';

const fast = { volumeThreshold: 2, errorThresholdPercentage: 50, resetTimeoutMs: 200 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function outcome(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => ({ value }),
    (error: unknown) => error,
  );
}

describe('createBreaker', () => {
  it('opens after failures, fails fast while open, and closes after the reset', async () => {
    let healthy = false;
    let calls = 0;
    const registry = createMetricsRegistry('breaker-test');
    const sut = createBreaker(
      async (_signal: AbortSignal, n: number) => {
        calls += 1;
        if (!healthy) throw Object.assign(new Error('upstream 502'), { statusCode: 502 });
        return n * 2;
      },
      { name: 'flaky', timeoutMs: 1000, registry, ...fast },
    );
    try {
      for (let i = 0; i < 3; i += 1) await outcome(sut.fire(i));
      expect(sut.state).toBe('open');

      const callsBefore = calls;
      const started = Date.now();
      const rejected = await outcome(sut.fire(1));
      expect(rejected).toBeInstanceOf(ServiceUnavailableError);
      expect((rejected as ServiceUnavailableError).code).toBe('service_unavailable');
      expect(Date.now() - started).toBeLessThan(50);
      expect(calls).toBe(callsBefore);

      const metrics = await registry.metrics();
      expect(metrics).toMatch(/circuit_breaker_state\{[^}]*breaker="flaky"[^}]*\} 2/);
      // Two failures open it (volume 2); the third loop call and the one above are rejected.
      expect(metrics).toMatch(/circuit_breaker_calls_total\{[^}]*outcome="failure"[^}]*\} 2/);
      expect(metrics).toMatch(/circuit_breaker_calls_total\{[^}]*outcome="rejected"[^}]*\} 2/);

      healthy = true;
      await sleep(250);
      await expect(sut.fire(21)).resolves.toBe(42);
      expect(sut.state).toBe('closed');
      expect(await registry.metrics()).toMatch(
        /circuit_breaker_state\{[^}]*breaker="flaky"[^}]*\} 0/,
      );
    } finally {
      sut.shutdown();
    }
  });

  it('does not count 4xx-like errors as failures', async () => {
    const sut = createBreaker(
      async () => {
        throw new NotFoundError('no such product');
      },
      { name: 'lookup', timeoutMs: 1000, ...fast },
    );
    try {
      for (let i = 0; i < 10; i += 1) {
        const error = await outcome(sut.fire());
        expect(error).toBeInstanceOf(NotFoundError);
      }
      expect(sut.state).toBe('closed');
    } finally {
      sut.shutdown();
    }
  });

  it('times out slow calls, aborts their signal, and opens on timeouts', async () => {
    const aborted: unknown[] = [];
    const sut = createBreaker(
      (signal: AbortSignal) =>
        new Promise<string>((resolve, reject) => {
          const timer = setTimeout(() => resolve('late'), 5000);
          signal.addEventListener('abort', () => {
            clearTimeout(timer);
            aborted.push(signal.reason);
            reject(signal.reason as Error);
          });
        }),
      { name: 'slow', timeoutMs: 50, ...fast },
    );
    try {
      const started = Date.now();
      const first = await outcome(sut.fire());
      expect(Date.now() - started).toBeLessThan(1000);
      expect(first).toBeInstanceOf(ServiceUnavailableError);
      expect(aborted).toHaveLength(1);
      await outcome(sut.fire());
      await outcome(sut.fire());
      expect(sut.state).toBe('open');
    } finally {
      sut.shutdown();
    }
  });
});

describe('createServiceClient', () => {
  let server: Server;
  let baseUrl: string;
  let mode: 'ok' | 'fail' | 'slow' | 'missing' = 'ok';
  const seen: { headers: IncomingMessage['headers']; url?: string; body: string }[] = [];

  beforeAll(async () => {
    server = createServer((request: IncomingMessage, response: ServerResponse) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        seen.push({ headers: request.headers, url: request.url, body });
        const json = (status: number, value: unknown, type = 'application/json') => {
          response.writeHead(status, { 'content-type': type });
          response.end(JSON.stringify(value));
        };
        if (mode === 'fail') return json(500, { oops: true });
        if (mode === 'missing')
          return json(
            404,
            { type: 't', title: 'Not Found', status: 404, detail: 'd', code: 'not_found' },
            'application/problem+json',
          );
        if (mode === 'slow') return void setTimeout(() => json(200, { late: true }), 1000);
        return json(200, { echo: body ? (JSON.parse(body) as unknown) : null });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('sends JSON, the credential and the request id, and reads JSON back', async () => {
    mode = 'ok';
    const sut = createServiceClient({ name: 'users', baseUrl, internalToken: 'svc-token' });
    try {
      const result = await runWithContext({ requestId: 'req-42', correlationId: 'req-42' }, () =>
        sut.post<{ echo: unknown }>('/internal/v1/check', { userId: 'u1' }, { query: { a: 1 } }),
      );
      expect(result).toEqual({ echo: { userId: 'u1' } });
      const last = seen.at(-1)!;
      expect(last.url).toBe('/internal/v1/check?a=1');
      expect(last.headers['x-internal-token']).toBe('svc-token');
      expect(last.headers['x-request-id']).toBe('req-42');
      expect(last.headers['content-type']).toBe('application/json');
    } finally {
      sut.breaker.shutdown();
    }
  });

  it('returns 4xx as UpstreamHttpError without tripping the breaker', async () => {
    mode = 'missing';
    const sut = createServiceClient({ name: 'users', baseUrl, breaker: fast });
    try {
      for (let i = 0; i < 5; i += 1) {
        const error = await outcome(sut.get('/internal/v1/addresses/x'));
        expect(error).toBeInstanceOf(UpstreamHttpError);
        expect((error as UpstreamHttpError).status).toBe(404);
        expect((error as UpstreamHttpError).problem?.code).toBe('not_found');
      }
      expect(sut.breaker.state).toBe('closed');
    } finally {
      sut.breaker.shutdown();
    }
  });

  it('turns 5xx into 503 and opens the breaker, then fails fast', async () => {
    mode = 'fail';
    const sut = createServiceClient({ name: 'inventory', baseUrl, breaker: fast });
    try {
      for (let i = 0; i < 3; i += 1)
        expect(await outcome(sut.get('/x'))).toBeInstanceOf(ServiceUnavailableError);
      expect(sut.breaker.state).toBe('open');
      const before = seen.length;
      const error = await outcome(sut.get('/x'));
      expect(error).toBeInstanceOf(ServiceUnavailableError);
      expect((error as ServiceUnavailableError).toProblem()).toMatchObject({
        status: 503,
        code: 'service_unavailable',
      });
      expect(seen.length).toBe(before);

      mode = 'ok';
      await sleep(250);
      await expect(sut.get('/x')).resolves.toEqual({ echo: null });
      expect(sut.breaker.state).toBe('closed');
    } finally {
      sut.breaker.shutdown();
    }
  });

  it('turns timeouts and refused connections into 503', async () => {
    mode = 'slow';
    const slow = createServiceClient({ name: 'payments', baseUrl, timeoutMs: 100, breaker: fast });
    const started = Date.now();
    expect(await outcome(slow.get('/x'))).toBeInstanceOf(ServiceUnavailableError);
    expect(Date.now() - started).toBeLessThan(800);
    // A per-call timeout shorter than the client's also counts.
    const perCall = await outcome(slow.get('/x', { timeoutMs: 30 }));
    expect(perCall).toBeInstanceOf(ServiceUnavailableError);
    slow.breaker.shutdown();

    const dead = createServiceClient({ name: 'orders', baseUrl: 'http://127.0.0.1:6391' });
    expect(await outcome(dead.get('/x'))).toBeInstanceOf(ServiceUnavailableError);
    dead.breaker.shutdown();
  });
});
