import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The outbox and inbox tables, in the service's own schema: the service's connection selects
 * that schema through `search_path`, so no statement here names a schema. Add
 * `messagingMigrations` to the service's DataSource `migrations`.
 */
export class CreateOutboxAndInbox1767225600000 implements MigrationInterface {
  name = 'CreateOutboxAndInbox1767225600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // payload holds the whole envelope exactly as it will be published; type, version and
    // subject are copies for querying without parsing JSON.
    await queryRunner.query(`
      CREATE TABLE outbox (
        id uuid PRIMARY KEY,
        type text NOT NULL,
        version integer NOT NULL,
        subject text NOT NULL,
        payload jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        published_at timestamptz NULL,
        attempts integer NOT NULL DEFAULT 0,
        last_error text NULL
      )`);
    // Only unsent rows are ever looked up by the relay; a partial index stays tiny however
    // many sent rows wait for cleanup.
    await queryRunner.query(
      `CREATE INDEX outbox_unsent_idx ON outbox (created_at) WHERE published_at IS NULL`,
    );
    await queryRunner.query(`
      CREATE TABLE inbox (
        consumer text NOT NULL,
        message_id uuid NOT NULL,
        handled_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (consumer, message_id)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE inbox`);
    await queryRunner.query(`DROP TABLE outbox`);
  }
}

export const messagingMigrations = [CreateOutboxAndInbox1767225600000];
