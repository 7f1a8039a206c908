import { randomUUID } from 'node:crypto';
import type { TestService } from '@shop/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRows, createProduct, stockOf, tokenOf } from './fixtures.js';
import { seedDemoCatalog } from '../src/db/seed.js';
import { startInventory } from './helpers.js';

let sut: TestService;
let manager: string;
let employee: string;
let customer: string;

beforeAll(async () => {
  sut = await startInventory('inventory_http');
  manager = await tokenOf(sut, 'manager');
  employee = await tokenOf(sut, 'employee');
  customer = await tokenOf(sut, 'customer');
});

afterAll(async () => {
  await sut?.stop();
});

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

function call(method: Method, url: string, token?: string, payload?: unknown, headers = {}) {
  return sut.app.inject({
    method,
    url,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });
}

function expectProblem(response: Awaited<ReturnType<typeof call>>, status: number, code?: string) {
  expect(response.statusCode).toBe(status);
  expect(response.headers['content-type']).toContain('application/problem+json');
  const body = response.json<{ status: number; code: string }>();
  expect(body.status).toBe(status);
  if (code) expect(body.code).toBe(code);
}

const rowCounts = async () => ({
  products: await countRows(sut, 'SELECT count(*) FROM products'),
  ledger: await countRows(sut, 'SELECT count(*) FROM inventory_transactions'),
  outbox: await countRows(sut, 'SELECT count(*) FROM outbox'),
  audit: await countRows(sut, 'SELECT count(*) FROM audit_logs'),
});

describe('who may call what', () => {
  it('answers 401 without a token and 403 for a role too weak, before reading the body', async () => {
    const product = await createProduct(sut);
    const id = product.id;
    const staffOnly: Array<[Method, string, unknown?]> = [
      ['GET', `/v1/inventory/${id}`],
      ['GET', `/v1/inventory/${id}/transactions`],
      ['GET', '/v1/inventory/low-stock'],
      ['POST', `/v1/inventory/${id}/adjustments`, { type: 'purchase', quantityChange: 1 }],
      ['POST', `/v1/shipments/${randomUUID()}/deliver`],
    ];
    const managerOnly: Array<[Method, string, unknown?]> = [
      ['POST', '/v1/products', { sku: 'X-1', name: 'x', category: 'c', price: 1, reorderPoint: 1 }],
      ['PATCH', `/v1/products/${id}`, { name: 'y' }],
      ['DELETE', `/v1/products/${id}`],
    ];
    for (const [method, url, body] of [...staffOnly, ...managerOnly]) {
      expectProblem(await call(method, url, undefined, body), 401, 'unauthorized');
      expectProblem(await call(method, url, customer, body), 403, 'forbidden');
    }
    for (const [method, url, body] of managerOnly) {
      expectProblem(await call(method, url, employee, body), 403, 'forbidden');
    }
    expectProblem(await call('GET', `/v1/shipments/${randomUUID()}`), 401);
    // The internal route wants the service credential, not a user token.
    const lookup = { ids: [id] };
    expectProblem(await call('POST', '/internal/v1/products/lookup', manager, lookup), 401);
    expectProblem(
      await call('POST', '/internal/v1/products/lookup', undefined, lookup, {
        'x-internal-token': 'wrong',
      }),
      401,
    );
    // Nothing was changed by any refused call.
    expect((await stockOf(sut, id)).on_hand).toBe(10);
  });

  it('lets staff read stock and managers change the catalog', async () => {
    const product = await createProduct(sut, { initialStock: 7, warehouseLocation: 'A-1' });
    const stock = await call('GET', `/v1/inventory/${product.id}`, employee);
    expect(stock.statusCode).toBe(200);
    expect(stock.json()).toMatchObject({
      productId: product.id,
      quantityOnHand: 7,
      quantityReserved: 0,
      quantityAvailable: 7,
      reorderPoint: 2,
      warehouseLocation: 'A-1',
      lastCountedAt: null,
    });
    const patched = await call('PATCH', `/v1/products/${product.id}`, manager, {
      price: 2500,
      description: null,
      reorderPoint: 5,
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ price: 2500, description: null, reorderPoint: 5 });
    expect(
      await countRows(
        sut,
        `SELECT count(*) FROM outbox WHERE type = 'inventory.events.product.updated' AND payload->'data'->>'productId' = $1`,
        [product.id],
      ),
    ).toBe(1);
    expect(
      await countRows(
        sut,
        `SELECT count(*) FROM audit_logs WHERE entity_id = $1 AND action = 'update'`,
        [product.id],
      ),
    ).toBe(1);
  });
});

