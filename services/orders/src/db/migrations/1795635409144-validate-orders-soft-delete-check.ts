import type { MigrationInterface, QueryRunner } from 'typeorm';

// Why: validates the CHECK the previous migration added NOT VALID (only final orders may be
// soft-deleted). VALIDATE scans the table under SHARE UPDATE EXCLUSIVE, which lets reads and
// writes through, instead of under the ACCESS EXCLUSIVE lock of the ALTER that added it.
// Re-runnable: validating a valid constraint does nothing.
export class ValidateOrdersSoftDeleteCheck1795635409144 implements MigrationInterface {
  name = 'ValidateOrdersSoftDeleteCheck1795635409144';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`SET LOCAL lock_timeout = '5s'`);
    await queryRunner.query(
      'ALTER TABLE orders VALIDATE CONSTRAINT orders_deleted_only_when_final',
    );
  }

  async down(): Promise<void> {
    // Nothing to undo: a validated constraint is dropped with its column.
  }
}
