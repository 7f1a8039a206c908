import type { EntityManager } from 'typeorm';

export interface StoredKey {
  fingerprint: string;
  orderId: string;
}

export function createIdempotencyRepository(manager: EntityManager) {
  return {
    async find(customerId: string, key: string): Promise<StoredKey | null> {
      const rows = (await manager.query(
        `SELECT fingerprint, order_id FROM idempotency_keys WHERE customer_id = $1 AND key = $2`,
        [customerId, key],
      )) as { fingerprint: string; order_id: string }[];
      return rows[0] ? { fingerprint: rows[0].fingerprint, orderId: rows[0].order_id } : null;
    },

    /**
     * Binds the key, or returns false when another request bound it first. A concurrent
     * duplicate waits here on the first one's uncommitted row, then sees the conflict.
     */
    async bind(
      customerId: string,
      key: string,
      fingerprint: string,
      orderId: string,
    ): Promise<boolean> {
      const rows = (await manager.query(
        `INSERT INTO idempotency_keys (customer_id, key, fingerprint, order_id)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT DO NOTHING
         RETURNING 1`,
        [customerId, key, fingerprint, orderId],
      )) as unknown[];
      return rows.length === 1;
    },
  };
}
