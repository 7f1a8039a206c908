import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type pg from 'pg';
import type { Registry } from 'prom-client';
import type { DataSource, EntityManager } from 'typeorm';
import type { Logger } from '../logger.js';
import { computeBackoff, sleep, type BackoffPolicy } from './backoff.js';
import {
  connectionConfigOf,
  listenForNotifications,
  type NotificationListener,
} from './listener.js';
import {
  messagingMetrics,
  registerOutboxGauges,
  type MessagingMetrics,
  type OutboxBacklog,
} from './metrics.js';
import type { Namespace } from './namespace.js';
import { outboxChannel } from './outbox.js';
import { DEFAULT_DEAD_LETTER_MAX_AGE_MS, DEFAULT_STREAM_MAX_AGE_MS } from './provisioning.js';

export interface OutboxRelaySettings {
  /** The service's DataSource (its search_path selects the schema holding `outbox`). */
  dataSource: DataSource;
  js: JetStreamClient;
  namespace: Namespace;
  logger: Logger;
  /** Registers publish counters and the backlog gauges on it. */
  registry?: Registry;
  /** Rows claimed per transaction. Default 100. */
  batchSize?: number;
  /** Fallback poll when no NOTIFY arrives (lost listener, missed notification). Default 1 s. */
  pollIntervalMs?: number;
  /** Wait for each PubAck this long before counting the publish as failed. Default 5 s. */
  publishTimeoutMs?: number;
  /**
   * Pause after a failed pass (Postgres down, or NATS/JetStream unreachable: nothing in the
   * pass went out and nothing answered), growing while failures repeat. Rows are not charged
   * for such a pass. Default 200 ms doubling to 15 s.
   */
  retry?: BackoffPolicy;
  /**
   * Delay before a row whose publish failed while JetStream was reachable (a subject no stream
   * takes, a payload over the server's limit, a rejected publish) is claimed again, by its
   * number of failed attempts. Only that row waits: the relay goes on with the others.
   * Default 1 s doubling to 5 minutes.
   */
  rowRetry?: BackoffPolicy;
  /**
   * Failed attempts after which a row counts as stuck: each further failure is logged at error
   * level and the `messaging_outbox_stuck_messages` gauge counts it. Default 10 (about a quarter
   * of an hour of failures with the default `rowRetry`).
   */
  stuckAfterAttempts?: number;
  /** Published rows older than this are deleted. Default 7 days. */
  retentionMs?: number;
  /**
   * Inbox rows (handled messages) older than this are deleted. Default 45 days; see
   * `DEFAULT_INBOX_RETENTION_MS` for why that is safe.
   */
  inboxRetentionMs?: number;
  /** How often that cleanup (outbox and inbox) runs. Default 10 minutes; 0 disables it. */
  cleanupIntervalMs?: number;
  /** Connection for LISTEN; defaults to the DataSource's own settings. */
  listenConnection?: pg.ClientConfig;
}

export interface OutboxRelay {
  /** Runs one claim-publish-mark pass; returns how many rows it published. For tests and tools. */
  publishPending(): Promise<number>;
  /** Stops: lets the pass in progress finish, then closes the listener. Idempotent. */
  stop(): Promise<void>;
}

interface ClaimedRow {
  id: string;
  type: string;
  subject: string;
  payload: string;
  attempts: number;
}

interface Failure {
  row: ClaimedRow;
  error: string;
}

