import type { MigrationInterface, QueryRunner } from 'typeorm';

// Why: two things the saga row did not keep.
// - correlation_id: the placing request's id, which every message of the order carries
//   (ARCHITECTURE, correlation ids). Steps that no message causes (the deadline timer) and
//   later requests (cancel, pay, staff retry) take it from here instead of starting a story of
//   their own. Sized like the envelope's ids (any string up to 200 characters), not uuid;
//   rows from before stay null and their steps fall back to the order id.
// - deadline_failures: how many times in a row handling the saga's deadline threw. The timer
//   postpones such a saga by a delay growing with it, so it cannot hold up every other
//   deadline; any write of the saga by the machine resets it. A column, not the saga's data:
//   the data may be what makes the saga fail, and every replica's timer must see one count.
//
// Additive: a nullable column, and one with a constant default, are added without rewriting
// the table; the ACCESS EXCLUSIVE lock they take on a table every saga step writes is bounded
// by the lock timeout. The CHECK is added NOT VALID so nothing is scanned under that lock
// (every row has the default 0 and satisfies it); the next migration validates it.
export class SagaTraceAndDeadlineFailures1795640000000 implements MigrationInterface {
  name = 'SagaTraceAndDeadlineFailures1795640000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`SET LOCAL lock_timeout = '5s'`);
    await queryRunner.query(`
      ALTER TABLE order_sagas
        ADD COLUMN correlation_id varchar(200) NULL,
        ADD COLUMN deadline_failures integer NOT NULL DEFAULT 0,
        ADD CONSTRAINT order_sagas_deadline_failures_not_negative
          CHECK (deadline_failures >= 0) NOT VALID`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // Drops the constraint with its column.
    await queryRunner.query(`
      ALTER TABLE order_sagas DROP COLUMN deadline_failures, DROP COLUMN correlation_id`);
  }
}
