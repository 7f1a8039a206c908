import type { JetStreamClient } from '@nats-io/jetstream';
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
  /** Pause after a failed pass (NATS or Postgres down), growing while failures repeat. */
  retry?: BackoffPolicy;
  /** Published rows older than this are deleted. Default 7 days. */
  retentionMs?: number;
  /** How often that cleanup runs. Default 10 minutes; 0 disables it. */
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
}

interface PassResult {
  claimed: number;
  published: number;
  failed: number;
}

// Claim in created order, skipping rows another relay holds: replicas split the work instead
// of waiting on each other, and a row is published by one relay at a time. payload::text
// hands back the stored JSON as is, with no parse and re-serialise on the hot path.
const CLAIM = `
  SELECT id, type, subject, payload::text AS payload
  FROM outbox
  WHERE published_at IS NULL
  ORDER BY created_at
  LIMIT $1
  FOR UPDATE SKIP LOCKED`;
const MARK_PUBLISHED = `UPDATE outbox SET published_at = now() WHERE id = ANY($1::uuid[])`;
const MARK_FAILED = `
  UPDATE outbox AS o SET attempts = o.attempts + 1, last_error = f.error
  FROM unnest($1::uuid[], $2::text[]) AS f(id, error)
  WHERE o.id = f.id`;
const BACKLOG = `
  SELECT count(*)::int AS unsent,
         coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS age
  FROM outbox WHERE published_at IS NULL`;

/**
 * Starts the relay that moves committed outbox rows to JetStream.
 *
 * Each pass claims a batch with FOR UPDATE SKIP LOCKED inside a short transaction, publishes
 * each row with msgID = message id, and marks the published ones in the same transaction. A
 * crash after publishing but before commit leaves the rows unsent; the next pass re-publishes
 * them and JetStream drops the copies within its duplicate window. Failed publishes stay
 * unsent (attempts and last_error recorded) and the relay backs off before trying again.
 */
export async function startOutboxRelay(settings: OutboxRelaySettings): Promise<OutboxRelay> {
  const { dataSource, js, namespace, logger } = settings;
  const batchSize = settings.batchSize ?? 100;
  const pollIntervalMs = settings.pollIntervalMs ?? 1_000;
  const publishTimeoutMs = settings.publishTimeoutMs ?? 5_000;
  const retry = settings.retry ?? { initialMs: 200, maxMs: 15_000, jitter: 0.2 };
  const retentionMs = settings.retentionMs ?? 7 * 24 * 60 * 60 * 1000;
  const cleanupIntervalMs = settings.cleanupIntervalMs ?? 10 * 60 * 1000;
  const metrics: MessagingMetrics | undefined = settings.registry
    ? messagingMetrics(settings.registry)
    : undefined;
  if (settings.registry) {
    registerOutboxGauges(settings.registry, () => readOutboxBacklog(dataSource));
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

  async function publishPass(): Promise<PassResult> {
    return dataSource.transaction(async (manager: EntityManager) => {
      const rows = (await manager.query(CLAIM, [batchSize])) as ClaimedRow[];
      if (rows.length === 0) return { claimed: 0, published: 0, failed: 0 };
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
      const failedIds: string[] = [];
      const failedErrors: string[] = [];
      outcomes.forEach((outcome, index) => {
        const row = rows[index]!;
        if (outcome.status === 'fulfilled') {
          published.push(row.id);
          metrics?.published.inc({ type: row.type });
        } else {
          failedIds.push(row.id);
          failedErrors.push(String((outcome.reason as Error)?.message ?? outcome.reason));
          metrics?.publishFailures.inc({ type: row.type });
        }
      });
      if (published.length > 0) await manager.query(MARK_PUBLISHED, [published]);
      if (failedIds.length > 0) {
        await manager.query(MARK_FAILED, [failedIds, failedErrors]);
        logger.warn(
          { failed: failedIds.length, firstId: failedIds[0], error: failedErrors[0] },
          'outbox publish failed; rows stay unsent and will be retried',
        );
      }
      return { claimed: rows.length, published: published.length, failed: failedIds.length };
    });
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
      if (!result || result.failed > 0) {
        failures++;
        await sleep(computeBackoff(failures, retry), stopping.signal);
        continue;
      }
      failures = 0;
      // A full batch means more rows are probably waiting: go again at once.
      if (result.claimed < batchSize) await idle();
    }
  }

  async function cleanup(): Promise<void> {
    try {
      const deleted = await pruneOutbox(dataSource, retentionMs);
      if (deleted > 0) logger.info({ deleted }, 'pruned published outbox rows');
    } catch (error) {
      logger.warn({ err: error }, 'outbox cleanup failed');
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

/** Unsent rows and the age of the oldest, read through the partial index of unsent rows. */
export async function readOutboxBacklog(db: DataSource | EntityManager): Promise<OutboxBacklog> {
  const [row] = (await db.query(BACKLOG)) as { unsent: number; age: number }[];
  return { unsent: row?.unsent ?? 0, oldestAgeSeconds: row?.age ?? 0 };
}

/** Deletes outbox rows published more than `retentionMs` ago; returns how many. */
export async function pruneOutbox(
  db: DataSource | EntityManager,
  retentionMs: number,
): Promise<number> {
  const [, count] = (await db.query(
    `DELETE FROM outbox WHERE published_at < now() - $1 * interval '1 millisecond'`,
    [retentionMs],
  )) as [unknown, number];
  return count;
}

/**
 * Deletes inbox rows older than `retentionMs`. Keep it longer than the streams' max age: a
 * message still in a stream can be redelivered, and its inbox row is what makes that harmless.
 */
export async function pruneInbox(
  db: DataSource | EntityManager,
  retentionMs: number,
): Promise<number> {
  const [, count] = (await db.query(
    `DELETE FROM inbox WHERE handled_at < now() - $1 * interval '1 millisecond'`,
    [retentionMs],
  )) as [unknown, number];
  return count;
}
