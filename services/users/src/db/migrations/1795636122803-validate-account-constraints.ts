import type { MigrationInterface, QueryRunner } from 'typeorm';

// Why: validates what the previous migration added NOT VALID. VALIDATE takes a SHARE UPDATE
// EXCLUSIVE lock: it scans while reads and writes go on.
export class ValidateAccountConstraints1795636122803 implements MigrationInterface {
  name = 'ValidateAccountConstraints1795636122803';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'ALTER TABLE user_addresses VALIDATE CONSTRAINT user_addresses_user_id_fkey',
    );
    await queryRunner.query(
      'ALTER TABLE user_payment_methods VALIDATE CONSTRAINT user_payment_methods_user_id_fkey',
    );
    await queryRunner.query('ALTER TABLE users VALIDATE CONSTRAINT users_created_in_past');
  }

  async down(): Promise<void> {
    // Nothing to undo: validation only checked existing rows.
  }
}
