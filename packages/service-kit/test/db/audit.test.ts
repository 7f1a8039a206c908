import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runWithContext } from '../../src/context.js';
import { createTestDatabase, type TestDatabase } from '../../src/testing/database.js';
import {
  AuditLog,
  createAuditLogsMigration,
  createDataSource,
  pgErrorCode,
  prepareDatabase,
  recordAudit,
  withClient,
  withTransaction,
} from '../../src/db/index.js';
import { Account, CreateAccounts1760000000000, logger } from './helpers.js';

const ROLE = 'audit_test_svc';

async function errorOf(work: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await work;
  } catch (error) {
    return { code: pgErrorCode(error), message: (error as Error).message };
  }
  throw new Error('expected the statement to fail');
}

describe('audit log', () => {
  let db: TestDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase('db_audit');
    const { runtimeUrl } = await prepareDatabase({
      adminUrl: db.url,
      schema: 'users',
      role: ROLE,
      migrations: [
        createAuditLogsMigration({ entityTypes: ['user', 'address'] }),
        CreateAccounts1760000000000,
      ],
      logger,
    });
    dataSource = await createDataSource({
      url: runtimeUrl,
      schema: 'users',
      entities: [Account, AuditLog],
      logger,
    }).initialize();
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  it('creates the table, its indexes and checks in the service schema', async () => {
    await withClient(db.url, async (client) => {
      const indexes = await client.query(
        `SELECT indexname FROM pg_indexes WHERE schemaname = 'users' AND tablename = 'audit_logs' ORDER BY 1`,
      );
      expect(indexes.rows.map((row: { indexname: string }) => row.indexname)).toEqual([
        'audit_logs_entity_created_at_idx',
        'audit_logs_pkey',
        'audit_logs_user_id_created_at_idx',
      ]);
      const columns = await client.query(
        `SELECT column_name, data_type, character_maximum_length AS len FROM information_schema.columns
          WHERE table_schema = 'users' AND table_name = 'audit_logs' AND column_name IN ('ip_address', 'old_values')
          ORDER BY 1`,
      );
      expect(columns.rows).toEqual([
        { column_name: 'ip_address', data_type: 'character varying', len: 45 },
        { column_name: 'old_values', data_type: 'jsonb', len: null },
      ]);
    });
  });

  it('writes the audit row in the caller transaction, with only the changed fields', async () => {
    const userId = '00000000-0000-4000-8000-000000000001';
    const accountId = await runWithContext({ requestId: 'req-1', correlationId: 'corr-1' }, () =>
      withTransaction(dataSource, async (manager) => {
        const repository = manager.getRepository(Account);
        const account = await repository.save(repository.create({ email: 'ann@example.com' }));
        await recordAudit(manager, {
          entityType: 'user',
          entityId: account.id,
          action: 'create',
          after: account,
          userId,
          ipAddress: '2001:db8::1',
          userAgent: 'vitest',
        });
        const before = { ...account };
        account.balanceCents = 700;
        const saved = await repository.save(account);
        const recorded = await recordAudit(manager, {
          entityType: 'user',
          entityId: account.id,
          action: 'update',
          before,
          after: saved,
          userId,
        });
        expect(recorded?.oldValues).toEqual({ balanceCents: 0 });
        expect(recorded?.newValues).toEqual({ balanceCents: 700 });
        // No change, no row.
        expect(
          await recordAudit(manager, {
            entityType: 'user',
            entityId: account.id,
            action: 'update',
            before: saved,
            after: saved,
          }),
        ).toBeNull();
        return account.id;
      }),
    );

    const rows = await dataSource
      .getRepository(AuditLog)
      .find({ where: { entityId: accountId }, order: { createdAt: 'ASC', action: 'ASC' } });
    expect(rows.map((row) => row.action)).toEqual(['create', 'update']);
    const [created, updated] = rows;
    expect(created).toMatchObject({
      userId,
      entityType: 'user',
      oldValues: null,
      ipAddress: '2001:db8::1',
      userAgent: 'vitest',
      requestId: 'req-1',
      correlationId: 'corr-1',
    });
    expect(created?.newValues).toMatchObject({
      email: 'ann@example.com',
      balanceCents: 0,
      deletedAt: null,
    });
    expect(created?.newValues).not.toHaveProperty('updatedAt');
    expect(updated).toMatchObject({
      oldValues: { balanceCents: 0 },
      newValues: { balanceCents: 700 },
    });
  });

  it('rolls the audit row back with the change it describes', async () => {
    let accountId = '';
    await expect(
      withTransaction(dataSource, async (manager) => {
        const account = await manager.getRepository(Account).save({ email: 'gone@example.com' });
        accountId = account.id;
        await recordAudit(manager, {
          entityType: 'user',
          entityId: account.id,
          action: 'create',
          after: account,
        });
        throw new Error('payment declined');
      }),
    ).rejects.toThrow('payment declined');
    expect(accountId).not.toBe('');
    expect(await dataSource.getRepository(AuditLog).countBy({ entityId: accountId })).toBe(0);
    expect(await dataSource.getRepository(Account).countBy({ id: accountId })).toBe(0);
  });

  it('refuses UPDATE, DELETE and TRUNCATE, even for the table owner', async () => {
    const [row] = (await dataSource.query(
      `INSERT INTO audit_logs (entity_type, entity_id, action) VALUES ('user', gen_random_uuid(), 'view') RETURNING id`,
    )) as Array<{ id: string }>;
    // The runtime role holds no UPDATE/DELETE privilege on it at all.
    expect(
      (
        await errorOf(
          dataSource.query(`UPDATE audit_logs SET action = 'export' WHERE id = $1`, [row!.id]),
        )
      ).code,
    ).toBe('42501');
    expect(
      (await errorOf(dataSource.query('DELETE FROM audit_logs WHERE id = $1', [row!.id]))).code,
    ).toBe('42501');
    // The owner (admin) is stopped by the trigger.
    await withClient(db.url, async (client) => {
      await client.query('SET search_path = users');
      const update = await errorOf(
        client.query(`UPDATE audit_logs SET action = 'export' WHERE id = $1`, [row!.id]),
      );
      expect(update.message).toMatch(/append-only: UPDATE refused/);
      const remove = await errorOf(client.query('DELETE FROM audit_logs WHERE id = $1', [row!.id]));
      expect(remove.message).toMatch(/append-only: DELETE refused/);
      const truncate = await errorOf(client.query('TRUNCATE audit_logs'));
      expect(truncate.message).toMatch(/append-only: TRUNCATE refused/);
      const kept = await client.query('SELECT action FROM audit_logs WHERE id = $1', [row!.id]);
      expect(kept.rows).toEqual([{ action: 'view' }]);
    });
  });

  it('rejects entity types and actions outside the lists, and inconsistent values', async () => {
    const insert = (
      type: string,
      action: string,
      oldValues: string | null,
      newValues: string | null,
    ) =>
      errorOf(
        dataSource.query(
          `INSERT INTO audit_logs (entity_type, entity_id, action, old_values, new_values)
           VALUES ($1, gen_random_uuid(), $2, $3::jsonb, $4::jsonb)`,
          [type, action, oldValues, newValues],
        ),
      );
    expect((await insert('order', 'create', null, '{}')).code).toBe('23514');
    expect((await insert('user', 'purge', null, null)).code).toBe('23514');
    expect((await insert('user', 'create', '{}', '{}')).code).toBe('23514');
    expect((await insert('address', 'delete', '{}', '{}')).code).toBe('23514');
  });
});
