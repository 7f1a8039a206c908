import type { MigrationInterface, QueryRunner } from 'typeorm';

// Why: soft deletes on orders, as the design requires (database-design 3.3.2, "Add deleted_at
// TIMESTAMP NULL to every table"). An order is soft-deleted only by an operator answering an
// erasure request (`softDeleteOrder`); every read serving the API hides it. Additive: a
// nullable column without a default, which PostgreSQL adds without rewriting the table; the
// ACCESS EXCLUSIVE lock it takes on a table every order writes is bounded by the lock timeout.
//
// Only an order at rest may be soft-deleted: cancelled or delivered (the saga keeps working on
// the row afterwards, and never moves such an order's status again). The CHECK is added NOT
// VALID, so it scans nothing under this lock: every existing row has deleted_at NULL by
// construction and satisfies it, and it binds every write from now on. The next migration
// validates it under a lock that lets reads and writes through.
//
// The order's children get no column of their own: they follow their order and are only read
// through it. order_items are immutable (a trigger refuses any UPDATE) and read by the ids of
// orders already found visible; order_sagas and saga_steps are the saga's, which carries on for
// a soft-deleted order; idempotency_keys point at their order and a replay finds it hidden.
// The read models (product_prices, customer_addresses, customer_payment_methods) are copies of
// other services' rows and keep their own tombstone (`removed_at`).
export class SoftDeleteOrders1795635409143 implements MigrationInterface {
  name = 'SoftDeleteOrders1795635409143';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`SET LOCAL lock_timeout = '5s'`);
    await queryRunner.query(`
      ALTER TABLE orders
        ADD COLUMN deleted_at timestamptz NULL,
        ADD CONSTRAINT orders_deleted_only_when_final
          CHECK (deleted_at IS NULL OR status IN ('cancelled', 'delivered')) NOT VALID`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // Drops the constraint and the index of the later migrations with it.
    await queryRunner.query('ALTER TABLE orders DROP COLUMN deleted_at');
  }
}
