import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../src/testing/database.js';
import {
  backupSchema,
  countRows,
  createAuditLogsMigration,
  prepareDatabase,
  restoreBackup,
  verifyRestore,
  withClient,
} from '../../src/db/index.js';
import { CreateAccounts1760000000000, logger } from './helpers.js';

const ROLE = 'backup_test_svc';

describe('backup and restore', () => {
  let source: TestDatabase;
  let target: TestDatabase;
  let dir: string;

  beforeAll(async () => {
    source = await createTestDatabase('db_backup_source');
    target = await createTestDatabase('db_backup_target');
    dir = await mkdtemp(join(tmpdir(), 'db-backup-'));
    await prepareDatabase({
      adminUrl: source.url,
      schema: 'orders',
      role: ROLE,
      migrations: [
        createAuditLogsMigration({ entityTypes: ['order'] }),
        CreateAccounts1760000000000,
      ],
      logger,
    });
    await withClient(source.url, async (client) => {
      await client.query(
        `INSERT INTO orders.accounts (email, balance_cents)
         SELECT 'user' || n || '@example.com', n FROM generate_series(1, 250) AS n`,
      );
      await client.query(
        `INSERT INTO orders.audit_logs (entity_type, entity_id, action, new_values)
         SELECT 'order', gen_random_uuid(), 'create', jsonb_build_object('n', n) FROM generate_series(1, 40) AS n`,
      );
    });
  });

  afterAll(async () => {
    await source?.drop();
    await target?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('restores a schema into a fresh database with the same row counts', async () => {
    const file = join(dir, 'orders.dump');
    await backupSchema({ url: source.url, schema: 'orders', file });
    expect((await stat(file)).size).toBeGreaterThan(0);

    await restoreBackup({ url: target.url, file });
    const check = await verifyRestore({
      sourceUrl: source.url,
      targetUrl: target.url,
      schema: 'orders',
    });
    expect(check.mismatches).toEqual([]);
    expect(check.ok).toBe(true);
    expect(check.target).toEqual({ accounts: 250, audit_logs: 40, migrations: 2 });

    await withClient(target.url, async (client) => {
      // Constraints, the append-only trigger and the runtime role's grants came back too.
      const sum = await client.query(
        'SELECT sum(balance_cents)::int AS total FROM orders.accounts',
      );
      expect(sum.rows).toEqual([{ total: 31375 }]);
      await expect(client.query('DELETE FROM orders.audit_logs')).rejects.toThrow(/append-only/);
      const grant = await client.query(
        `SELECT has_table_privilege($1, 'orders.accounts', 'INSERT') AS can_insert`,
        [ROLE],
      );
      expect(grant.rows).toEqual([{ can_insert: true }]);
    });
  });

  it('reports a mismatch when the restored data differs', async () => {
    await withClient(target.url, (client) =>
      client.query('DELETE FROM orders.accounts WHERE balance_cents <= 10'),
    );
    const check = await verifyRestore({
      sourceUrl: source.url,
      targetUrl: target.url,
      schema: 'orders',
    });
    expect(check.ok).toBe(false);
    expect(check.mismatches).toEqual(['accounts']);
    expect((await countRows(target.url, 'orders')).accounts).toBe(240);
  });
});
