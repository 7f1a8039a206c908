import type { MigrationInterface, QueryRunner } from 'typeorm';

// Why: soft deletes on payments, as the design requires (database-design 3.3.2, "Add
// deleted_at TIMESTAMP NULL to every table"). An order's payments are soft-deleted only by an
// operator answering an erasure request (`softDeletePaymentsOfOrder`), after the order itself;
// the API's reads hide them, while the charge and refund handlers and the reconciler still see
// every row, since money owed must be settled whoever asked for erasure. Additive: a nullable
// column without a default, which PostgreSQL adds without rewriting the table; the ACCESS
// EXCLUSIVE lock it takes is bounded by the lock timeout.
//
// A pending attempt may not be soft-deleted: its outcome is still to be learnt. The CHECK is
// added NOT VALID, so it scans nothing under this lock: every existing row has deleted_at NULL
// by construction and satisfies it, and it binds every write from now on. The next migration
// validates it under a lock that lets reads and writes through.
//
// The timestamp follows CreatePayments1796000000000 rather than the clock: TypeORM runs
// migrations in timestamp order, and a fresh database must have the table before this alters
// it.
//
// refunds get no column: a refund follows its payment (at most one per payment, RESTRICT), is
// never listed on its own, and is read only through its payment by the handlers and the
// reconciler. cancelled_orders is a fact payments learnt from an event, not a record of its own.
export class SoftDeletePayments1796000000001 implements MigrationInterface {
  name = 'SoftDeletePayments1796000000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`SET LOCAL lock_timeout = '5s'`);
    await queryRunner.query(`
      ALTER TABLE payments
        ADD COLUMN deleted_at timestamptz NULL,
        ADD CONSTRAINT payments_deleted_only_when_settled
          CHECK (deleted_at IS NULL OR status <> 'pending') NOT VALID`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // Drops the constraint and the index of the later migrations with it.
    await queryRunner.query('ALTER TABLE payments DROP COLUMN deleted_at');
  }
}
