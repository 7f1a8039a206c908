import type { MigrationInterface, QueryRunner } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../src/testing/database.js';
import {
  bootstrapDatabase,
  createDataSource,
  runMigrations,
  withClient,
} from '../../src/db/index.js';
import { logger } from './helpers.js';

const ROLE = 'migrations_test_svc';

/** Not idempotent on purpose: a second run would fail on CREATE TABLE. Slow, so runs overlap. */
class CreateLedger1760000000100 implements MigrationInterface {
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('SELECT pg_sleep(0.3)');
    await queryRunner.query(
      'CREATE TABLE ledger (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, note text)',
    );
    await queryRunner.query(`INSERT INTO ledger (note) VALUES ('ran')`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE ledger');
  }
}

/** CREATE INDEX CONCURRENTLY cannot run in a transaction: this migration opts out. */
class IndexLedgerNote1760000000200 implements MigrationInterface {
  transaction = false;

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE INDEX CONCURRENTLY IF NOT EXISTS ledger_note_idx ON ledger (note)',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX CONCURRENTLY IF EXISTS ledger_note_idx');
  }
}

describe('runMigrations', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('db_migrations');
    await bootstrapDatabase({ adminUrl: db.url, schema: 'payments', role: ROLE, logger });
  });

  afterAll(async () => {
    await db?.drop();
  });

  const migrator = () =>
    createDataSource({
      url: db.url,
      schema: 'payments',
      migrations: [IndexLedgerNote1760000000200, CreateLedger1760000000100],
      logger,
      poolSize: 2,
      statementTimeoutMs: 0,
    }).initialize();

  it('runs each migration once when two replicas migrate at the same time', async () => {
    const [a, b] = await Promise.all([migrator(), migrator()]);
    try {
      const results = await Promise.all([runMigrations(a), runMigrations(b)]);
      // One replica ran both (in timestamp order), the other waited and found nothing pending.
      expect(results.map((names) => names.length).sort()).toEqual([0, 2]);
      expect(results.flat()).toEqual(['CreateLedger1760000000100', 'IndexLedgerNote1760000000200']);
    } finally {
      await Promise.all([a.destroy(), b.destroy()]);
    }
    await withClient(db.url, async (client) => {
      const ledger = await client.query('SELECT note FROM payments.ledger');
      expect(ledger.rows).toEqual([{ note: 'ran' }]);
      const history = await client.query('SELECT name FROM payments.migrations ORDER BY timestamp');
      expect(history.rows.map((row: { name: string }) => row.name)).toEqual([
        'CreateLedger1760000000100',
        'IndexLedgerNote1760000000200',
      ]);
      const index = await client.query(
        `SELECT indisvalid FROM pg_index WHERE indexrelid = 'payments.ledger_note_idx'::regclass`,
      );
      expect(index.rows).toEqual([{ indisvalid: true }]);
    });
  });

  it('runs nothing the second time', async () => {
    const again = await migrator();
    try {
      expect(await runMigrations(again)).toEqual([]);
    } finally {
      await again.destroy();
    }
  });

  it('refuses to run when the schema does not exist yet', async () => {
    const orphan = await createDataSource({ url: db.url, schema: 'nowhere', logger }).initialize();
    try {
      await expect(runMigrations(orphan)).rejects.toThrow(/run bootstrapDatabase first/);
    } finally {
      await orphan.destroy();
    }
  });
});
