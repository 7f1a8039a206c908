import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../src/testing/database.js';
import {
  AuditLog,
  auditEntityTypeCheckSql,
  createAuditLogsMigration,
  createAuditLogsPartitioningMigration,
  createDataSource,
  ensureAuditLogPartitions,
  pgErrorCode,
  prepareDatabase,
  recordAudit,
  startAuditPartitionMaintenance,
  withClient,
  withTransaction,
} from '../../src/db/index.js';
import { captureLogger } from '../messaging/helpers.js';
import { Account, CreateAccounts1760000000000, logger } from './helpers.js';

// The orders service's real schema and runtime role (roles are cluster-wide; bootstrap
// tolerates other test files creating it too).
const SCHEMA = 'orders';
const ROLE = 'orders_svc';
const ENTITY_TYPES = ['user', 'address'];

/** `audit_logs_YYYY_MM` of the UTC month of `date`. */
function partitionName(date: Date): string {
  return `audit_logs_${date.getUTCFullYear()}_${String(date.getUTCMonth() + 1).padStart(2, '0')}`;
}

/** The partition of the UTC month `offset` months from now. */
function partitionOf(offset: number): string {
  const now = new Date();
  return partitionName(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1)));
}

/** The partitions of every month from January 2024 to `offset` months from now. */
function partitionsSince2024(offset: number): string[] {
  const names: string[] = [];
  for (let month = 0; names.at(-1) !== partitionOf(offset); month += 1) {
    names.push(partitionName(new Date(Date.UTC(2024, month, 1))));
  }
  return names;
}

/** Midday on the 15th of the UTC month `offset` months from now, as an ISO string. */
function midMonth(offset: number): string {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 15, 12)).toISOString();
}

async function errorOf(work: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await work;
  } catch (error) {
    return { code: pgErrorCode(error), message: (error as Error).message };
  }
  throw new Error('expected the statement to fail');
}

// History the plain table held before the conversion: several months, both edges of a month.
const HISTORY = [
  ['00000000-0000-4000-8000-000000000001', '2024-01-01 00:00:00+00'],
  ['00000000-0000-4000-8000-000000000002', '2024-01-31 23:59:59.999999+00'],
  ['00000000-0000-4000-8000-000000000003', '2024-03-10 08:00:00+00'],
  ['00000000-0000-4000-8000-000000000004', '2025-12-31 23:30:00-05'], // 2026-01 in UTC
] as const;

interface Constraint {
  conname: string;
  contype: string;
  definition: string;
}
const CONSTRAINTS_SQL = `SELECT conname, contype, pg_get_constraintdef(oid) AS definition
   FROM pg_constraint WHERE conrelid = 'orders.audit_logs'::regclass ORDER BY conname`;

