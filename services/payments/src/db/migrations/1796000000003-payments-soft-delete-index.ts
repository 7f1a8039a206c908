import type { MigrationInterface, QueryRunner } from 'typeorm';

// Why: the index the design names for soft deletes, payments(id, order_id, deleted_at): "is
// this payment visible, and whose order is it" answered from the index alone (an index-only
// scan); reads of a whole row by id still go through the primary key. The order's list keeps
// its keyset index (order_id, created_at, id) and reads deleted_at as a filter: an order's
// attempts are few and erased ones rare, so a partial copy WHERE deleted_at IS NULL would buy
// nothing. CONCURRENTLY on an existing table, hence outside a transaction and alone in its
// migration.
export class PaymentsSoftDeleteIndex1796000000003 implements MigrationInterface {
  name = 'PaymentsSoftDeleteIndex1796000000003';
  transaction = false;

  async up(queryRunner: QueryRunner): Promise<void> {
    // A failed earlier attempt leaves an INVALID index behind that IF NOT EXISTS would keep.
    await queryRunner.query(
      'DROP INDEX CONCURRENTLY IF EXISTS payments_id_order_id_deleted_at_idx',
    );
    await queryRunner.query(
      'CREATE INDEX CONCURRENTLY payments_id_order_id_deleted_at_idx ON payments (id, order_id, deleted_at)',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'DROP INDEX CONCURRENTLY IF EXISTS payments_id_order_id_deleted_at_idx',
    );
  }
}
