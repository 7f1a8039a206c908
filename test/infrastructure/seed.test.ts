import { createTestDatabase, type TestDatabase } from '@shop/service-kit/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedAll } from '../../scripts/lib/databases.js';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase('db_seed');
});

afterAll(async () => {
  await database?.drop();
});

async function counts(): Promise<Record<string, number>> {
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    const result = await client.query<{ users: number; products: number; on_hand: number }>(
      `SELECT (SELECT count(*)::int FROM users.users) AS users,
              (SELECT count(*)::int FROM inventory.products) AS products,
              (SELECT coalesce(sum(quantity_on_hand), 0)::int FROM inventory.inventory) AS on_hand`,
    );
    return { ...result.rows[0]! };
  } finally {
    await client.end();
  }
}

describe('pnpm db:seed', () => {
  it('creates a demo customer and a stocked catalog, and adds nothing when run again', async () => {
    await seedAll(database.url, 'warn');
    const first = await counts();
    expect(first.users).toBe(1);
    expect(first.products).toBeGreaterThan(0);
    expect(first.on_hand).toBeGreaterThan(0);

    await seedAll(database.url, 'warn');
    expect(await counts()).toEqual(first);
  });
});
