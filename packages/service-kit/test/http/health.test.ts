import { describe, expect, it } from 'vitest';
import { buildApp } from './fixtures.js';

const up = (name: string, critical: boolean) => ({ name, critical, check: async () => true });
const down = (name: string, critical: boolean) => ({
  name,
  critical,
  check: async () => {
    throw new Error(`${name} refused the connection`);
  },
});

describe('GET /health/ready', () => {
  it('is 200 ok when every check passes', async () => {
    const { app } = await buildApp({ checks: [up('postgres', true), up('nats', true)] });
    const response = await app.inject({ url: '/health/ready' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ status: 'ok' });
    await app.close();
  });

  it('is 200 degraded when only a non-critical check fails', async () => {
    const { app } = await buildApp({
      checks: [up('postgres', true), up('nats', true), down('redis', false)],
    });
    const response = await app.inject({ url: '/health/ready' });
    expect(response.statusCode).toBe(200);
    const body = response.json() as { status: string; checks: Record<string, unknown>[] };
    expect(body.status).toBe('degraded');
    expect(body.checks).toHaveLength(3);
    expect(body.checks.find((c) => c.name === 'redis')).toMatchObject({
      status: 'down',
      critical: false,
      error: 'redis refused the connection',
    });
    await app.close();
  });

  it('is 503 unready when a critical check fails', async () => {
    const { app } = await buildApp({ checks: [down('postgres', true), up('nats', true)] });
    const response = await app.inject({ url: '/health/ready' });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({ status: 'unready' });
    await app.close();
  });

  it('treats a hanging check as down, within its timeout', async () => {
    const { app } = await buildApp({ checks: [] });
    app.addReadinessCheck({
      name: 'nats',
      critical: true,
      timeoutMs: 50,
      check: () => new Promise(() => undefined),
    });
    const started = Date.now();
    const response = await app.inject({ url: '/health/ready' });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(response.statusCode).toBe(503);
    expect(JSON.stringify(response.json())).toContain('timed out');
    await app.close();
  });

  it('keeps liveness at 200 whatever the dependencies say', async () => {
    const { app } = await buildApp({ checks: [down('postgres', true)] });
    expect((await app.inject({ url: '/health/live' })).statusCode).toBe(200);
    await app.close();
  });
});
