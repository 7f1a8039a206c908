import type { MigrationInterface, QueryRunner } from 'typeorm';

// Why: the sweeper expires reservations with no message to take a trace from, so its
// ReservationExpired and StockChanged messages started a story of their own instead of
// following the order's saga. The rows now keep the trace of the reserve command that took
// the stock. Additive: two nullable columns (rows from before stay null and the sweeper gives
// their expiry a fresh correlation id). Adding a nullable column without a default rewrites
// nothing, but it takes an ACCESS EXCLUSIVE lock on a table every order writes: the lock
// timeout makes it fail fast instead of queueing reservations behind it.
export class ReservationTrace1795633093768 implements MigrationInterface {
  name = 'ReservationTrace1795633093768';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`SET LOCAL lock_timeout = '5s'`);
    // Sized like the envelope's ids (any string up to 200 characters), not uuid.
    await queryRunner.query(`
      ALTER TABLE reservations
        ADD COLUMN correlation_id varchar(200) NULL,
        ADD COLUMN causation_id varchar(200) NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE reservations DROP COLUMN causation_id, DROP COLUMN correlation_id`);
  }
}