describe('validation: a bad request is a 400 problem and changes nothing', () => {
  it('refuses every kind of bad body to POST /v1/products', async () => {
    const before = await rowCounts();
    const good = { sku: 'VAL-1', name: 'Valid', category: 'c', price: 100, reorderPoint: 1 };
    const bad: Array<[string, unknown]> = [
      ['price as a string', { ...good, price: '100' }],
      ['price as a float', { ...good, price: 10.5 }],
      ['negative price', { ...good, price: -1 }],
      ['unknown field', { ...good, quantity: 3 }],
      ['setting isActive', { ...good, isActive: false }],
      ['missing name', { sku: 'VAL-1', category: 'c', price: 100, reorderPoint: 1 }],
      ['blank name', { ...good, name: '   ' }],
      ['sku with spaces', { ...good, sku: 'a b' }],
      ['zero reorder point', { ...good, reorderPoint: 0 }],
      ['negative initial stock', { ...good, initialStock: -5 }],
      ['image url not http', { ...good, imageUrl: 'javascript:alert(1)' }],
      ['an array', [good]],
    ];
    for (const [what, body] of bad) {
      const response = await call('POST', '/v1/products', manager, body);
      expect(response.statusCode, what).toBe(400);
      expect(response.headers['content-type'], what).toContain('application/problem+json');
    }
    const broken = await call('POST', '/v1/products', manager, '{"sku": "X', {
      'content-type': 'application/json',
    });
    expectProblem(broken, 400);
    const huge = await call(
      'POST',
      '/v1/products',
      manager,
      JSON.stringify({ ...good, description: 'x'.repeat(1_100_000) }),
      { 'content-type': 'application/json' },
    );
    expectProblem(huge, 413);
    const notJson = await call('POST', '/v1/products', manager, 'sku=1', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(notJson.statusCode).toBe(415);
    expect(await rowCounts()).toEqual(before);
  });

  it('refuses bad ids, queries, patches, adjustments and lookups', async () => {
    const product = await createProduct(sut);
    const before = await rowCounts();
    expectProblem(await call('GET', '/v1/products/not-a-uuid'), 400);
    expectProblem(await call('GET', '/v1/products?limit=0'), 400);
    expectProblem(await call('GET', '/v1/products?limit=101'), 400);
    expectProblem(await call('GET', '/v1/products?cursor=forged'), 400);
    expectProblem(await call('PATCH', `/v1/products/${product.id}`, manager, {}), 400);
    expectProblem(await call('PATCH', `/v1/products/${product.id}`, manager, { sku: 'NEW' }), 400);
    expectProblem(
      await call('PATCH', `/v1/products/${product.id}`, manager, { initialStock: 5 }),
      400,
    );
    const adjust = `/v1/inventory/${product.id}/adjustments`;
    expectProblem(await call('POST', adjust, employee, { type: 'sale', quantityChange: -1 }), 400);
    expectProblem(
      await call('POST', adjust, employee, { type: 'purchase', quantityChange: '5' }),
      400,
    );
    expectProblem(
      await call('POST', adjust, employee, { type: 'purchase', quantityChange: 5, by: 'me' }),
      400,
    );
    const lookup = (body: unknown) =>
      call('POST', '/internal/v1/products/lookup', undefined, body, {
        'x-internal-token': sut.internalToken,
      });
    expectProblem(await lookup({ ids: [] }), 400);
    expectProblem(await lookup({ ids: [product.id, product.id] }), 400);
    expectProblem(await lookup({ ids: ['nope'] }), 400);
    expectProblem(await lookup({ ids: Array.from({ length: 101 }, () => randomUUID()) }), 400);
    expect(await rowCounts()).toEqual(before);
  });

  it('answers 404 for ids that do not exist, and 409 sku_taken whatever the case', async () => {
    const missing = randomUUID();
    expectProblem(await call('GET', `/v1/products/${missing}`), 404, 'not_found');
    expectProblem(await call('PATCH', `/v1/products/${missing}`, manager, { name: 'x' }), 404);
    expectProblem(await call('DELETE', `/v1/products/${missing}`, manager), 404);
    expectProblem(await call('GET', `/v1/inventory/${missing}`, employee), 404);
    expectProblem(
      await call('POST', `/v1/inventory/${missing}/adjustments`, employee, {
        type: 'purchase',
        quantityChange: 1,
      }),
      404,
    );
    expectProblem(await call('POST', `/v1/shipments/${missing}/deliver`, employee), 404);

    const product = await createProduct(sut, { sku: 'Dup-Sku-1' });
    const before = await rowCounts();
    const again = await call('POST', '/v1/products', manager, {
      sku: 'DUP-SKU-1',
      name: 'Other',
      category: 'c',
      price: 1,
      reorderPoint: 1,
      initialStock: 3,
    });
    expectProblem(again, 409, 'sku_taken');
    expect(await rowCounts()).toEqual(before);
    expect(product.sku).toBe('Dup-Sku-1');
  });
});

describe('adjustments and the ledger', () => {
  it('keeps on-hand equal to the ledger and refuses what would break the checks (422, no row)', async () => {
    const product = await createProduct(sut, { initialStock: 10 });
    const adjust = (body: unknown) =>
      call('POST', `/v1/inventory/${product.id}/adjustments`, employee, body);

    const purchase = await adjust({ type: 'purchase', quantityChange: 5, notes: 'restock' });
    expect(purchase.statusCode).toBe(201);
    expect(purchase.json()).toMatchObject({
      productId: product.id,
      type: 'purchase',
      quantityChange: 5,
      notes: 'restock',
      orderId: null,
    });
    expect((await adjust({ type: 'count_variance', quantityChange: -3 })).statusCode).toBe(201);
    expect(await stockOf(sut, product.id)).toEqual({
      on_hand: 12,
      reserved: 0,
      available: 12,
      ledger_sum: 12,
    });

    // Hold 8 units for an order, so on-hand may not drop below 8.
    await sut.infrastructure.dataSource.query(
      'UPDATE inventory SET quantity_reserved = 8 WHERE product_id = $1',
      [product.id],
    );
    const before = await rowCounts();
    expectProblem(
      await adjust({ type: 'adjustment', quantityChange: -5 }),
      422,
      'insufficient_stock',
    );
    expectProblem(
      await adjust({ type: 'adjustment', quantityChange: -100 }),
      422,
      'insufficient_stock',
    );
    expectProblem(await adjust({ type: 'purchase', quantityChange: -1 }), 422);
    expectProblem(await adjust({ type: 'return', quantityChange: 0 }), 422);
    expect(await rowCounts()).toEqual(before);
    expect(await stockOf(sut, product.id)).toMatchObject({
      on_hand: 12,
      reserved: 8,
      ledger_sum: 12,
    });
    expect((await adjust({ type: 'adjustment', quantityChange: -4 })).statusCode).toBe(201);
    expect(await stockOf(sut, product.id)).toEqual({
      on_hand: 8,
      reserved: 8,
      available: 0,
      ledger_sum: 8,
    });

    const counted = await call('GET', `/v1/inventory/${product.id}`, employee);
    expect(counted.json<{ lastCountedAt: string | null }>().lastCountedAt).not.toBeNull();
  });

  it('pages the ledger newest first', async () => {
    const product = await createProduct(sut, { initialStock: 1 });
    for (let n = 1; n <= 4; n += 1) {
      await call('POST', `/v1/inventory/${product.id}/adjustments`, employee, {
        type: 'purchase',
        quantityChange: n,
      });
    }
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/v1/inventory/${product.id}/transactions?limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page = (await call('GET', url, employee)).json<{
        items: Array<{ quantityChange: number }>;
        nextCursor: string | null;
      }>();
      seen.push(...page.items.map((item) => item.quantityChange));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual([4, 3, 2, 1, 1]);
  });

  it('lists low stock: available below the reorder point', async () => {
    const low = await createProduct(sut, { initialStock: 1, reorderPoint: 5 });
    const fine = await createProduct(sut, { initialStock: 50, reorderPoint: 5 });
    const response = await call('GET', '/v1/inventory/low-stock?limit=100', employee);
    expect(response.statusCode).toBe(200);
    const ids = response
      .json<{ items: Array<{ productId: string }> }>()
      .items.map((item) => item.productId);
    expect(ids).toContain(low.id);
    expect(ids).not.toContain(fine.id);
  });
});

describe('the public catalog', () => {
  it('pages active products newest first and searches name and SKU', async () => {
    const category = `cat-${randomUUID().slice(0, 8)}`;
    const made = [];
    for (let n = 0; n < 5; n += 1) {
      made.push(
        await createProduct(sut, { category, name: n === 2 ? 'Blue 50% Mug' : `Plain ${n}` }),
      );
    }
    await call('DELETE', `/v1/products/${made[1]!.id}`, manager);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/v1/products?category=${category}&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const response = await call('GET', url);
      expect(response.statusCode).toBe(200);
      const page = response.json<{
        items: Array<{ id: string; available: number }>;
        nextCursor: string | null;
      }>();
      seen.push(...page.items.map((item) => item.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual([made[4]!.id, made[3]!.id, made[2]!.id, made[0]!.id]);

    const byName = (await call('GET', `/v1/products?category=${category}&q=50%25`)).json<{
      items: Array<{ id: string }>;
    }>();
    expect(byName.items.map((item) => item.id)).toEqual([made[2]!.id]);
    const bySku = (await call('GET', `/v1/products?q=${made[3]!.sku.toLowerCase()}`)).json<{
      items: Array<{ id: string }>;
    }>();
    expect(bySku.items.map((item) => item.id)).toEqual([made[3]!.id]);

    // A deactivated product is gone from the public view, and deactivating again is harmless.
    expectProblem(await call('GET', `/v1/products/${made[1]!.id}`), 404);
    expect((await call('DELETE', `/v1/products/${made[1]!.id}`, manager)).statusCode).toBe(204);
    expect(
      await countRows(
        sut,
        `SELECT count(*) FROM outbox WHERE type = 'inventory.events.product.deactivated' AND payload->'data'->>'productId' = $1`,
        [made[1]!.id],
      ),
    ).toBe(1);
  });

  it('answers the internal lookup with prices and flags, unknown ids absent', async () => {
    const active = await createProduct(sut, { price: 1234 });
    const inactive = await createProduct(sut, { price: 99 });
    await call('DELETE', `/v1/products/${inactive.id}`, manager);
    const response = await call(
      'POST',
      '/internal/v1/products/lookup',
      undefined,
      { ids: [active.id, inactive.id, randomUUID()] },
      { 'x-internal-token': sut.internalToken },
    );
    expect(response.statusCode).toBe(200);
    const items = response.json<{ items: Array<{ id: string }> }>().items;
    expect(items.sort((a, b) => (a.id < b.id ? -1 : 1))).toEqual(
      [
        { id: active.id, sku: active.sku, name: expect.any(String), price: 1234, isActive: true },
        {
          id: inactive.id,
          sku: inactive.sku,
          name: expect.any(String),
          price: 99,
          isActive: false,
        },
      ].sort((a, b) => (a.id < b.id ? -1 : 1)),
    );
  });
});

describe('the demo seed', () => {
  it('adds the demo catalog with its stock once, however often it runs', async () => {
    const { dataSource } = sut.infrastructure;
    const [first, second] = await Promise.all([
      seedDemoCatalog(dataSource),
      seedDemoCatalog(dataSource),
    ]);
    expect(first.length + second.length).toBe(7);
    expect(await seedDemoCatalog(dataSource)).toEqual([]);
    const mismatched = await countRows(
      sut,
      `SELECT count(*) FROM inventory i
        WHERE i.quantity_on_hand <> (SELECT coalesce(sum(quantity_change), 0) FROM inventory_transactions t WHERE t.product_id = i.product_id)`,
    );
    expect(mismatched).toBe(0);
    const catalog = await call('GET', '/v1/products?category=kitchen');
    expect(catalog.json<{ items: unknown[] }>().items).toHaveLength(2);
  });
});
