import type { MigrationInterface, QueryRunner } from 'typeorm';

// Why: validates the CHECK the previous migration added NOT VALID (no pending attempt may be
// soft-deleted). VALIDATE scans the table under SHARE UPDATE EXCLUSIVE, which lets reads and
// writes through, instead of under the ACCESS EXCLUSIVE lock of the ALTER that added it.
// Re-runnable: validating a valid constraint does nothing.
export class ValidatePaymentsSoftDeleteCheck1796000000002 implements MigrationInterface {
  name = 'ValidatePaymentsSoftDeleteCheck1796000000002';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`SET LOCAL lock_timeout = '5s'`);
    await queryRunner.query(
      'ALTER TABLE payments VALIDATE CONSTRAINT payments_deleted_only_when_settled',
    );
  }

  async down(): Promise<void> {
    // Nothing to undo: a validated constraint is dropped with its column.
  }
}
