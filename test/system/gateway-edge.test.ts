import { createAccessTokenSigner, loadOrCreateDevKeyPair, type Identity } from '@shop/service-kit';
import { waitFor } from '@shop/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSystem, type SystemUnderTest } from '../support/system.js';
import { sendRefusedUpload } from '../support/accounts.js';

// The gateway as `pnpm start` runs it, in front of the real services: what it refuses itself,
// and how it behaves while one service is dead.
let system: SystemUnderTest;
let signer: ReturnType<typeof createAccessTokenSigner>;

beforeAll(async () => {
  system = await startSystem('gateway_edge', {
    UPSTREAM_TIMEOUT_MS: '2000',
    UPSTREAM_BREAKER_RESET_MS: '500',
  });
  // Every program reads the same development key file; sign as the users service would.
  signer = createAccessTokenSigner({ privateKey: (await loadOrCreateDevKeyPair()).privateKey });
});

afterAll(async () => {
  await system?.stop();
});

const staff: Identity = { userId: '4d8f0c3a-6b2e-4f1a-9c7d-2e5b8a1f3c90', role: 'admin' };

async function get(path: string, identity?: Identity) {
  const headers: Record<string, string> = {};
  if (identity) headers.authorization = `Bearer ${await signer.sign(identity)}`;
  return fetch(`${system.gatewayUrl}${path}`, { headers });
}

async function expectProblem(response: Response, status: number, code: string) {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toContain('application/problem+json');
  expect(await response.json()).toMatchObject({ status, code });
}

describe('the gateway in front of the real services', () => {
  it('answers unknown paths with 404 problem+json', async () => {
    await expectProblem(await get('/v1/nowhere', staff), 404, 'not_found');
  });

  it('never routes /internal, even with a service credential', async () => {
    const response = await fetch(`${system.gatewayUrl}/internal/v1/products/prices`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-internal-token': 'anything' },
      body: '{"productIds":[]}',
    });
    await expectProblem(response, 404, 'not_found');
  });

  it('refuses a body over 1 MiB with 413 problem+json', async () => {
    // node:http, not fetch: the gateway may answer and close while the upload is still going,
    // which fetch reports as a failed write instead of the answer.
    const answer = await sendRefusedUpload(
      `${system.gatewayUrl}/v1/auth/register`,
      'POST',
      { 'content-type': 'application/json' },
      JSON.stringify({ email: 'big@example.com', padding: 'x'.repeat(1024 * 1024) }),
    );
    expect(answer.status).toBe(413);
    expect(answer.headers.get('content-type')).toContain('application/problem+json');
    expect((JSON.parse(answer.text) as { code: string }).code).toBe('payload_too_large');
  });

  it('refuses a protected route without a token with 401, before the service', async () => {
    await expectProblem(await get('/v1/orders'), 401, 'unauthorized');
  });

  it('serves the services’ OpenAPI documents merged, public paths only', async () => {
    const response = await fetch(`${system.gatewayUrl}/docs/json`);
    expect(response.status).toBe(200);
    const document = (await response.json()) as { paths: Record<string, unknown> };
    const paths = Object.keys(document.paths);
    expect(paths.length).toBeGreaterThan(0);
    expect(paths.every((path) => path.startsWith('/v1/'))).toBe(true);
  });

  it('gives 503 for a killed service while the others answer, and recovers after restart', async () => {
    await system.kill('payments');

    const down = await get('/v1/payments?orderId=1', staff);
    await expectProblem(down, 503, 'service_unavailable');

    // The other services still answer for themselves (whatever their answer, it is theirs).
    for (const path of ['/v1/products', '/v1/users/me']) {
      const response = await get(path, staff);
      expect(response.status).not.toBe(503);
      expect(response.status).not.toBe(502);
    }

    await system.restart('payments');
    await waitFor(
      async () => (await get('/v1/payments?orderId=1', staff)).status !== 503,
      'payments answering through the gateway again',
      { timeoutMs: 30_000, intervalMs: 100 },
    );
  });
});
