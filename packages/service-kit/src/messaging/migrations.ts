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

/**
 * Per-row retry of outbox publishes: a row whose publish failed waits until `next_attempt_at`
 * while the relay publishes the rows behind it, instead of the whole relay backing off.
 * Additive: NOT NULL with a non-volatile default (`now()` is stable), so PostgreSQL stores the
 * default in the catalog and rewrites nothing; existing rows read the migration's time, i.e.
 * due. A new row gets its insert time, so due order is created order for rows never failed.
 * `ALTER TABLE` takes a brief exclusive lock on a hot table: fail fast rather than queue
 * every enqueue behind a long transaction.
 */
export class OutboxNextAttemptAt1795635700000 implements MigrationInterface {
  name = 'OutboxNextAttemptAt1795635700000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`SET LOCAL lock_timeout = '5s'`);
    await queryRunner.query(
      `ALTER TABLE outbox ADD COLUMN next_attempt_at timestamptz NOT NULL DEFAULT now()`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE outbox DROP COLUMN next_attempt_at`);
  }
}

/**
 * The relay's claim (`WHERE published_at IS NULL AND next_attempt_at <= now() ORDER BY
 * next_attempt_at LIMIT n FOR UPDATE SKIP LOCKED`) as a range scan over unsent rows that reads
 * only the due ones, however many failed rows wait. Partial, like outbox_unsent_idx, so it stays
 * as small as the backlog. outbox_unsent_idx stays: the backlog gauge's min(created_at) uses it,
 * and so do relays of the previous version during a rolling deploy. CONCURRENTLY on an existing
 * table, hence outside a transaction and alone in its migration.
 */
export class OutboxDueIndex1795635700001 implements MigrationInterface {
  name = 'OutboxDueIndex1795635700001';
  transaction = false;

  async up(queryRunner: QueryRunner): Promise<void> {
    // A failed earlier attempt leaves an INVALID index behind that IF NOT EXISTS would keep.
    await queryRunner.query(`DROP INDEX CONCURRENTLY IF EXISTS outbox_due_idx`);
    await queryRunner.query(
      `CREATE INDEX CONCURRENTLY outbox_due_idx ON outbox (next_attempt_at) WHERE published_at IS NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX CONCURRENTLY IF EXISTS outbox_due_idx`);
  }
}

/**
 * The relay's cleanup deletes inbox rows older than the retention (`handled_at < $1`) in
 * batches: without an index each batch scans the whole inbox, and a large first cleanup would
 * run into the statement timeout and quietly stop pruning. CONCURRENTLY, alone in its migration.
 */
export class InboxHandledAtIndex1795638605401 implements MigrationInterface {
  name = 'InboxHandledAtIndex1795638605401';
  transaction = false;

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX CONCURRENTLY IF EXISTS inbox_handled_at_idx`);
    await queryRunner.query(`CREATE INDEX CONCURRENTLY inbox_handled_at_idx ON inbox (handled_at)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX CONCURRENTLY IF EXISTS inbox_handled_at_idx`);
  }
}

/** The same for the outbox's cleanup of sent rows (`published_at < $1`); unsent rows have none. */
export class OutboxPublishedAtIndex1795638605402 implements MigrationInterface {
  name = 'OutboxPublishedAtIndex1795638605402';
  transaction = false;

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX CONCURRENTLY IF EXISTS outbox_published_at_idx`);
    await queryRunner.query(
      `CREATE INDEX CONCURRENTLY outbox_published_at_idx ON outbox (published_at) WHERE published_at IS NOT NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX CONCURRENTLY IF EXISTS outbox_published_at_idx`);
  }
}

// Applied migrations are never edited: a change to the messaging tables is a new class here,
// appended, and reaches every service through this list.
export const messagingMigrations = [
  CreateOutboxAndInbox1767225600000,
  OutboxNextAttemptAt1795635700000,
  OutboxDueIndex1795635700001,
  InboxHandledAtIndex1795638605401,
  OutboxPublishedAtIndex1795638605402,
];
