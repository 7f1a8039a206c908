import type { EntityManager } from 'typeorm';
import type { AddressSnapshot } from '../../domain/saga/types.js';

export interface KnownProduct {
  productId: string;
  sku: string;
  price: number;
  isActive: boolean;
}

/** What a read model says about one id: known, known to be gone, or never heard of. */
export type Lookup<T> = { found: true; value: T } | { found: false; removed: boolean };

export interface KnownAddress {
  userId: string;
  snapshot: AddressSnapshot;
}

export interface KnownPaymentMethod {
  userId: string;
  providerPaymentMethodId: string;
}

export function createReadModelsRepository(manager: EntityManager) {
  return {
    /** Upsert unless what we hold is newer (events may arrive out of order). */
    async upsertProduct(product: KnownProduct & { updatedAt: string }): Promise<void> {
      await manager.query(
        `INSERT INTO product_prices (product_id, sku, price, is_active, source_updated_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (product_id) DO UPDATE
           SET sku = excluded.sku, price = excluded.price, is_active = excluded.is_active,
               source_updated_at = excluded.source_updated_at, updated_at = now()
         WHERE product_prices.source_updated_at <= excluded.source_updated_at`,
        [product.productId, product.sku, product.price, product.isActive, product.updatedAt],
      );
    },

    async deactivateProduct(productId: string, sku: string, at: string): Promise<void> {
      // An unknown product is stored inactive at price 0: ordering it is refused either way.
      await manager.query(
        `INSERT INTO product_prices (product_id, sku, price, is_active, source_updated_at)
         VALUES ($1, $2, 0, false, $3)
         ON CONFLICT (product_id) DO UPDATE
           SET is_active = false, source_updated_at = excluded.source_updated_at, updated_at = now()
         WHERE product_prices.source_updated_at <= excluded.source_updated_at`,
        [productId, sku, at],
      );
    },

    async products(ids: string[]): Promise<Map<string, KnownProduct>> {
      const rows = (await manager.query(
        `SELECT product_id, sku, price, is_active FROM product_prices WHERE product_id = ANY($1::uuid[])`,
        [ids],
      )) as { product_id: string; sku: string; price: number; is_active: boolean }[];
      return new Map(
        rows.map((row) => [
          row.product_id,
          { productId: row.product_id, sku: row.sku, price: row.price, isActive: row.is_active },
        ]),
      );
    },

    async upsertAddress(
      addressId: string,
      userId: string,
      snapshot: AddressSnapshot,
    ): Promise<void> {
      await manager.query(
        `INSERT INTO customer_addresses (address_id, user_id, snapshot) VALUES ($1, $2, $3::jsonb)
         ON CONFLICT (address_id) DO UPDATE SET snapshot = excluded.snapshot, updated_at = now()
         WHERE customer_addresses.removed_at IS NULL`,
        [addressId, userId, JSON.stringify(snapshot)],
      );
    },

    async removeAddress(addressId: string, userId: string, at: string): Promise<void> {
      await manager.query(
        `INSERT INTO customer_addresses (address_id, user_id, removed_at) VALUES ($1, $2, $3)
         ON CONFLICT (address_id) DO UPDATE SET removed_at = excluded.removed_at, updated_at = now()`,
        [addressId, userId, at],
      );
    },

    async address(addressId: string): Promise<Lookup<KnownAddress>> {
      const rows = (await manager.query(
        `SELECT user_id, snapshot, removed_at FROM customer_addresses WHERE address_id = $1`,
        [addressId],
      )) as { user_id: string; snapshot: AddressSnapshot | null; removed_at: Date | null }[];
      const row = rows[0];
      if (!row) return { found: false, removed: false };
      if (row.removed_at || !row.snapshot) return { found: false, removed: true };
      return { found: true, value: { userId: row.user_id, snapshot: row.snapshot } };
    },

    async upsertPaymentMethod(id: string, userId: string, providerId: string): Promise<void> {
      await manager.query(
        `INSERT INTO customer_payment_methods (payment_method_id, user_id, provider_payment_method_id)
         VALUES ($1, $2, $3)
         ON CONFLICT (payment_method_id) DO UPDATE
           SET provider_payment_method_id = excluded.provider_payment_method_id, updated_at = now()
         WHERE customer_payment_methods.removed_at IS NULL`,
        [id, userId, providerId],
      );
    },

    async removePaymentMethod(id: string, userId: string, at: string): Promise<void> {
      await manager.query(
        `INSERT INTO customer_payment_methods (payment_method_id, user_id, removed_at) VALUES ($1, $2, $3)
         ON CONFLICT (payment_method_id) DO UPDATE SET removed_at = excluded.removed_at, updated_at = now()`,
        [id, userId, at],
      );
    },

    async paymentMethod(id: string): Promise<Lookup<KnownPaymentMethod>> {
      const rows = (await manager.query(
        `SELECT user_id, provider_payment_method_id, removed_at
           FROM customer_payment_methods WHERE payment_method_id = $1`,
        [id],
      )) as {
        user_id: string;
        provider_payment_method_id: string | null;
        removed_at: Date | null;
      }[];
      const row = rows[0];
      if (!row) return { found: false, removed: false };
      if (row.removed_at || !row.provider_payment_method_id) return { found: false, removed: true };
      return {
        found: true,
        value: { userId: row.user_id, providerPaymentMethodId: row.provider_payment_method_id },
      };
    },
  };
}

export type ReadModelsRepository = ReturnType<typeof createReadModelsRepository>;
