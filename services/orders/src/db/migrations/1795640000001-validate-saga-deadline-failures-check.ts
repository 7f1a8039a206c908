import type { MigrationInterface, QueryRunner } from 'typeorm';

// Why: validates the CHECK the previous migration added NOT VALID (deadline_failures >= 0).
// VALIDATE scans the table under SHARE UPDATE EXCLUSIVE, which lets reads and writes through,
// instead of under the ACCESS EXCLUSIVE lock of the ALTER that added it. Re-runnable:
// validating a valid constraint does nothing.
export class ValidateSagaDeadlineFailuresCheck1795640000001 implements MigrationInterface {
  name = 'ValidateSagaDeadlineFailuresCheck1795640000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`SET LOCAL lock_timeout = '5s'`);
    await queryRunner.query(
      'ALTER TABLE order_sagas VALIDATE CONSTRAINT order_sagas_deadline_failures_not_negative',
    );
  }

  async down(): Promise<void> {
    // Nothing to undo: a validated constraint is dropped with its column.
  }
}
