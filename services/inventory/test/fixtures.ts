import { randomUUID } from 'node:crypto';
import type { Role } from '@shop/service-kit';
import type { TestService } from '@shop/service-kit/testing';

let skuCounter = 0;

export interface CreatedProduct {
  id: string;
  sku: string;
  price: number;
  available: number;
}

export function tokenOf(sut: TestService, role: Role, userId = randomUUID()): Promise<string> {
  return sut.tokenFor({ userId, role });
}

/** A product made through the API as a manager would, with `initialStock` units. */
export async function createProduct(
  sut: TestService,
  overrides: Record<string, unknown> = {},
): Promise<CreatedProduct> {
  skuCounter += 1;
  const response = await sut.app.inject({
    method: 'POST',
    url: '/v1/products',
    headers: { authorization: `Bearer ${await tokenOf(sut, 'manager')}` },
    payload: {
      sku: `SKU-${Date.now()}-${skuCounter}`,
      name: `Product ${skuCounter}`,
      category: 'test',
      price: 1000,
      initialStock: 10,
      reorderPoint: 2,
      ...overrides,
    },
  });
  if (response.statusCode !== 201) {
    throw new Error(`product not created: ${response.statusCode} ${response.body}`);
  }
  return response.json<CreatedProduct>();
}

export interface StockRow {
  on_hand: number;
  reserved: number;
  available: number;
  ledger_sum: number;
}

/** The stock row and the ledger's sum, straight from Postgres. */
export async function stockOf(sut: TestService, productId: string): Promise<StockRow> {
  const rows = (await sut.infrastructure.dataSource.query(
    `SELECT i.quantity_on_hand AS on_hand, i.quantity_reserved AS reserved,
            i.quantity_available AS available,
            (SELECT coalesce(sum(quantity_change), 0)::int FROM inventory_transactions t
              WHERE t.product_id = i.product_id) AS ledger_sum
       FROM inventory i WHERE i.product_id = $1`,
    [productId],
  )) as StockRow[];
  if (!rows[0]) throw new Error(`no stock row for ${productId}`);
  return rows[0];
}

export async function countRows(sut: TestService, sql: string, parameters: unknown[] = []) {
  const rows = (await sut.infrastructure.dataSource.query(sql, parameters)) as Array<{
    count: string;
  }>;
  return Number(rows[0]?.count ?? 0);
}

export const address = {
  addressId: randomUUID(),
  line1: '1 Main St',
  city: 'Springfield',
  state: 'IL',
  country: 'US',
  postalCode: '62701',
};
