import { randomUUID } from 'node:crypto';
import { ReleaseStock, ReserveStock, ShipOrder } from '@shop/contracts';
import { waitFor, type TestService } from '@shop/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAvailabilityCache } from '../src/cache/availability-cache.js';
import { address, createProduct, stockOf, tokenOf } from './fixtures.js';
import {
  CLOSED_REDIS_URL,
  sendCommand,
  startInventory,
  streamReader,
  type StreamReader,
} from './helpers.js';

let sut: TestService;
let stream: StreamReader;
let degraded: TestService;

beforeAll(async () => {
  [sut, degraded] = await Promise.all([
    startInventory('inventory_cache'),
    startInventory('inventory_cache_no_redis', { REDIS_URL: CLOSED_REDIS_URL }),
  ]);
  stream = streamReader(sut);
});

afterAll(async () => {
  await Promise.all([sut?.stop(), degraded?.stop()]);
});

const keyOf = (productId: string) => `${sut.namespace}:inventory:${productId}`;

async function publicAvailable(service: TestService, productId: string): Promise<number> {
  const response = await service.app.inject({ method: 'GET', url: `/v1/products/${productId}` });
  expect(response.statusCode).toBe(200);
  return response.json<{ available: number }>().available;
}

async function cachedEntry(productId: string) {
  const [version, value] = await sut.infrastructure.redis.client.hmget(
    keyOf(productId),
    'version',
    'value',
  );
  return version === null ? null : { version: Number(version), value: Number(value) };
}

/** The public view and the cache entry both show what Postgres holds now. */
async function expectCacheMatchesPostgres(productId: string) {
  const rows = (await sut.infrastructure.dataSource.query(
    'SELECT quantity_available AS available, version::int AS version FROM inventory WHERE product_id = $1',
    [productId],
  )) as Array<{ available: number; version: number }>;
  const truth = rows[0]!;
  await waitFor(
    async () => {
      const entry = await cachedEntry(productId);
      return entry?.version === truth.version && entry.value === truth.available;
    },
    `cache at version ${truth.version}`,
    { intervalMs: 25 },
  );
  expect(await publicAvailable(sut, productId)).toBe(truth.available);
}

describe('the availability cache', () => {
  it('serves the public catalog from Redis', async () => {
    const product = await createProduct(sut, { initialStock: 10 });
    await expectCacheMatchesPostgres(product.id);
    // A value planted under a newer version is what the public sees: the cache is read.
    await sut.infrastructure.redis.client.hset(
      keyOf(product.id),
      'version',
      '1000',
      'value',
      '777',
    );
    expect(await publicAvailable(sut, product.id)).toBe(777);
    const list = await sut.app.inject({ method: 'GET', url: `/v1/products?q=${product.sku}` });
    expect(list.json<{ items: Array<{ available: number }> }>().items[0]!.available).toBe(777);
    // Staff read Postgres, never the cache.
    const staff = await sut.app.inject({
      method: 'GET',
      url: `/v1/inventory/${product.id}`,
      headers: { authorization: `Bearer ${await tokenOf(sut, 'employee')}` },
    });
    expect(staff.json<{ quantityAvailable: number }>().quantityAvailable).toBe(10);
    await sut.infrastructure.redis.client.del(keyOf(product.id));
    expect(await publicAvailable(sut, product.id)).toBe(10);
  });

  it('follows every kind of change: adjustment, reservation, release, shipment', async () => {
    const product = await createProduct(sut, { initialStock: 10 });
    expect(await publicAvailable(sut, product.id)).toBe(10);

    const adjusted = await sut.app.inject({
      method: 'POST',
      url: `/v1/inventory/${product.id}/adjustments`,
      headers: { authorization: `Bearer ${await tokenOf(sut, 'employee')}` },
      payload: { type: 'purchase', quantityChange: 5 },
    });
    expect(adjusted.statusCode).toBe(201);
    await expectCacheMatchesPostgres(product.id);

    const held = randomUUID();
    const customerId = randomUUID();
    await sendCommand(sut, ReserveStock, {
      orderId: held,
      customerId,
      items: [{ productId: product.id, quantity: 4 }],
    });
    await stream.waitFor('inventory.events.reservation.reserved', held);
    await expectCacheMatchesPostgres(product.id);
    expect(await publicAvailable(sut, product.id)).toBe(11);

    await sendCommand(sut, ReleaseStock, { orderId: held, reason: 'customer_request' });
    await stream.waitFor('inventory.events.reservation.released', held);
    await expectCacheMatchesPostgres(product.id);
    expect(await publicAvailable(sut, product.id)).toBe(15);

    const shipped = randomUUID();
    await sendCommand(sut, ReserveStock, {
      orderId: shipped,
      customerId,
      items: [{ productId: product.id, quantity: 6 }],
    });
    await stream.waitFor('inventory.events.reservation.reserved', shipped);
    await sendCommand(sut, ShipOrder, {
      orderId: shipped,
      orderNumber: 'ORD-2026-000042',
      customerId,
      items: [{ productId: product.id, quantity: 6 }],
      shippingAddress: address,
    });
    await stream.waitFor('inventory.events.shipment.created', shipped);
    await expectCacheMatchesPostgres(product.id);
    expect(await publicAvailable(sut, product.id)).toBe(9);
    expect(await stockOf(sut, product.id)).toEqual({
      on_hand: 9,
      reserved: 0,
      available: 9,
      ledger_sum: 9,
    });
  });

  it('never lets an older version overwrite a newer one', async () => {
    const cache = createAvailabilityCache({
      redis: sut.infrastructure.redis,
      keyPrefix: `${sut.namespace}:`,
      ttlSeconds: 60,
    });
    const productId = randomUUID();
    await cache.store({ productId, available: 3, version: 5 });
    await cache.store({ productId, available: 7, version: 4 });
    await cache.store({ productId, available: 9, version: 5 });
    expect(await cachedEntry(productId)).toEqual({ version: 5, value: 3 });
    await cache.store({ productId, available: 1, version: 6 });
    expect(await cachedEntry(productId)).toEqual({ version: 6, value: 1 });
  });
});

describe('with Redis unreachable', () => {
  it('still serves the catalog, takes reservations and records adjustments from Postgres', async () => {
    const product = await createProduct(degraded, { initialStock: 4 });
    expect(await publicAvailable(degraded, product.id)).toBe(4);
    const list = await degraded.app.inject({ method: 'GET', url: `/v1/products?q=${product.sku}` });
    expect(list.statusCode).toBe(200);
    expect(list.json<{ items: Array<{ available: number }> }>().items[0]!.available).toBe(4);

    const adjusted = await degraded.app.inject({
      method: 'POST',
      url: `/v1/inventory/${product.id}/adjustments`,
      headers: { authorization: `Bearer ${await tokenOf(degraded, 'manager')}` },
      payload: { type: 'purchase', quantityChange: 2 },
    });
    expect(adjusted.statusCode).toBe(201);
    expect(await publicAvailable(degraded, product.id)).toBe(6);

    const orderId = randomUUID();
    await sendCommand(degraded, ReserveStock, {
      orderId,
      customerId: randomUUID(),
      items: [{ productId: product.id, quantity: 5 }],
    });
    await streamReader(degraded).waitFor('inventory.events.reservation.reserved', orderId);
    expect(await publicAvailable(degraded, product.id)).toBe(1);

    const ready = await degraded.app.inject({ method: 'GET', url: '/health/ready' });
    expect(ready.statusCode).toBe(200);
  });
});
