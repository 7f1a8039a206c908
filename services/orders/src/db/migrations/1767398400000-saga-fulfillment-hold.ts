import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The fulfilment hold (FULFILLMENT_HOLD_SECONDS): a confirmed order may wait, still
 * cancellable, before the ship command goes out. `ADD VALUE` is allowed in a transaction
 * (PostgreSQL 12+); the value is only used by later transactions.
 */
export class SagaFulfillmentHold1767398400000 implements MigrationInterface {
  name = 'SagaFulfillmentHold1767398400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TYPE saga_state ADD VALUE IF NOT EXISTS 'fulfillment_hold' BEFORE 'shipping'`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // An enum value cannot be dropped in place: rebuild the type without it. Sagas resting in
    // the hold go back to shipping, whose deadline resends the ship command.
    await queryRunner.query(
      `UPDATE order_sagas SET state = 'shipping' WHERE state = 'fulfillment_hold'`,
    );
    // The check compares the column with values of the old type: drop it across the swap.
    await queryRunner.query(
      `ALTER TABLE order_sagas DROP CONSTRAINT order_sagas_resting_states_have_no_deadline`,
    );
    await queryRunner.query(`ALTER TYPE saga_state RENAME TO saga_state_old`);
    await queryRunner.query(
      `CREATE TYPE saga_state AS ENUM ('reserving', 'charging', 'payment_backoff',
         'awaiting_payment_method', 'shipping', 'shipped', 'delivered', 'compensating',
         'cancelled', 'needs_attention')`,
    );
    await queryRunner.query(
      `ALTER TABLE order_sagas ALTER COLUMN state TYPE saga_state USING state::text::saga_state`,
    );
    await queryRunner.query(`DROP TYPE saga_state_old`);
    await queryRunner.query(
      `ALTER TABLE order_sagas ADD CONSTRAINT order_sagas_resting_states_have_no_deadline CHECK (
         state NOT IN ('shipped', 'delivered', 'cancelled', 'needs_attention')
         OR next_deadline_at IS NULL)`,
    );
  }
}
