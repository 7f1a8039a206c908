import type { DataSource } from 'typeorm';
import type { Logger } from '../../logger.js';
import { describeDatabaseError } from '../pg-errors.js';
import { AUDIT_LOG_PARTITION_MONTHS_AHEAD } from './audit-log-partitions.migration.js';

const ONE_DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Creates this month's and the next `monthsAhead` months' partitions of the schema's
 * `audit_logs` when missing, through the function the partitioning migration made (it runs as
 * the table's owner, so the runtime role's connection can call it). Returns how many it
 * created, or null when the schema has no such function (its audit log is not partitioned).
 */
export async function ensureAuditLogPartitions(
  dataSource: DataSource,
  monthsAhead = AUDIT_LOG_PARTITION_MONTHS_AHEAD,
): Promise<number | null> {
  const [found] = (await dataSource.query(
    `SELECT to_regprocedure('audit_logs_ensure_partitions(integer)') IS NOT NULL AS present`,
  )) as Array<{ present: boolean }>;
  if (!found?.present) return null;
  const [row] = (await dataSource.query('SELECT audit_logs_ensure_partitions($1) AS created', [
    monthsAhead,
  ])) as Array<{ created: number }>;
  return row?.created ?? 0;
}

export interface AuditPartitionMaintenance {
  /** One ensure pass; what the timer calls. Exposed for tests. Never rejects. */
  run(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Keeps the next months' audit partitions ready: one pass now, then one a day. A failure is a
 * warning, never a reason to stop the service: rows of a month without its partition land in
 * the DEFAULT partition, and the pass that creates the partition moves them into it. With
 * three months made ahead, a month's partition has had some ninety daily tries before its
 * first row arrives.
 */
export function startAuditPartitionMaintenance(settings: {
  dataSource: DataSource;
  logger: Logger;
  monthsAhead?: number;
  intervalMs?: number;
}): AuditPartitionMaintenance {
  const logger = settings.logger.child({ component: 'audit-partitions' });
  let running: Promise<void> | null = null;

  async function ensure(): Promise<void> {
    try {
      const created = await ensureAuditLogPartitions(settings.dataSource, settings.monthsAhead);
      if (created === null) logger.debug('audit_logs is not partitioned here; nothing to maintain');
      else if (created > 0) logger.info({ created }, 'audit_logs partitions created');
    } catch (error) {
      // The message only (a lock timeout, a missing grant): a database error's detail could
      // quote an audit row.
      logger.warn(
        { error: describeDatabaseError(error), reason: (error as Error).message },
        'audit_logs partitions not ensured; DEFAULT takes the rows meanwhile, retried next pass',
      );
    }
  }

  function run(): Promise<void> {
    // One pass at a time; a slow one makes the next wait rather than pile up.
    running ??= ensure().finally(() => {
      running = null;
    });
    return running;
  }

  void run();
  const timer = setInterval(() => void run(), settings.intervalMs ?? ONE_DAY_MS);
  timer.unref();

  return {
    run,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
