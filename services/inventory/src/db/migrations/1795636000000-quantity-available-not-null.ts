import type { MigrationInterface, QueryRunner } from 'typeorm';

// Why: the design has inventory.quantity_available NOT NULL, and the entity reads it as a
// number. Generated from two NOT NULL columns it can never be null, but the catalog said
// nullable. Safe on a large table: a CHECK added NOT VALID takes only a brief lock, its
// validation scans without blocking writes, and SET NOT NULL then uses the validated CHECK
// instead of scanning again under an ACCESS EXCLUSIVE lock.
export class QuantityAvailableNotNull1795636000000 implements MigrationInterface {
  name = 'QuantityAvailableNotNull1795636000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`SET LOCAL lock_timeout = '5s'`);
    await queryRunner.query(
      `ALTER TABLE inventory ADD CONSTRAINT inventory_quantity_available_not_null
         CHECK (quantity_available IS NOT NULL) NOT VALID`,
    );
    await queryRunner.query(
      'ALTER TABLE inventory VALIDATE CONSTRAINT inventory_quantity_available_not_null',
    );
    await queryRunner.query('ALTER TABLE inventory ALTER COLUMN quantity_available SET NOT NULL');
    await queryRunner.query(
      'ALTER TABLE inventory DROP CONSTRAINT inventory_quantity_available_not_null',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE inventory ALTER COLUMN quantity_available DROP NOT NULL');
  }
}