interface PassResult {
  claimed: number;
  published: number;
  failed: number;
  /**
   * Nothing went out, and either no publish got an answer (timeouts, connection lost) or
   * JetStream did not answer a probe: the pass, not the rows, failed.
   */
  unreachable: boolean;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Default inbox retention: 45 days. An inbox row must outlive every arrival of its message:
 *
 * - redeliveries of the stored message: the server redelivers without limit until it is acked
 *   or dead-lettered, so the bound is not a delivery count but the stream's max age (7 days);
 * - a second stored copy (the relay published, crashed before marking the row, and published
 *   again after the 2-minute duplicate window): stored when the row is next claimed, normally
 *   seconds later, and kept 7 days from then;
 * - a replayed dead letter (`pnpm dead-letters replay` republishes the envelope on its subject,
 *   so every consumer of that subject sees it again, not only the one that gave up): another
 *   consumer may have handled the original on the day it was published; the dead letter can be
 *   written up to 7 days later (while the stream still holds the message) and is kept 30 days,
 *   so a replay comes at most 37 days after the original.
 *
 * 45 days is the stream's and the dead-letter stream's default max ages plus 8 days of margin
 * (also for a relay down for days between publishing and marking). Raise it with either.
 */
export const DEFAULT_INBOX_RETENTION_MS =
  DEFAULT_STREAM_MAX_AGE_MS + DEFAULT_DEAD_LETTER_MAX_AGE_MS + 8 * DAY_MS;

/** Default failed attempts after which an outbox row counts as stuck. */
export const DEFAULT_STUCK_AFTER_ATTEMPTS = 10;

// Claim the due rows in due order, skipping rows another relay holds: replicas split the work
// instead of waiting on each other, and a row is published by one relay at a time. A new row
// is due at once (next_attempt_at defaults to its insert time, so due order is created order
// for rows that never failed); a failed row waits for its own backoff while the rest flow past
// it. The partial index outbox_due_idx (next_attempt_at) WHERE published_at IS NULL serves
// this as a range scan that reads only due rows, however many wait, and stops after `batch`
// of them. payload::text hands back the stored JSON as is, with no parse and re-serialise on
// the hot path.
//
// CLAIM_PLAN, run first in the claim's transaction, keeps it that way. The planner estimates
// the unsent, due rows from statistics that lag behind a fresh backlog (a burst, NATS coming
// back); guessing a few dozen, it prefers a bitmap scan of every unsent row plus a sort, and
// FOR UPDATE keeps that sort from stopping at the LIMIT: every pass would read and sort (with
// payloads, spilling to disk) the whole backlog. With sorting off, the only plan left is the
// ordered index scan, whatever the statistics say; nothing else in that transaction sorts.
export const CLAIM_PLAN = `SET LOCAL enable_sort = off`;
export const CLAIM = `
  SELECT id, type, subject, payload::text AS payload, attempts
  FROM outbox
  WHERE published_at IS NULL AND next_attempt_at <= now()
  ORDER BY next_attempt_at
  LIMIT $1
  FOR UPDATE SKIP LOCKED`;
const MARK_PUBLISHED = `UPDATE outbox SET published_at = now() WHERE id = ANY($1::uuid[])`;
const MARK_FAILED = `
  UPDATE outbox AS o
  SET attempts = o.attempts + 1,
      last_error = f.error,
      next_attempt_at = clock_timestamp() + f.delay_ms * interval '1 millisecond'
  FROM unnest($1::uuid[], $2::text[], $3::integer[]) AS f(id, error, delay_ms)
  WHERE o.id = f.id`;
const BACKLOG = `
  SELECT count(*)::int AS unsent,
         count(*) FILTER (WHERE attempts >= $1)::int AS stuck,
         coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS age
  FROM outbox WHERE published_at IS NULL`;

/**
 * Starts the relay that moves committed outbox rows to JetStream.
 *
 * Each pass claims a batch of due rows with FOR UPDATE SKIP LOCKED inside a short transaction,
 * publishes each row with msgID = message id, and marks the published ones in the same
 * transaction. A crash after publishing but before commit leaves the rows unsent; the next pass
 * re-publishes them and JetStream drops the copies within its duplicate window.
 *
 * A failed row is never dropped. If JetStream was reachable (other rows of the pass went out,
 * or it refused this one and answers a probe), the failure is the row's: attempts and last_error are recorded and the row waits
 * its own exponential backoff (`rowRetry`) while the relay carries on with the others at full
 * speed; past `stuckAfterAttempts` each failure is logged at error level and the row is counted
 * by the stuck gauge. If JetStream is unreachable, the rows are left as they were and the relay
 * itself backs off (`retry`), so the backlog goes out as soon as NATS is back.
 */
export async function startOutboxRelay(settings: OutboxRelaySettings): Promise<OutboxRelay> {
  const { dataSource, js, namespace, logger } = settings;
  const batchSize = settings.batchSize ?? 100;
  const pollIntervalMs = settings.pollIntervalMs ?? 1_000;
  const publishTimeoutMs = settings.publishTimeoutMs ?? 5_000;
  const retry = settings.retry ?? { initialMs: 200, maxMs: 15_000, jitter: 0.2 };
  const rowRetry = settings.rowRetry ?? { initialMs: 1_000, maxMs: 5 * 60_000, jitter: 0.2 };
  const stuckAfterAttempts = settings.stuckAfterAttempts ?? DEFAULT_STUCK_AFTER_ATTEMPTS;
  const retentionMs = settings.retentionMs ?? 7 * DAY_MS;
  const inboxRetentionMs = settings.inboxRetentionMs ?? DEFAULT_INBOX_RETENTION_MS;
  const cleanupIntervalMs = settings.cleanupIntervalMs ?? 10 * 60 * 1000;
  const metrics: MessagingMetrics | undefined = settings.registry
    ? messagingMetrics(settings.registry)
    : undefined;
  if (settings.registry) {
    registerOutboxGauges(settings.registry, () =>
      readOutboxBacklog(dataSource, stuckAfterAttempts),
    );
  }

  const stopping = new AbortController();
  let woken = false;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    woken = true;
    wake?.();
  };

