import type { MigrationInterface, QueryRunner } from 'typeorm';

// Why: a refund the provider refused must not stop the payment from ever being refunded. Until
// now a payment had one refunds row (UNIQUE payment_id) whatever its status, so a retry under a
// new refund id reused the refused row and its idempotency key (Stripe replays the refusal).
// From now on the rule is narrower and still enforced here: at most one *live* refund (pending
// or succeeded) per payment, so a payment is never refunded twice, while refused ones stay as
// history beside the retry. This index is that rule; the next migration drops the old
// constraint once it stands. Existing rows satisfy it (one row per payment so far).
//
// The timestamp follows the soft-delete migrations rather than the clock (which is still
// before 1796000000000): TypeORM runs migrations in timestamp order, and a fresh database must
// have the table first. CONCURRENTLY on an existing table, hence outside a transaction and
// alone in its migration.
export class RefundsOneLivePerPayment1796000100000 implements MigrationInterface {
  name = 'RefundsOneLivePerPayment1796000100000';
  transaction = false;

  async up(queryRunner: QueryRunner): Promise<void> {
    // A failed earlier attempt leaves an INVALID index behind that IF NOT EXISTS would keep.
    await queryRunner.query(
      'DROP INDEX CONCURRENTLY IF EXISTS refunds_one_live_refund_per_payment',
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX CONCURRENTLY refunds_one_live_refund_per_payment
         ON refunds (payment_id) WHERE status IN ('pending', 'succeeded')`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'DROP INDEX CONCURRENTLY IF EXISTS refunds_one_live_refund_per_payment',
    );
  }
}
