import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestDatabase,
  TEST_SERVER_URL,
  type TestDatabase,
} from '../../src/testing/database.js';
import {
  buildRuntimeUrl,
  databaseNameOf,
  ensureDatabase,
  prepareDatabase,
  redactUrl,
  withClient,
} from '../../src/db/index.js';
import { CreateAccounts1760000000000, logger } from './helpers.js';

// A role only this file uses, so its assertions are not disturbed by other files.
const ROLE = 'bootstrap_test_svc';

async function schemaState(url: string) {
  return withClient(url, async (client) => {
    const schema = await client.query(`SELECT 1 FROM pg_namespace WHERE nspname = 'users'`);
    const role = await client.query<{ rolcanlogin: boolean; rolsuper: boolean }>(
      'SELECT rolcanlogin, rolsuper FROM pg_roles WHERE rolname = $1',
      [ROLE],
    );
    const usage = await client.query<{ usage: boolean; create: boolean }>(
      `SELECT has_schema_privilege($1, 'users', 'USAGE') AS usage,
              has_schema_privilege($1, 'users', 'CREATE') AS create`,
      [ROLE],
    );
    const migrations = await client.query('SELECT name FROM users.migrations');
    return {
      schema: schema.rowCount,
      role: role.rows,
      privileges: usage.rows[0],
      migrations: migrations.rows,
    };
  });
}

const expected = {
  schema: 1,
  role: [{ rolcanlogin: true, rolsuper: false }],
  privileges: { usage: true, create: false },
  migrations: [{ name: 'CreateAccounts1760000000000' }],
};

describe('bootstrap', () => {
  let db: TestDatabase;
  const prepare = (adminUrl: string) =>
    prepareDatabase({
      adminUrl,
      schema: 'users',
      role: ROLE,
      rolePassword: 'not-a-secret',
      migrations: [CreateAccounts1760000000000],
      logger,
    });

  beforeAll(async () => {
    db = await createTestDatabase('db_bootstrap');
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('is idempotent when run twice in a row', async () => {
    const first = await prepare(db.url);
    const second = await prepare(db.url);
    expect(first.migrationsRun).toEqual(['CreateAccounts1760000000000']);
    expect(second.migrationsRun).toEqual([]);
    expect(second.runtimeUrl).toBe(buildRuntimeUrl(db.url, ROLE, 'not-a-secret'));
    expect(await schemaState(db.url)).toEqual(expected);
  });

  it('is idempotent when run twice at the same time', async () => {
    const results = await Promise.all([prepare(db.url), prepare(db.url)]);
    expect(results.map((result) => result.migrationsRun)).toEqual([[], []]);
    expect(await schemaState(db.url)).toEqual(expected);
  });

  it('creates the database named in the URL, even with concurrent creators', async () => {
    const name = 'test_db_bootstrap_created';
    const url = `${TEST_SERVER_URL}/${name}`;
    const admin = `${TEST_SERVER_URL}/postgres`;
    await withClient(admin, (client) =>
      client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
    );
    try {
      const results = await Promise.all([prepare(url), prepare(url), prepare(url)]);
      expect(results.flatMap((result) => result.migrationsRun)).toEqual([
        'CreateAccounts1760000000000',
      ]);
      expect(await schemaState(url)).toEqual(expected);
      expect(await ensureDatabase(url)).toBe(false);
      // The runtime URL logs in as the role (trust auth here ignores the password).
      const client = new pg.Client({ connectionString: results[0]!.runtimeUrl });
      await client.connect();
      try {
        const { rows } = await client.query(
          'SELECT current_user AS who, count(*)::int AS n FROM accounts',
        );
        expect(rows).toEqual([{ who: ROLE, n: 0 }]);
      } finally {
        await client.end();
      }
    } finally {
      await withClient(admin, (client) =>
        client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
      );
    }
  });

  it('rejects schema and role names that are not plain identifiers', async () => {
    await expect(
      prepareDatabase({
        adminUrl: db.url,
        schema: 'users; drop',
        role: ROLE,
        migrations: [],
        logger,
      }),
    ).rejects.toThrow(/lower-case SQL identifier/);
    await expect(
      prepareDatabase({
        adminUrl: db.url,
        schema: 'users',
        role: 'Bad-Role',
        migrations: [],
        logger,
      }),
    ).rejects.toThrow(/lower-case SQL identifier/);
  });

  it('builds runtime URLs and reads database names', () => {
    const admin = 'postgres://postgres:admin@db.local:5433/shop?sslmode=require';
    expect(buildRuntimeUrl(admin, 'users_svc', 'p@ss/word')).toBe(
      'postgres://users_svc:p%40ss%2Fword@db.local:5433/shop?sslmode=require',
    );
    expect(buildRuntimeUrl(admin, 'users_svc')).toBe(
      'postgres://users_svc@db.local:5433/shop?sslmode=require',
    );
    expect(databaseNameOf(admin)).toBe('shop');
    expect(redactUrl(admin)).toBe('postgres://postgres:***@db.local:5433/shop?sslmode=require');
    expect(() => databaseNameOf('postgres://postgres@127.0.0.1:5432')).toThrow(/names no database/);
  });
});