describe('audit log partitioned by month', () => {
  let db: TestDatabase;
  let runtimeUrl: string;
  let dataSource: DataSource;
  let plainConstraints: Constraint[];
  let plainRows: unknown[];

  const plainMigrations = [
    createAuditLogsMigration({ entityTypes: ENTITY_TYPES }),
    CreateAccounts1760000000000,
  ];
  const migrations = [...plainMigrations, createAuditLogsPartitioningMigration()];

  // A fresh admin (owner) connection per statement, in the service's schema.
  const adminQuery = <T = Record<string, unknown>>(sql: string, values?: unknown[]) =>
    withClient(db.url, async (client) => {
      await client.query(`SET search_path = ${SCHEMA}`);
      return (await client.query(sql, values)).rows as T[];
    });
  const runtimeQuery = async <T = Record<string, unknown>>(sql: string, values?: unknown[]) =>
    (await dataSource.query(sql, values)) as T[];
  const whereIs = async (id: string) =>
    (
      await adminQuery<{ partition: string }>(
        'SELECT tableoid::regclass::text AS partition FROM audit_logs WHERE id = $1',
        [id],
      )
    ).map((row) => row.partition);

  beforeAll(async () => {
    db = await createTestDatabase('db_audit_partitions');
    // What a deployment has before this release: the plain table, holding months of history.
    await prepareDatabase({
      adminUrl: db.url,
      schema: SCHEMA,
      role: ROLE,
      migrations: plainMigrations,
      logger,
    });
    for (const [id, createdAt] of HISTORY) {
      await adminQuery(
        `INSERT INTO audit_logs (id, entity_type, entity_id, action, new_values, created_at)
         VALUES ($1, 'user', gen_random_uuid(), 'create', '{"n": 1}', $2)`,
        [id, createdAt],
      );
    }
    await adminQuery(
      `INSERT INTO audit_logs (entity_type, entity_id, action, old_values, user_id, ip_address)
       VALUES ('address', gen_random_uuid(), 'delete', '{"line1": "x"}', gen_random_uuid(), '10.0.0.1')`,
    );
    plainConstraints = await adminQuery<Constraint>(CONSTRAINTS_SQL);
    plainRows = await adminQuery('SELECT * FROM audit_logs ORDER BY id');

    // The release: the same call a service makes at start, now with the new migration.
    ({ runtimeUrl } = await prepareDatabase({
      adminUrl: db.url,
      schema: SCHEMA,
      role: ROLE,
      migrations,
      logger,
    }));
    dataSource = await createDataSource({
      url: runtimeUrl,
      schema: SCHEMA,
      entities: [Account, AuditLog],
      logger,
    }).initialize();
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  it('converts the table keeping every row, CHECK and index, keyed by (id, created_at)', async () => {
    expect(await adminQuery('SELECT * FROM audit_logs ORDER BY id')).toEqual(plainRows);
    const [table] = await adminQuery<{ relkind: string; key: string }>(
      `SELECT c.relkind, pg_get_partkeydef(c.oid) AS key FROM pg_class c
        WHERE c.oid = 'orders.audit_logs'::regclass`,
    );
    expect(table).toEqual({ relkind: 'p', key: 'RANGE (created_at)' });

    const constraints = await adminQuery<Constraint>(CONSTRAINTS_SQL);
    const checks = (rows: Constraint[]) => rows.filter((row) => row.contype === 'c');
    expect(checks(constraints)).toEqual(checks(plainConstraints));
    expect(checks(constraints).map((row) => row.conname)).toEqual([
      'audit_logs_action_check',
      'audit_logs_create_has_no_old_values',
      'audit_logs_delete_has_no_new_values',
      'audit_logs_entity_type_check',
    ]);
    expect(constraints.find((row) => row.conname === 'audit_logs_pkey')?.definition).toBe(
      'PRIMARY KEY (id, created_at)',
    );

    const indexes = await adminQuery<{ name: string; kind: string; definition: string }>(
      `SELECT c.relname AS name, c.relkind AS kind, pg_get_indexdef(c.oid) AS definition
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE i.indrelid = 'orders.audit_logs'::regclass ORDER BY 1`,
    );
    expect(indexes.map(({ name, kind }) => [name, kind])).toEqual([
      ['audit_logs_entity_created_at_idx', 'I'],
      ['audit_logs_pkey', 'I'],
      ['audit_logs_user_id_created_at_idx', 'I'],
    ]);
    expect(indexes[0]?.definition).toMatch(/\(entity_type, entity_id, created_at\)$/);

    const partitions = await adminQuery<{ name: string; indexes: number }>(
      `SELECT c.relname AS name,
              (SELECT count(*)::int FROM pg_index i WHERE i.indrelid = c.oid) AS indexes
         FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid
        WHERE h.inhparent = 'orders.audit_logs'::regclass ORDER BY 1`,
    );
    expect(partitions.map((row) => row.name)).toEqual(
      // Every month from the oldest row's to now (gaps included), three ahead, and DEFAULT.
      [...partitionsSince2024(3), 'audit_logs_default'].sort(),
    );
    // Every partition carries the primary key and both indexes of the parent.
    expect(new Set(partitions.map((row) => row.indexes))).toEqual(new Set([3]));
    expect(await whereIs(HISTORY[0][0])).toEqual(['audit_logs_2024_01']);
    expect(await whereIs(HISTORY[1][0])).toEqual(['audit_logs_2024_01']);
    expect(await whereIs(HISTORY[2][0])).toEqual(['audit_logs_2024_03']);
    expect(await whereIs(HISTORY[3][0])).toEqual(['audit_logs_2026_01']);
    expect(await adminQuery('SELECT id FROM audit_logs_default')).toEqual([]);
  });

  it('routes new rows to their UTC month, whatever the session time zone', async () => {
    const recorded = await withTransaction(dataSource, (manager) =>
      recordAudit(manager, {
        entityType: 'user',
        entityId: '00000000-0000-4000-8000-0000000000aa',
        action: 'create',
        after: { email: 'ann@example.com' },
      }),
    );
    expect(await whereIs(recorded!.id)).toEqual([partitionOf(0)]);

    // New York's evening of January 31st ends January in UTC, then starts February.
    const [january, february] = await withClient(runtimeUrl, async (client) => {
      await client.query(`SET TimeZone = 'America/New_York'`);
      const result = await client.query<{ id: string }>(
        `INSERT INTO audit_logs (entity_type, entity_id, action, created_at)
         VALUES ('user', gen_random_uuid(), 'view', '2024-01-31 18:59:59.999999'),
                ('user', gen_random_uuid(), 'view', '2024-01-31 19:00:00')
         RETURNING id`,
      );
      return result.rows;
    });
    expect(await whereIs(january!.id)).toEqual(['audit_logs_2024_01']);
    expect(await whereIs(february!.id)).toEqual(['audit_logs_2024_02']);

    // A month without a partition yet: DEFAULT takes the row, the insert does not fail.
    const [later] = await runtimeQuery<{ id: string }>(
      `INSERT INTO audit_logs (entity_type, entity_id, action, created_at)
       VALUES ('user', gen_random_uuid(), 'view', $1) RETURNING id`,
      [midMonth(12)],
    );
    expect(await whereIs(later!.id)).toEqual(['audit_logs_default']);
  });

  it('still reads history through the AuditLog entity and allows new entity types later', async () => {
    const rows = await dataSource
      .getRepository(AuditLog)
      .find({ where: { entityType: 'user', action: 'create' }, order: { createdAt: 'ASC' } });
    expect(rows[0]).toMatchObject({ id: HISTORY[0][0], newValues: { n: 1 }, oldValues: null });
    expect(rows[0]?.createdAt.toISOString()).toBe('2024-01-01T00:00:00.000Z');

    // A later migration widening the entity types (auditEntityTypeCheckSql) works on the
    // partitioned table; tried in a transaction that is rolled back.
    await withClient(db.url, async (client) => {
      await client.query(`SET search_path = ${SCHEMA}`);
      await client.query('BEGIN');
      try {
        for (const statement of auditEntityTypeCheckSql([...ENTITY_TYPES, 'invoice'])) {
          await client.query(statement);
        }
        await client.query(
          `INSERT INTO audit_logs (entity_type, entity_id, action) VALUES ('invoice', gen_random_uuid(), 'view')`,
        );
      } finally {
        await client.query('ROLLBACK');
      }
    });
  });

  it('moves rows out of DEFAULT when their month gets its partition', async () => {
    const [row] = await runtimeQuery<{ id: string }>(
      `INSERT INTO audit_logs (entity_type, entity_id, action, new_values, created_at)
       VALUES ('user', gen_random_uuid(), 'create', '{"late": true}', $1) RETURNING id`,
      [midMonth(5)],
    );
    expect(await whereIs(row!.id)).toEqual(['audit_logs_default']);
    const before = await adminQuery('SELECT * FROM audit_logs WHERE id = $1', [row!.id]);

    // Months +4, +5 and +6 are missing; the runtime role's call creates them.
    expect(await ensureAuditLogPartitions(dataSource, 6)).toBe(3);
    expect(await whereIs(row!.id)).toEqual([partitionOf(5)]);
    expect(await adminQuery('SELECT * FROM audit_logs WHERE id = $1', [row!.id])).toEqual(before);
    // The row of month +12 (previous test) stays in DEFAULT until its month is made.
    expect(
      await adminQuery<{ n: number }>('SELECT count(*)::int AS n FROM audit_logs_default'),
    ).toEqual([{ n: 1 }]);
    // DEFAULT's append-only trigger is back on after the move.
    expect(
      await adminQuery(
        `SELECT tgname, tgenabled FROM pg_trigger
          WHERE tgrelid = 'orders.audit_logs_default'::regclass ORDER BY 1`,
      ),
    ).toEqual([
      { tgname: 'audit_logs_append_only', tgenabled: 'O' },
      { tgname: 'audit_logs_no_truncate', tgenabled: 'O' },
    ]);
  });

  it('refuses UPDATE, DELETE and TRUNCATE on the parent and on every partition', async () => {
    const tables = ['audit_logs', 'audit_logs_2024_01', 'audit_logs_default', partitionOf(5)];
    for (const table of tables) {
      // The owner is stopped by the triggers (partitions: cloned row triggers, own TRUNCATE one).
      const update = await errorOf(adminQuery(`UPDATE ${table} SET action = 'export'`));
      expect(update.message, table).toMatch(/append-only: UPDATE refused/);
      const remove = await errorOf(adminQuery(`DELETE FROM ${table}`));
      expect(remove.message, table).toMatch(/append-only: DELETE refused/);
      const truncate = await errorOf(adminQuery(`TRUNCATE ${table}`));
      expect(truncate.message, table).toMatch(/append-only: TRUNCATE refused/);
      // The runtime role holds no such privilege at all, on partitions made by the migration
      // or later by its own ensure call alike.
      for (const statement of [
        `UPDATE ${table} SET action = 'export'`,
        `DELETE FROM ${table}`,
        `TRUNCATE ${table}`,
      ]) {
        // Denied by privilege, before any trigger (which uses the same SQLSTATE) could run.
        expect((await errorOf(runtimeQuery(statement))).message, statement).toMatch(
          /^permission denied for table/,
        );
      }
    }
    expect(await adminQuery<{ n: number }>('SELECT count(*)::int AS n FROM audit_logs')).toEqual([
      { n: HISTORY.length + 6 },
    ]);
  });

  it('ensures partitions idempotently, concurrently, and only within bounds', async () => {
    const count = async () =>
      (
        await adminQuery<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_inherits WHERE inhparent = 'orders.audit_logs'::regclass`,
        )
      )[0]?.n;
    const partitions = await count();
    expect(await ensureAuditLogPartitions(dataSource, 6)).toBe(0);
    expect(await ensureAuditLogPartitions(dataSource)).toBe(0);
    expect(await count()).toBe(partitions);

    // Two replicas at once: one creates each month, the other waits and finds it there.
    const [a, b] = await Promise.all([
      withClient(runtimeUrl, (client) =>
        client.query('SELECT audit_logs_ensure_partitions(8) AS n'),
      ),
      withClient(runtimeUrl, (client) =>
        client.query('SELECT audit_logs_ensure_partitions(8) AS n'),
      ),
    ]);
    expect((a.rows[0] as { n: number }).n + (b.rows[0] as { n: number }).n).toBe(2);
    expect(await count()).toBe((partitions ?? 0) + 2);

    expect((await errorOf(runtimeQuery('SELECT audit_logs_ensure_partitions(25)'))).code).toBe(
      '22023',
    );
    // The helpers run as the owner only inside ensure; the runtime role cannot call them.
    expect(
      (await errorOf(runtimeQuery(`SELECT audit_logs_create_month_partition('2030-01-01')`))).code,
    ).toBe('42501');
    expect((await errorOf(runtimeQuery(`SELECT audit_logs_seal('audit_logs')`))).code).toBe(
      '42501',
    );
    // And it still runs no DDL of its own.
    expect((await errorOf(runtimeQuery('CREATE TABLE sneaky (id int)'))).code).toBe('42501');
  });

  it('prunes partitions for a created_at range', async () => {
    const plan = await adminQuery<{ 'QUERY PLAN': string }>(
      `EXPLAIN SELECT * FROM audit_logs
        WHERE created_at >= '2024-01-01 00:00:00+00' AND created_at < '2024-02-01 00:00:00+00'`,
    );
    const text = plan.map((row) => row['QUERY PLAN']).join('\n');
    const scanned = new Set(text.match(/audit_logs_(\d{4}_\d{2}|default)/g));
    expect(scanned).toEqual(new Set(['audit_logs_2024_01']));
  });

  it('keeps maintaining partitions in the background without ever failing the service', async () => {
    const quiet = captureLogger('debug');
    const maintenance = startAuditPartitionMaintenance({
      dataSource,
      logger: quiet.logger,
      intervalMs: 60_000,
    });
    await maintenance.run();
    await maintenance.stop();
    expect(quiet.lines.filter((line) => (line.level as number) >= 40)).toEqual([]);

    // A broken connection is a warning, not an error that stops anything.
    const broken = await createDataSource({ url: runtimeUrl, schema: SCHEMA, logger }).initialize();
    await broken.destroy();
    const failing = captureLogger('info');
    const failingMaintenance = startAuditPartitionMaintenance({
      dataSource: broken,
      logger: failing.logger,
    });
    await failingMaintenance.run();
    await failingMaintenance.stop();
    expect(failing.lines.map((line) => [line.level, line.msg])).toContainEqual([
      40,
      expect.stringMatching(/audit_logs partitions not ensured/),
    ]);
  });

  it('reverts to a plain table with every row (down), and converts again (up)', async () => {
    const total = await adminQuery('SELECT * FROM audit_logs ORDER BY id');
    const migrator = await createDataSource({
      url: db.url,
      schema: SCHEMA,
      migrations,
      logger,
      statementTimeoutMs: 0,
    }).initialize();
    try {
      await migrator.undoLastMigration({ transaction: 'each' });
    } finally {
      await migrator.destroy();
    }
    const [table] = await adminQuery(
      `SELECT relkind FROM pg_class WHERE oid = 'orders.audit_logs'::regclass`,
    );
    expect(table).toEqual({ relkind: 'r' });
    expect(await adminQuery('SELECT * FROM audit_logs ORDER BY id')).toEqual(total);
    expect(
      await adminQuery(
        `SELECT proname FROM pg_proc WHERE proname LIKE 'audit\\_logs\\_%' ORDER BY 1`,
      ),
    ).toEqual([{ proname: 'audit_logs_refuse_change' }]);
    expect((await errorOf(adminQuery('DELETE FROM audit_logs'))).message).toMatch(/append-only/);

    await prepareDatabase({ adminUrl: db.url, schema: SCHEMA, role: ROLE, migrations, logger });
    expect(await adminQuery('SELECT * FROM audit_logs ORDER BY id')).toEqual(total);
    expect(await whereIs(HISTORY[2][0])).toEqual(['audit_logs_2024_03']);
  });
});
