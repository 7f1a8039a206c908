import type { DataSource, QueryRunner } from 'typeorm';
import type { Logger } from '../logger.js';

export interface MigrationLockOptions {
  /** Logs once when another process holds the lock. */
  logger?: Logger;
  /** Give up waiting for the lock after this long (ms). Default 10 minutes. */
  lockWaitMs?: number;
  /** Pause between attempts (ms). Default 200. */
  pollMs?: number;
}

/**
 * Polls pg_try_advisory_lock instead of blocking in pg_advisory_lock. A session blocked in
 * pg_advisory_lock sits inside a statement with an open snapshot, and CREATE INDEX CONCURRENTLY
 * in the lock holder's migration waits for every older snapshot in the database to finish: the
 * two would wait on each other forever (Postgres does not detect that as a deadlock). Between
 * two short polls the waiter holds no snapshot.
 */
async function acquireByPolling(
  runner: QueryRunner,
  key: string,
  { logger, lockWaitMs = 600_000, pollMs = 200 }: MigrationLockOptions,
): Promise<void> {
  const deadline = Date.now() + lockWaitMs;
  for (let attempt = 0; ; attempt += 1) {
    const [row] = (await runner.query('SELECT pg_try_advisory_lock(hashtext($1)) AS locked', [
      key,
    ])) as Array<{ locked: boolean }>;
    if (row?.locked) return;
    if (attempt === 0)
      logger?.info({ lock: key }, 'waiting for another process to finish migrating');
    if (Date.now() > deadline) throw new Error(`gave up waiting for migration lock ${key}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs + Math.random() * pollMs));
  }
}

/**
 * Runs the pending migrations of an initialized DataSource (connected with the admin/migration
 * URL) and returns the names of those it ran.
 *
 * TypeORM 1.1 takes no lock of its own (its postgres query runner's `beforeMigration` is a
 * no-op), so two replicas starting together would both see a migration as pending and both run
 * it. A session-level advisory lock, held on a connection of its own while the migrations run on
 * another (so the DataSource needs a pool of at least 2), makes the second replica wait (polling)
 * and then find nothing pending. The key is the schema
 * (current_schema() on the lock connection), so the four services migrate in parallel.
 */
export async function runMigrations(
  dataSource: DataSource,
  options: MigrationLockOptions = {},
): Promise<string[]> {
  const lock = dataSource.createQueryRunner('master');
  await lock.connect();
  try {
    const [row] = (await lock.query('SELECT current_schema() AS schema')) as Array<{
      schema: string | null;
    }>;
    if (!row?.schema) {
      throw new Error('search_path names no existing schema: run bootstrapDatabase first');
    }
    const key = `service-kit:migrations:${row.schema}`;
    await acquireByPolling(lock, key, options);
    try {
      // "each": one transaction per migration, so a migration may set `transaction = false`.
      const ran = await dataSource.runMigrations({ transaction: 'each' });
      return ran.map((migration) => migration.name);
    } finally {
      await lock.query('SELECT pg_advisory_unlock(hashtext($1))', [key]);
    }
  } finally {
    await lock.release();
  }
}
