import type { MigrationInterface, QueryRunner } from 'typeorm';

// Why: the index the design names for soft deletes, orders(id, customer_id, deleted_at): "is
// this order visible, and whose is it" answered from the index alone (an index-only scan);
// reads of a whole row by id still go through the primary key. The lists keep their keyset
// indexes (customer_id, created_at, id) and (created_at, id) and read deleted_at as a filter.
// Soft-deleted orders are rare erasures, so that filter discards almost nothing; partial
// copies of those indexes WHERE deleted_at IS NULL would only pay once erased orders were a
// large share of the table, and would then replace them rather than sit beside them.
// CONCURRENTLY on an existing table, hence outside a transaction and alone in its migration.
export class OrdersSoftDeleteIndex1795635409145 implements MigrationInterface {
  name = 'OrdersSoftDeleteIndex1795635409145';
  transaction = false;

  async up(queryRunner: QueryRunner): Promise<void> {
    // A failed earlier attempt leaves an INVALID index behind that IF NOT EXISTS would keep.
    await queryRunner.query(
      'DROP INDEX CONCURRENTLY IF EXISTS orders_id_customer_id_deleted_at_idx',
    );
    await queryRunner.query(
      'CREATE INDEX CONCURRENTLY orders_id_customer_id_deleted_at_idx ON orders (id, customer_id, deleted_at)',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'DROP INDEX CONCURRENTLY IF EXISTS orders_id_customer_id_deleted_at_idx',
    );
  }
}
