import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSystem, type SystemUnderTest } from '../support/system.js';

// The whole system as `pnpm start` runs it: every service a real process, driven only
// through the gateway.
let system: SystemUnderTest;

beforeAll(async () => {
  system = await startSystem('system_smoke');
});

afterAll(async () => {
  await system?.stop();
});

describe('the running system', () => {
  it('is ready through the gateway once every service is', async () => {
    const response = await fetch(`${system.gatewayUrl}/health/ready`);
    const body = (await response.json()) as { status: string; checks: { name: string }[] };
    expect(response.status).toBe(200);
    expect(body.checks.map((check) => check.name)).toEqual(
      expect.arrayContaining(['users', 'inventory', 'payments', 'orders']),
    );
  });

  it('echoes the caller’s request id and answers unknown paths with problem+json', async () => {
    const response = await fetch(`${system.gatewayUrl}/v1/nowhere`, {
      headers: { 'x-request-id': 'smoke-1' },
    });
    expect(response.status).toBe(404);
    expect(response.headers.get('x-request-id')).toBe('smoke-1');
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    const problem = (await response.json()) as { code: string; status: number };
    expect(problem).toMatchObject({ status: 404, code: 'not_found' });
  });

  it('reports unready while a service is down, and ready again once it is back', async () => {
    await system.kill('inventory');
    const down = await fetch(`${system.gatewayUrl}/health/ready`);
    expect(down.status).toBe(503);

    await system.restart('inventory');
    const up = await fetch(`${system.gatewayUrl}/health/ready`);
    expect(up.status).toBe(200);
  });
});
