import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { afterCommit, openDataSource, withTransaction } from '../../src/db/index.js';
import { createTestDatabase, type TestDatabase } from '../../src/testing/database.js';
import { logger } from './helpers.js';

describe('afterCommit', () => {
  let db: TestDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase('db_after_commit');
    dataSource = await openDataSource({ url: db.url, schema: 'public', logger });
    await dataSource.query('CREATE TABLE events (name text NOT NULL)');
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  async function storedNames(): Promise<string[]> {
    const rows = (await dataSource.query('SELECT name FROM events ORDER BY name')) as {
      name: string;
    }[];
    return rows.map((row) => row.name);
  }

  it('runs the callback once the work is committed, where another connection sees it', async () => {
    let seenByCallback: string[] | undefined;
    let callbackRan: Promise<void> | undefined;
    await withTransaction(dataSource, async (manager) => {
      await manager.query(`INSERT INTO events (name) VALUES ('committed')`);
      afterCommit(manager, () => {
        callbackRan = storedNames().then((names) => {
          seenByCallback = names;
        });
      });
      expect(callbackRan).toBeUndefined();
    });
    await callbackRan;
    expect(seenByCallback).toContain('committed');
  });

  it('never runs the callback of a transaction that rolled back', async () => {
    let calls = 0;
    await expect(
      withTransaction(dataSource, async (manager) => {
        await manager.query(`INSERT INTO events (name) VALUES ('undone')`);
        afterCommit(manager, () => {
          calls += 1;
        });
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(calls).toBe(0);
    expect(await storedNames()).not.toContain('undone');
  });

  it('keeps a committed transaction a success when a callback throws, and runs the rest', async () => {
    let laterRan = false;
    const warned = new Promise<Error>((resolve) => process.once('warning', resolve));
    const result = await withTransaction(dataSource, async (manager) => {
      afterCommit(manager, () => {
        throw new Error('metric registry gone');
      });
      afterCommit(manager, () => {
        laterRan = true;
      });
      return 'done';
    });
    expect(result).toBe('done');
    expect(laterRan).toBe(true);
    expect((await warned).message).toBe('metric registry gone');
  });

  it('refuses a manager that withTransaction did not open', async () => {
    expect(() => afterCommit(dataSource.manager, () => undefined)).toThrow(/withTransaction/);
    await dataSource.transaction(async (manager) => {
      expect(() => afterCommit(manager, () => undefined)).toThrow(/withTransaction/);
    });
  });
});
