import pg from 'pg';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../src/testing/database.js';
import {
  createDataSource,
  pgErrorCode,
  prepareDatabase,
  withTransaction,
} from '../../src/db/index.js';
import {
  Account,
  CreateAccounts1760000000000,
  CreateItems1760000000001,
  logger,
} from './helpers.js';

// The roles the services use. Roles are cluster-wide and other test files bootstrap them too;
// bootstrap tolerates that.
const USERS_ROLE = 'users_svc';
const INVENTORY_ROLE = 'inventory_svc';

async function queryAs(url: string, sql: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

async function errorCodeOf(work: Promise<unknown>): Promise<string | undefined> {
  try {
    await work;
  } catch (error) {
    return pgErrorCode(error);
  }
  throw new Error('expected the statement to fail');
}

describe('per-service schemas and roles', () => {
  let db: TestDatabase;
  let usersUrl: string;
  let inventoryUrl: string;
  let users: DataSource;
  let inventory: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase('db_isolation');
    ({ runtimeUrl: usersUrl } = await prepareDatabase({
      adminUrl: db.url,
      schema: 'users',
      role: USERS_ROLE,
      migrations: [CreateAccounts1760000000000],
      logger,
    }));
    ({ runtimeUrl: inventoryUrl } = await prepareDatabase({
      adminUrl: db.url,
      schema: 'inventory',
      role: INVENTORY_ROLE,
      migrations: [CreateItems1760000000001],
      logger,
    }));
    users = await createDataSource({
      url: usersUrl,
      schema: 'users',
      entities: [Account],
      logger,
    }).initialize();
    inventory = await createDataSource({
      url: inventoryUrl,
      schema: 'inventory',
      logger,
    }).initialize();
  });

  afterAll(async () => {
    await users?.destroy();
    await inventory?.destroy();
    await db?.drop();
  });

  it('connects at runtime as the service role', async () => {
    const [row] = (await users.query(
      'SELECT current_user AS who, current_schema() AS schema',
    )) as Array<{
      who: string;
      schema: string;
    }>;
    expect(row).toEqual({ who: USERS_ROLE, schema: 'users' });
  });

  it('lets users_svc read and write the table a migration created in schema users', async () => {
    const repository = users.getRepository(Account);
    const saved = await repository.save(repository.create({ email: 'ann@example.com' }));
    expect(saved.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(saved.createdAt).toBeInstanceOf(Date);
    await repository.update({ id: saved.id }, { balanceCents: 500 });
    expect((await repository.findOneByOrFail({ id: saved.id })).balanceCents).toBe(500);

    // Soft delete: hidden from find, still in the table.
    await repository.softDelete({ id: saved.id });
    expect(await repository.findOneBy({ id: saved.id })).toBeNull();
    expect(await repository.findOne({ where: { id: saved.id }, withDeleted: true })).not.toBeNull();
    await repository.delete({ id: saved.id });
    expect(await repository.count({ withDeleted: true })).toBe(0);
  });

  it('refuses inventory_svc any access to the users schema', async () => {
    await users.query(`INSERT INTO accounts (email) VALUES ('bob@example.com')`);
    expect(await errorCodeOf(queryAs(inventoryUrl, 'SELECT * FROM users.accounts'))).toBe('42501');
    expect(await errorCodeOf(inventory.query('SELECT * FROM users.accounts'))).toBe('42501');
    expect(
      await errorCodeOf(
        inventory.query(`INSERT INTO users.accounts (email) VALUES ('x@example.com')`),
      ),
    ).toBe('42501');
    // Unqualified, the name does not even resolve: search_path holds only inventory.
    expect(await errorCodeOf(inventory.query('SELECT * FROM accounts'))).toBe('42P01');
    // And the other way round.
    expect(await errorCodeOf(queryAs(usersUrl, 'SELECT * FROM inventory.items'))).toBe('42501');
  });

  it('gives the runtime role no DDL, neither in its schema nor in public', async () => {
    expect(await errorCodeOf(users.query('CREATE TABLE users.sneaky (id int)'))).toBe('42501');
    expect(await errorCodeOf(users.query('CREATE TABLE public.sneaky (id int)'))).toBe('42501');
    expect(await errorCodeOf(users.query('DROP TABLE accounts'))).toBe('42501');
    expect(await errorCodeOf(users.query('ALTER TABLE accounts ADD COLUMN x int'))).toBe('42501');
  });

  it('lets the runtime role read but not rewrite migration history', async () => {
    const rows = (await users.query('SELECT name FROM migrations')) as Array<{ name: string }>;
    expect(rows.map((row) => row.name)).toEqual(['CreateAccounts1760000000000']);
    expect(await errorCodeOf(users.query('DELETE FROM migrations'))).toBe('42501');
  });

  it('puts unqualified tables, and the migrations table, in the service schema', async () => {
    const admin = await queryAs(
      db.url,
      `SELECT table_schema, table_name FROM information_schema.tables
        WHERE table_schema IN ('users', 'inventory', 'public') ORDER BY 1, 2`,
    );
    expect(admin.rows).toEqual([
      { table_schema: 'inventory', table_name: 'items' },
      { table_schema: 'inventory', table_name: 'migrations' },
      { table_schema: 'users', table_name: 'accounts' },
      { table_schema: 'users', table_name: 'migrations' },
    ]);
  });

  it('runs work in one transaction with the manager it passes', async () => {
    await expect(
      withTransaction(users, async (manager) => {
        await manager.getRepository(Account).save({ email: 'tx@example.com' });
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await users.getRepository(Account).countBy({ email: 'tx@example.com' })).toBe(0);
    await withTransaction(
      users,
      async (manager) => manager.getRepository(Account).save({ email: 'tx@example.com' }),
      { isolationLevel: 'SERIALIZABLE' },
    );
    expect(await users.getRepository(Account).countBy({ email: 'tx@example.com' })).toBe(1);
  });

  it('applies the statement timeout', async () => {
    const quick = await createDataSource({
      url: usersUrl,
      schema: 'users',
      logger,
      statementTimeoutMs: 100,
    }).initialize();
    try {
      expect(await errorCodeOf(quick.query('SELECT pg_sleep(1)'))).toBe('57014');
    } finally {
      await quick.destroy();
    }
  });
});
