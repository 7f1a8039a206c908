import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closedPort,
  startGateway,
  startUpstream,
  type FakeUpstream,
  type TestGateway,
} from './support.js';

// GET /docs/json merges what each service documents, keeping only what the gateway routes.
let users: FakeUpstream;
let inventory: FakeUpstream;
let orders: FakeUpstream;
let sut: TestGateway;

const problem = { type: 'object', properties: { code: { type: 'string' } } };

function document(paths: Record<string, unknown>, schemas: Record<string, unknown>) {
  return { openapi: '3.1.0', info: { title: 'x', version: '1' }, paths, components: { schemas } };
}

beforeAll(async () => {
  [users, inventory, orders] = await Promise.all([
    startUpstream('users'),
    startUpstream('inventory'),
    startUpstream('orders'),
  ]);
  users.answer(
    '/docs/json',
    200,
    document(
      {
        '/v1/users/me': { get: { responses: { 200: { $ref: '#/components/schemas/User' } } } },
        '/v1/auth/login': { post: {} },
        '/internal/v1/users/{id}/addresses/{addressId}': { get: {} },
        '/health/ready': { get: {} },
      },
      { Problem: problem, Item: { type: 'string' }, User: { $ref: '#/components/schemas/Item' } },
    ),
  );
  inventory.answer(
    '/docs/json',
    200,
    document(
      {
        '/v1/products': { get: { responses: { 200: { $ref: '#/components/schemas/Item' } } } },
        '/internal/v1/products/prices': { post: {} },
        '/metrics': { get: {} },
      },
      { Problem: problem, Item: { type: 'integer' } },
    ),
  );
  orders.answer('/docs/json', 500, { code: 'internal_error' });
  sut = await startGateway('docs', {
    USERS_URL: users.url,
    INVENTORY_URL: inventory.url,
    PAYMENTS_URL: await closedPort(),
    ORDERS_URL: orders.url,
  });
});

afterAll(async () => {
  await sut?.close();
  await Promise.all([users, inventory, orders].map((upstream) => upstream?.close()));
});

describe('the merged OpenAPI document', () => {
  it('has every public path and none of the internal, health or metrics ones', async () => {
    const response = await sut.app.inject({ url: '/docs/json' });
    expect(response.statusCode).toBe(200);
    const merged = response.json<{ paths: Record<string, unknown> }>();
    expect(Object.keys(merged.paths)).toEqual(['/v1/auth/login', '/v1/products', '/v1/users/me']);
  });

  it('shares equal components and keeps clashing ones apart, references renamed', async () => {
    const merged = (await sut.app.inject({ url: '/docs/json' })).json<{
      paths: Record<string, { get?: { responses: Record<string, unknown> } }>;
      components: { schemas: Record<string, unknown> };
    }>();
    expect(merged.components.schemas).toEqual({
      Problem: problem,
      Item: { type: 'string' },
      User: { $ref: '#/components/schemas/Item' },
      inventory_Item: { type: 'integer' },
    });
    expect(merged.paths['/v1/products']?.get?.responses['200']).toEqual({
      $ref: '#/components/schemas/inventory_Item',
    });
  });

  it('still answers with a service down, and says which are missing', async () => {
    const merged = (await sut.app.inject({ url: '/docs/json' })).json<{
      info: { description: string };
    }>();
    expect(merged.info.description).toContain('payments');
    expect(merged.info.description).toContain('orders');
  });
});
