import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../src/testing/database.js';
import {
  backupFormatOf,
  backupSchema,
  countRows,
  createAuditLogsMigration,
  createAuditLogsPartitioningMigration,
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
  let encryptedTarget: TestDatabase;
  let inPlace: TestDatabase;
  let dir: string;

  beforeAll(async () => {
    source = await createTestDatabase('db_backup_source');
    target = await createTestDatabase('db_backup_target');
    encryptedTarget = await createTestDatabase('db_backup_encrypted_target');
    inPlace = await createTestDatabase('db_backup_in_place');
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
    await encryptedTarget?.drop();
    await inPlace?.drop();
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

  it('restores an encrypted backup with the private key, and only with it', async () => {
    const passphrase = 'restore drill';
    const keys = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase },
    });
    const workDir = await mkdtemp(join(dir, 'work-'));
    const file = join(dir, 'orders.dump.enc');
    await backupSchema({
      url: source.url,
      schema: 'orders',
      file,
      encryptTo: keys.publicKey,
      tempDir: workDir,
    });
    expect(await backupFormatOf(file)).toBe('encrypted');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    // The plain dump lived only in a private directory under tempDir, gone now.
    expect(await readdir(workDir)).toEqual([]);

    await expect(restoreBackup({ url: encryptedTarget.url, file })).rejects.toThrow(
      /is encrypted: give the private key/,
    );
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    await expect(
      restoreBackup({ url: encryptedTarget.url, file, decryptWith: other }),
    ).rejects.toThrow(/was encrypted for key sha256:/);
    expect(await countRows(encryptedTarget.url, 'orders')).toEqual({});

    // Parallel restore: the archive inside still has its data offsets.
    await restoreBackup({
      url: encryptedTarget.url,
      file,
      decryptWith: keys.privateKey,
      passphrase,
      jobs: 2,
      tempDir: workDir,
    });
    expect(await readdir(workDir)).toEqual([]);
    const check = await verifyRestore({
      sourceUrl: source.url,
      targetUrl: encryptedTarget.url,
      schema: 'orders',
    });
    expect(check.mismatches).toEqual([]);
    expect(check.target).toEqual({ accounts: 250, audit_logs: 40, migrations: 2 });
  });

  it('leaves no file behind when pg_dump fails', async () => {
    const file = join(dir, 'missing.dump');
    await expect(
      backupSchema({ url: `${source.url}_does_not_exist`, schema: 'orders', file }),
    ).rejects.toThrow();
    const left = await readdir(dir);
    expect(left.filter((name) => name.startsWith('missing'))).toEqual([]);
  });

  it('restores a schema in place after the damaged one is moved aside (the runbook)', async () => {
    // docs/disaster-recovery.md, "Restoring one schema": stop the service, rename the damaged
    // schema, restore the dump into the same database, start the service (prepareDatabase).
    const role = 'backup_in_place_svc';
    const migrations = [
      createAuditLogsMigration({ entityTypes: ['order'] }),
      CreateAccounts1760000000000,
      createAuditLogsPartitioningMigration(),
    ];
    const prepare = () =>
      prepareDatabase({ adminUrl: inPlace.url, schema: 'orders', role, migrations, logger });
    await prepare();
    await withClient(inPlace.url, async (client) => {
      await client.query(
        `INSERT INTO orders.accounts (email, balance_cents)
         SELECT 'user' || n || '@example.com', n FROM generate_series(1, 30) AS n`,
      );
      await client.query(
        `INSERT INTO orders.audit_logs (entity_type, entity_id, action)
         SELECT 'order', gen_random_uuid(), 'create' FROM generate_series(1, 5)`,
      );
    });
    const file = join(dir, 'in-place.dump');
    await backupSchema({ url: inPlace.url, schema: 'orders', file });
    const before = await countRows(inPlace.url, 'orders');

    await withClient(inPlace.url, async (client) => {
      await client.query('DELETE FROM orders.accounts WHERE balance_cents > 10');
      await client.query('ALTER SCHEMA orders RENAME TO orders_damaged');
    });
    await restoreBackup({ url: inPlace.url, file });
    const { runtimeUrl } = await prepare();

    expect(await countRows(inPlace.url, 'orders')).toEqual(before);
    expect((await countRows(inPlace.url, 'orders_damaged')).accounts).toBe(10);
    await withClient(runtimeUrl, async (client) => {
      await client.query('SET search_path = orders');
      await client.query(`INSERT INTO accounts (email) VALUES ('after@example.com')`);
      await client.query(
        `INSERT INTO audit_logs (entity_type, entity_id, action) VALUES ('order', gen_random_uuid(), 'create')`,
      );
      await client.query('SELECT audit_logs_ensure_partitions(3)');
      await expect(client.query('DELETE FROM audit_logs')).rejects.toThrow();
    });
  });
});
