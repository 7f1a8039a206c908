import type { EntityManager } from 'typeorm';
import type { OutcomeStep } from '../../domain/command-outcomes.js';

export interface StoredReply {
  type: string;
  data: unknown;
}

// Class of the advisory locks that serialize the work on one order (the key is the order id's
// hash); a class of its own keeps them apart from other advisory locks in the database.
const ORDER_LOCK_CLASS = 4_300_417;

/** The answers inventory gave per (order, step), and the per-order lock around giving them. */
export function outcomesRepository(manager: EntityManager) {
  return {
    /**
     * Waits for, then holds until commit, the right to act on this order: two deliveries of
     * the same command (a resend racing the original) run one after the other, and the second
     * sees the first one's outcome.
     */
    async lockOrder(orderId: string): Promise<void> {
      await manager.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [
        ORDER_LOCK_CLASS,
        orderId,
      ]);
    },

    /** lockOrder without waiting: false when someone else is acting on the order. */
    async tryLockOrder(orderId: string): Promise<boolean> {
      const rows = (await manager.query(
        'SELECT pg_try_advisory_xact_lock($1, hashtext($2)) AS locked',
        [ORDER_LOCK_CLASS, orderId],
      )) as Array<{ locked: boolean }>;
      return rows[0]?.locked === true;
    },

    async load(orderId: string): Promise<Map<OutcomeStep, StoredReply>> {
      const rows = (await manager.query(
        'SELECT step, reply_type, reply_data FROM command_outcomes WHERE order_id = $1',
        [orderId],
      )) as Array<{ step: OutcomeStep; reply_type: string; reply_data: unknown }>;
      return new Map(rows.map((row) => [row.step, { type: row.reply_type, data: row.reply_data }]));
    },

    async save(orderId: string, step: OutcomeStep, reply: StoredReply): Promise<void> {
      await manager.query(
        `INSERT INTO command_outcomes (order_id, step, reply_type, reply_data)
         VALUES ($1, $2, $3, $4::jsonb)`,
        [orderId, step, reply.type, JSON.stringify(reply.data)],
      );
    },
  };
}
