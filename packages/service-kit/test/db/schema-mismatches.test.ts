import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDataSource } from '../../src/db/index.js';
import { createTestDatabase, type TestDatabase } from '../../src/testing/database.js';
import { entityColumnMismatches } from '../../src/testing/schema.js';
import { Account, logger } from './helpers.js';

describe('entityColumnMismatches', () => {
  let db: TestDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase('db_schema_mismatches');
    dataSource = await openDataSource({
      url: db.url,
      schema: 'public',
      entities: [Account],
      logger,
    });
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  async function tableAs(columns: string): Promise<string[]> {
    await dataSource.query('DROP TABLE IF EXISTS accounts');
    await dataSource.query(`CREATE TABLE accounts (${columns})`);
    return entityColumnMismatches(dataSource);
  }

  const base = `id uuid PRIMARY KEY, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL,
    deleted_at timestamptz NULL`;

  it('finds nothing when the table says what the entity says', async () => {
    expect(await tableAs(`${base}, email text NOT NULL, balance_cents integer NOT NULL`)).toEqual(
      [],
    );
  });

  it('names a missing column, another type and another nullability', async () => {
    expect(await tableAs(`${base}, email varchar(10) NULL`)).toEqual([
      'accounts.email: entity says text, table has character varying (varchar)',
      'accounts.email: entity says NOT NULL, table says nullable',
      'accounts.balance_cents: mapped by Account but not in the table',
    ]);
  });
});
