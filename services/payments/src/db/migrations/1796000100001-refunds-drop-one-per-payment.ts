import type { MigrationInterface, QueryRunner } from 'typeorm';

// Why: with refunds_one_live_refund_per_payment in place (previous migration), the old
// UNIQUE (payment_id) is what still forbids a new refund after a refused one; dropping it lets
// a retry under a new refund id be its own row with its own provider key. Code of the previous
// release reads "the payment's refund" by payment id and inserts only when there is none, so it
// never writes a second row and runs fine on either schema during the deploy.
//
// Dropping a constraint takes an ACCESS EXCLUSIVE lock on refunds for a moment (no rewrite):
// bounded by the lock timeout. Lookups by payment go through the partial index (live refunds)
// or the order's index (history).
export class RefundsDropOnePerPayment1796000100001 implements MigrationInterface {
  name = 'RefundsDropOnePerPayment1796000100001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`SET LOCAL lock_timeout = '5s'`);
    await queryRunner.query('ALTER TABLE refunds DROP CONSTRAINT IF EXISTS refunds_payment_id_key');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // Development resets only: fails if a payment has a refused refund and its retry.
    await queryRunner.query(`SET LOCAL lock_timeout = '5s'`);
    await queryRunner.query(
      'ALTER TABLE refunds ADD CONSTRAINT refunds_payment_id_key UNIQUE (payment_id)',
    );
  }
}
