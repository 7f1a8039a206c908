import type { MigrationInterface, QueryRunner } from 'typeorm';

// Why: database design 4.2 (foreign keys): an account's addresses and payment methods go with
// it (ON DELETE CASCADE). Accounts are only soft-deleted by the API; a physical DELETE is a
// data clean-up (an erasure request) and must not leave orphans or fail on them. And 3.1.5:
// a user row is never created in the future. Both constraints go in NOT VALID, so this takes
// only a brief lock and scans nothing; the next migration validates them without blocking
// writes.
export class AccountChildrenCascade1795636122802 implements MigrationInterface {
  name = 'AccountChildrenCascade1795636122802';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`SET LOCAL lock_timeout = '5s'`);
    for (const table of ['user_addresses', 'user_payment_methods']) {
      await queryRunner.query(`
        ALTER TABLE ${table}
          DROP CONSTRAINT ${table}_user_id_fkey,
          ADD CONSTRAINT ${table}_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id)
            ON DELETE CASCADE NOT VALID`);
    }
    await queryRunner.query(
      'ALTER TABLE users ADD CONSTRAINT users_created_in_past CHECK (created_at <= now()) NOT VALID',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE users DROP CONSTRAINT users_created_in_past');
    for (const table of ['user_addresses', 'user_payment_methods']) {
      await queryRunner.query(`
        ALTER TABLE ${table}
          DROP CONSTRAINT ${table}_user_id_fkey,
          ADD CONSTRAINT ${table}_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id)`);
    }
  }
}