  const [{ schema }] = (await dataSource.query(`SELECT current_schema() AS schema`)) as [
    { schema: string },
  ];
  const listener: NotificationListener = await listenForNotifications({
    connection: settings.listenConnection ?? connectionConfigOf(dataSource),
    channel: outboxChannel(schema),
    onNotify: notify,
    logger,
  });

  let jsmPending: Promise<JetStreamManager> | undefined;
  /** Whether JetStream answers at all: tells a pass that failed as a whole from failing rows. */
  async function jetStreamAnswers(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    try {
      jsmPending ??= js.jetstreamManager(false);
      const jsm = await jsmPending;
      await Promise.race([
        jsm.getAccountInfo(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('timeout')), publishTimeoutMs);
        }),
      ]);
      return true;
    } catch {
      jsmPending = undefined;
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  async function publishPass(): Promise<PassResult> {
    return dataSource.transaction(async (manager: EntityManager) => {
      await manager.query(CLAIM_PLAN);
      const rows = (await manager.query(CLAIM, [batchSize])) as ClaimedRow[];
      if (rows.length === 0) return { claimed: 0, published: 0, failed: 0, unreachable: false };
      // Publish the batch concurrently; one connection keeps them in order on the wire.
      const outcomes = await Promise.allSettled(
        rows.map((row) =>
          js.publish(namespace.subject(row.subject), row.payload, {
            msgID: row.id,
            timeout: publishTimeoutMs,
          }),
        ),
      );
      const published: string[] = [];
      const failed: Failure[] = [];
      outcomes.forEach((outcome, index) => {
        const row = rows[index]!;
        if (outcome.status === 'fulfilled') {
          published.push(row.id);
          metrics?.published.inc({ type: row.type });
        } else {
          failed.push({
            row,
            error: describeFailure(outcome.reason),
          });
          metrics?.publishFailures.inc({ type: row.type });
        }
      });
      const result = {
        claimed: rows.length,
        published: published.length,
        failed: failed.length,
        unreachable: false,
      };
      // Whose fault? With nothing published, the rows are blamed only if JetStream itself
      // answers a probe: then the failures are theirs (no stream for the subject, a refusal, or
      // one stream that stopped answering while the others are fine), and each backs off on
      // its own so rows behind them flow. Without an answer NATS is unreachable: no row is
      // charged, rows stay due and unchanged, and the loop backs off. (A pass that straddles
      // NATS's return can charge its rows once: their first backoff is short.)
      if (published.length === 0 && !(await jetStreamAnswers())) {
        logger.warn(
          { failed: failed.length, error: failed[0]?.error },
          'outbox publish failed and JetStream is unreachable; rows stay unsent, relay backs off',
        );
        return { ...result, unreachable: true };
      }
      if (published.length > 0) await manager.query(MARK_PUBLISHED, [published]);
      if (failed.length > 0) await markFailed(manager, failed);
      return result;
    });
  }

  /** Records each failed row's attempt and puts it back for its own backoff only. */
  async function markFailed(manager: EntityManager, failed: Failure[]): Promise<void> {
    const delays = failed.map(({ row }) => computeBackoff(row.attempts + 1, rowRetry));
    await manager.query(MARK_FAILED, [
      failed.map(({ row }) => row.id),
      failed.map(({ error }) => error),
      delays,
    ]);
    const retrying: Failure[] = [];
    for (const [index, { row, error }] of failed.entries()) {
      if (row.attempts + 1 < stuckAfterAttempts) {
        retrying.push(failed[index]!);
        continue;
      }
      logger.error(
        {
          messageId: row.id,
          type: row.type,
          subject: row.subject,
          attempts: row.attempts + 1,
          retryInMs: delays[index],
          error,
        },
        `outbox message ${row.id} (${row.type}) still unpublished after ${row.attempts + 1} attempts`,
      );
    }
    const [first] = retrying;
    if (first) {
      logger.warn(
        {
          failed: retrying.length,
          firstId: first.row.id,
          type: first.row.type,
          error: first.error,
        },
        'outbox publish failed; rows stay unsent and are retried after their own backoff',
      );
    }
  }

  /** Waits for a notification, the poll interval, or stop, whichever comes first. */
  async function idle(): Promise<void> {
    // Checked here because an abort that happened during the pass fires no event later.
    if (woken || stopping.signal.aborted) {
      woken = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, pollIntervalMs);
      stopping.signal.addEventListener('abort', done, { once: true });
      wake = done;
      function done(): void {
        clearTimeout(timer);
        stopping.signal.removeEventListener('abort', done);
        wake = undefined;
        resolve();
      }
    });
    woken = false;
  }

  async function loop(): Promise<void> {
    let failures = 0;
    while (!stopping.signal.aborted) {
      let result: PassResult | undefined;
      try {
        result = await publishPass();
      } catch (error) {
        logger.error({ err: error }, 'outbox relay pass failed');
      }
      if (!result || result.unreachable) {
        failures++;
        await sleep(computeBackoff(failures, retry), stopping.signal);
        continue;
      }
      failures = 0;
      // A full batch means more rows are probably due: go again at once. Rows that failed are
      // not due again until their own backoff ends, so this never spins on them.
      if (result.claimed < batchSize) await idle();
    }
  }

  // The inbox is pruned here too: every service runs one relay per replica, on the schema that
  // holds both tables, so one timer covers both without another loop to start and stop.
  async function cleanup(): Promise<void> {
    try {
      const deleted = await pruneOutbox(dataSource, retentionMs);
      if (deleted > 0) logger.info({ deleted }, 'pruned published outbox rows');
    } catch (error) {
      logger.warn({ err: error }, 'outbox cleanup failed');
    }
    try {
      const deleted = await pruneInbox(dataSource, inboxRetentionMs);
      if (deleted > 0) logger.info({ deleted }, 'pruned old inbox rows');
    } catch (error) {
      logger.warn({ err: error }, 'inbox cleanup failed');
    }
  }
  const cleanupTimer =
    cleanupIntervalMs > 0 ? setInterval(() => void cleanup(), cleanupIntervalMs) : undefined;
  cleanupTimer?.unref();

  const running = loop();
  logger.info({ schema, batchSize, pollIntervalMs }, 'outbox relay started');

  let stopped: Promise<void> | undefined;
  return {
    async publishPending() {
      return (await publishPass()).published;
    },
    stop() {
      stopped ??= (async () => {
        stopping.abort();
        clearInterval(cleanupTimer);
        await running;
        await listener.stop();
        logger.info('outbox relay stopped');
      })();
      return stopped;
    },
  };
}

/** The error and its causes in one line (nats.js wraps "no responders" in another error). */
function describeFailure(error: unknown): string {
  const parts: string[] = [];
  for (let cause = error, depth = 0; cause !== undefined && depth < 5; depth++) {
    const message = cause instanceof Error ? cause.message : String(cause);
    if (!parts.some((part) => part.includes(message))) parts.push(message);
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return parts.join(': ');
}

/**
 * Unsent rows, how many of them have failed `stuckAfterAttempts` times or more, and the age of
 * the oldest, read from the unsent rows only (partial indexes).
 */
export async function readOutboxBacklog(
  db: DataSource | EntityManager,
  stuckAfterAttempts = DEFAULT_STUCK_AFTER_ATTEMPTS,
): Promise<OutboxBacklog> {
  const [row] = (await db.query(BACKLOG, [stuckAfterAttempts])) as {
    unsent: number;
    stuck: number;
    age: number;
  }[];
  return { unsent: row?.unsent ?? 0, stuck: row?.stuck ?? 0, oldestAgeSeconds: row?.age ?? 0 };
}

const PRUNE_BATCH = 5_000;

/**
 * Deletes the rows of `table` whose `column` is older than `retentionMs`, in batches, so a
 * large first cleanup (an inbox never pruned before) neither runs into the statement timeout
 * nor holds one long transaction. The cutoff is fixed at the start, so it ends.
 */
async function pruneBefore(
  db: DataSource | EntityManager,
  table: 'outbox' | 'inbox',
  column: 'published_at' | 'handled_at',
  retentionMs: number,
): Promise<number> {
  const [{ cutoff }] = (await db.query(`SELECT now() - $1 * interval '1 millisecond' AS cutoff`, [
    retentionMs,
  ])) as [{ cutoff: Date }];
  let total = 0;
  for (;;) {
    const [, count] = (await db.query(
      `DELETE FROM ${table} WHERE ${column} < $1 AND ctid = ANY(ARRAY(
         SELECT ctid FROM ${table} WHERE ${column} < $1 LIMIT $2))`,
      [cutoff, PRUNE_BATCH],
    )) as [unknown, number];
    total += count;
    if (count < PRUNE_BATCH) return total;
  }
}

/** Deletes outbox rows published more than `retentionMs` ago; returns how many. */
export function pruneOutbox(db: DataSource | EntityManager, retentionMs: number): Promise<number> {
  return pruneBefore(db, 'outbox', 'published_at', retentionMs);
}

/**
 * Deletes inbox rows older than `retentionMs`; returns how many. Keep it longer than any
 * stream's max age (see `DEFAULT_INBOX_RETENTION_MS`): a message still in a stream can be
 * redelivered, and its inbox row is what makes that harmless. The relay runs it with the outbox
 * cleanup.
 */
export function pruneInbox(db: DataSource | EntityManager, retentionMs: number): Promise<number> {
  return pruneBefore(db, 'inbox', 'handled_at', retentionMs);
}
