import {
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { defineMessage } from '@shop/contracts';
import Type from 'typebox';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMetricsRegistry } from '../../src/metrics.js';
import {
  connectNats,
  createNamespace,
  enqueueMessage,
  ensureStream,
  DEFAULT_INBOX_RETENTION_MS,
  pruneInbox,
  pruneOutbox,
  readOutboxBacklog,
  registerOutboxGauges,
  startOutboxRelay,
  type Namespace,
  type OutboxRelay,
} from '../../src/messaging/index.js';
import { CLAIM, CLAIM_PLAN } from '../../src/messaging/relay.js';
import { createTestDatabase, type TestDatabase } from '../../src/testing/database.js';
import { testNamespace } from '../../src/testing/nats.js';
import { waitFor } from '../../src/testing/wait.js';
import {
  captureLogger,
  deleteStreams,
  NATS_URL,
  natsProxy,
  openDataSource,
  streamMessageCount,
  WorkCommand,
} from './helpers.js';

const { logger, lines } = captureLogger('warn');

/** A message on a subject no stream takes: every publish of it fails, as a poison row does. */
const Unroutable = defineMessage(
  'elsewhere.commands.poison',
  1,
  Type.Object({ n: Type.Integer() }, { additionalProperties: false }),
);

async function ensureElsewhereStream(): Promise<string> {
  await ensureStream(jsm, ns, { name: 'ELSEWHERE', subjects: ['elsewhere.>'] });
  return ns.stream('ELSEWHERE');
}

async function rowOf(id: string): Promise<{
  attempts: number;
  published_at: Date | null;
  last_error: string | null;
  due: boolean;
}> {
  const [row] = (await dataSource.query(
    `SELECT attempts, published_at, last_error, next_attempt_at <= now() AS due
     FROM outbox WHERE id = $1`,
    [id],
  )) as { attempts: number; published_at: Date | null; last_error: string | null; due: boolean }[];
  if (!row) throw new Error(`no outbox row ${id}`);
  return row;
}

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Actual Rows'?: number;
  'Rows Removed by Filter'?: number;
  Plans?: PlanNode[];
}

function flatten(node: PlanNode): PlanNode[] {
  return [node, ...(node.Plans ?? []).flatMap(flatten)];
}

let database: TestDatabase;
let dataSource: DataSource;
let nc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;
let ns: Namespace;
let stream: string;
const relays: OutboxRelay[] = [];

async function relay(settings: Partial<Parameters<typeof startOutboxRelay>[0]> = {}) {
  const started = await startOutboxRelay({
    dataSource,
    js,
    namespace: ns,
    logger,
    pollIntervalMs: 200,
    retry: { initialMs: 50, maxMs: 200 },
    ...settings,
  });
  relays.push(started);
  return started;
}

const unsentCount = async () =>
  Number(
    (
      (await dataSource.query(`SELECT count(*) AS n FROM outbox WHERE published_at IS NULL`)) as {
        n: string;
      }[]
    )[0]!.n,
  );

beforeAll(async () => {
  database = await createTestDatabase('messaging_outbox_relay');
  dataSource = await openDataSource(database.url, 'relay_svc');
  ns = createNamespace(testNamespace('outbox'));
  nc = await connectNats({ servers: NATS_URL, name: 'outbox-test', logger });
  js = jetstream(nc);
  jsm = await jetstreamManager(nc);
  await ensureStream(jsm, ns, { name: 'DEMO', subjects: ['demo.>'] });
  stream = ns.stream('DEMO');
});

beforeEach(async () => {
  await Promise.all(relays.splice(0).map((r) => r.stop()));
  await dataSource.query(`DELETE FROM outbox`);
  await jsm.streams.purge(stream);
  await jsm.streams.delete(ns.stream('ELSEWHERE')).catch(() => undefined);
});

afterAll(async () => {
  await Promise.all(relays.map((r) => r.stop()));
  await deleteStreams(nc, ns.prefix);
  await nc.drain();
  await dataSource.destroy();
  await database.drop();
});

describe('outbox and relay', () => {
  it('never publishes a message whose transaction rolled back', async () => {
    await relay();
    await expect(
      dataSource.transaction(async (manager) => {
        await enqueueMessage(manager, WorkCommand, { n: 1 });
        throw new Error('business rule failed');
      }),
    ).rejects.toThrow('business rule failed');
    // A committed message enqueued afterwards proves the relay is running and caught up.
    const kept = await dataSource.transaction((manager) =>
      enqueueMessage(manager, WorkCommand, { n: 2 }),
    );
    await waitFor(async () => (await unsentCount()) === 0, 'relay to publish');
    const rows = (await dataSource.query(`SELECT id FROM outbox`)) as { id: string }[];
    expect(rows.map((r) => r.id)).toEqual([kept.id]);
    expect(await streamMessageCount(jsm, stream)).toBe(1);
    const last = await jsm.streams.getMessage(stream, {
      last_by_subj: ns.subject(WorkCommand.type),
    });
    expect(last?.json<{ id: string; data: unknown }>()).toMatchObject({
      id: kept.id,
      data: { n: 2 },
    });
  });

  it('refuses to enqueue outside a transaction', async () => {
    await expect(enqueueMessage(dataSource.manager, WorkCommand, { n: 1 })).rejects.toThrow(
      /needs the EntityManager of a transaction/,
    );
  });

  it('heals a crash between commit and publish when a relay starts', async () => {
    // Committed while no relay runs: the state a crash right after commit leaves behind.
    const ids = await dataSource.transaction(async (manager) => {
      const out: string[] = [];
      for (let n = 0; n < 5; n++) out.push((await enqueueMessage(manager, WorkCommand, { n })).id);
      return out;
    });
    // And one row that a relay published but crashed before marking as sent.
    const [first] = (await dataSource.query(`SELECT payload::text AS p FROM outbox WHERE id = $1`, [
      ids[0],
    ])) as { p: string }[];
    await js.publish(ns.subject(WorkCommand.type), first!.p, { msgID: ids[0] });
    expect(await unsentCount()).toBe(5);

    await relay();
    await waitFor(async () => (await unsentCount()) === 0, 'relay to catch up');
    // JetStream dropped the re-published copy of ids[0]: each message is stored once.
    expect(await streamMessageCount(jsm, stream)).toBe(5);
  });

  it('wakes on NOTIFY instead of waiting for the poll', async () => {
    await relay({ pollIntervalMs: 60_000 });
    const started = Date.now();
    await dataSource.transaction((manager) => enqueueMessage(manager, WorkCommand, { n: 7 }));
    await waitFor(async () => (await unsentCount()) === 0, 'notified relay to publish', {
      timeoutMs: 5_000,
    });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('re-establishes a lost LISTEN connection', async () => {
    await relay({ pollIntervalMs: 60_000 });
    const killed = (await dataSource.query(
      `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
       WHERE datname = current_database() AND application_name = 'outbox-listener'`,
    )) as { ok: boolean }[];
    expect(killed).toEqual([{ ok: true }]);
    await waitFor(
      async () =>
        (
          (await dataSource.query(
            `SELECT count(*)::int AS n FROM pg_stat_activity
           WHERE datname = current_database() AND application_name = 'outbox-listener'
             AND query LIKE 'LISTEN%'`,
          )) as { n: number }[]
        )[0]!.n === 1,
      'listener to reconnect',
    );
    // With a one-minute poll, only a notification can get this published quickly.
    await dataSource.transaction((manager) => enqueueMessage(manager, WorkCommand, { n: 3 }));
    await waitFor(async () => (await unsentCount()) === 0, 'publish after listener reconnect', {
      timeoutMs: 5_000,
    });
  });

  it('keeps rows while NATS is unreachable, backs off, and publishes once it is back', async () => {
    const proxy = natsProxy();
    await proxy.reservePort();
    await proxy.up();
    const viaProxy = await connectNats({
      servers: proxy.url,
      name: 'outbox-test-proxy',
      logger,
      reconnectTimeWaitMs: 100,
    });
    try {
      await proxy.down();
      // The passes during the outage must charge no row (checked below). The one pass that
      // straddles NATS's return may: its publishes time out while the probe already gets an
      // answer, which looks like the rows' fault; that costs them one short backoff of their own.
      await relay({
        js: jetstream(viaProxy),
        publishTimeoutMs: 300,
        rowRetry: { initialMs: 1_000, maxMs: 1_000 },
      });
      await dataSource.transaction(async (manager) => {
        for (let n = 0; n < 3; n++) await enqueueMessage(manager, WorkCommand, { n });
      });
      await waitFor(
        () =>
          lines.filter((line) => String(line.msg).includes('JetStream is unreachable')).length >= 2,
        'failed passes while NATS is down',
      );
      // Not the rows' fault: they stay unsent, due, and uncharged.
      const rows = (await dataSource.query(
        `SELECT published_at, attempts, next_attempt_at <= now() AS due FROM outbox`,
      )) as { published_at: Date | null; attempts: number; due: boolean }[];
      expect(rows).toEqual(
        Array.from({ length: 3 }, () => ({ published_at: null, attempts: 0, due: true })),
      );

      await proxy.up();
      await waitFor(async () => (await unsentCount()) === 0, 'publish after NATS returns', {
        timeoutMs: 10_000,
      });
      expect(await streamMessageCount(jsm, stream)).toBe(3);
    } finally {
      await Promise.all(relays.splice(0).map((r) => r.stop()));
      await viaProxy.close();
      await proxy.down();
    }
  });

  it('reports backlog gauges and publish counts on the registry', async () => {
    const registry = createMetricsRegistry('relay-test');
    await dataSource.transaction(async (manager) => {
      await enqueueMessage(manager, WorkCommand, { n: 1 });
      await enqueueMessage(manager, WorkCommand, { n: 2 });
    });
    await dataSource.query(`UPDATE outbox SET created_at = now() - interval '90 seconds'`);
    registerOutboxGauges(registry, () => readOutboxBacklog(dataSource));
    const gauges = async () => {
      const json = await registry.getMetricsAsJSON();
      const value = (name: string) => json.find((m) => m.name === name)?.values[0]?.value;
      return {
        backlog: value('messaging_outbox_backlog'),
        age: value('messaging_outbox_oldest_unsent_age_seconds'),
        published: value('messaging_published_total'),
      };
    };
    const before = await gauges();
    expect(before.backlog).toBe(2);
    expect(before.age).toBeGreaterThanOrEqual(90);

    await relay({ registry });
    await waitFor(async () => (await unsentCount()) === 0, 'publish');
    const after = await gauges();
    expect(after.backlog).toBe(0);
    expect(after.age).toBe(0);
    expect(after.published).toBe(2);
  });

  it('publishes healthy rows at full speed past one that cannot be published', async () => {
    // A relay-wide backoff after a failure would hold everything for 10 s.
    await relay({ retry: { initialMs: 10_000, maxMs: 10_000 } });
    const poison = await dataSource.transaction((manager) =>
      enqueueMessage(manager, Unroutable, { n: 0 }),
    );
    await waitFor(async () => (await rowOf(poison.id)).attempts >= 1, 'the poison row to fail');

    const started = Date.now();
    for (let batch = 0; batch < 5; batch++) {
      await dataSource.transaction(async (manager) => {
        for (let n = 0; n < 60; n++) await enqueueMessage(manager, WorkCommand, { n });
      });
    }
    await waitFor(async () => (await unsentCount()) === 1, 'the 300 healthy rows', {
      timeoutMs: 5_000,
    });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await streamMessageCount(jsm, stream)).toBe(300);
    const row = await rowOf(poison.id);
    expect(row.published_at).toBeNull(); // kept, never dropped
    expect(row.last_error).toMatch(/no responders/);
    expect(row.attempts).toBeGreaterThanOrEqual(1);
    expect(row.due).toBe(false); // waiting for its own backoff
  });

  it('charges rows whose publishes only time out, when JetStream itself answers', async () => {
    // A subject something listens on but no stream stores: each publish waits out its timeout,
    // like a stream that stopped answering while NATS is fine. Blaming NATS for these would
    // hold every other row behind them for good.
    const silent = nc.subscribe(ns.subject(Unroutable.type));
    try {
      await relay({
        batchSize: 2,
        publishTimeoutMs: 200,
        retry: { initialMs: 10_000, maxMs: 10_000 },
        rowRetry: { initialMs: 60_000, maxMs: 60_000 },
      });
      const stuck = await dataSource.transaction(async (manager) => [
        await enqueueMessage(manager, Unroutable, { n: 1 }),
        await enqueueMessage(manager, Unroutable, { n: 2 }),
      ]);
      await dataSource.transaction(async (manager) => {
        for (let n = 0; n < 4; n++) await enqueueMessage(manager, WorkCommand, { n });
      });
      await waitFor(
        async () => (await unsentCount()) === 2,
        'the healthy rows past the silent ones',
        {
          timeoutMs: 5_000,
        },
      );
      for (const row of stuck) {
        const stored = await rowOf(row.id);
        expect(stored.attempts).toBe(1);
        expect(stored.due).toBe(false);
      }
    } finally {
      silent.unsubscribe();
    }
  });

  it('retries a failing row later, after its own backoff, and publishes it once it can', async () => {
    await relay({ rowRetry: { initialMs: 100, maxMs: 400 } });
    const poison = await dataSource.transaction((manager) =>
      enqueueMessage(manager, Unroutable, { n: 1 }),
    );
    await waitFor(async () => (await rowOf(poison.id)).attempts >= 3, 'several attempts');
    const elsewhere = await ensureElsewhereStream();
    await waitFor(async () => (await unsentCount()) === 0, 'the row once its subject has a stream');
    expect(await streamMessageCount(jsm, elsewhere)).toBe(1);
    const last = await jsm.streams.getMessage(elsewhere, {
      last_by_subj: ns.subject(Unroutable.type),
    });
    expect(last?.json<{ id: string }>().id).toBe(poison.id);
  });

  it('logs a row stuck after many attempts at error level and counts it in a gauge', async () => {
    const registry = createMetricsRegistry('relay-stuck-test');
    await relay({ registry, rowRetry: { initialMs: 20, maxMs: 40 }, stuckAfterAttempts: 3 });
    const poison = await dataSource.transaction((manager) =>
      enqueueMessage(manager, Unroutable, { n: 2 }),
    );
    await dataSource.transaction((manager) => enqueueMessage(manager, WorkCommand, { n: 2 }));
    const stuckGauge = async () =>
      (await registry.getMetricsAsJSON()).find((m) => m.name === 'messaging_outbox_stuck_messages')
        ?.values[0]?.value;
    await waitFor(async () => (await stuckGauge()) === 1, 'the stuck gauge');
    const logged = await waitFor(
      () =>
        lines.find(
          (line) =>
            line.level === 50 &&
            line.messageId === poison.id &&
            String(line.msg).includes(
              `outbox message ${poison.id} (${Unroutable.type}) still unpublished`,
            ),
        ),
      'an error line naming the row',
    );
    expect(logged).toMatchObject({ type: Unroutable.type, attempts: expect.any(Number) });
    expect(await unsentCount()).toBe(1); // the healthy one went out
  });

  it('claims due rows by walking the due index, reading none of the rows that wait', async () => {
    await dataSource.transaction(async (manager) => {
      for (let n = 0; n < 500; n++) await enqueueMessage(manager, WorkCommand, { n });
    });
    await dataSource.query(
      `UPDATE outbox SET next_attempt_at = now() + interval '1 hour' WHERE id IN (
         SELECT id FROM outbox ORDER BY created_at LIMIT 40)`,
    );
    // No ANALYZE: statistics that lag behind a fresh backlog are the case that matters.
    const [
      {
        'QUERY PLAN': [plan],
      },
    ] = await dataSource.transaction(async (manager) => {
      await manager.query(CLAIM_PLAN);
      return (await manager.query(`EXPLAIN (ANALYZE, COSTS OFF, FORMAT JSON) ${CLAIM}`, [100])) as [
        { 'QUERY PLAN': [{ Plan: PlanNode }] },
      ];
    });
    const nodes = flatten(plan.Plan);
    expect(nodes.map((node) => node['Node Type'])).not.toContain('Sort');
    const scan = nodes.find((node) => node['Node Type'].includes('Scan'));
    expect(scan).toMatchObject({
      'Node Type': 'Index Scan',
      'Index Name': 'outbox_due_idx',
      'Actual Rows': 100, // stopped at the batch, never touched the 40 waiting rows
    });
    expect(scan!['Rows Removed by Filter'] ?? 0).toBe(0);
  });

  it('prunes inbox rows past their retention, in batches, and never recent ones', async () => {
    // Longer than a stream (7 days) and then the dead-letter stream (30 days) keep a message.
    expect(DEFAULT_INBOX_RETENTION_MS).toBe(45 * 24 * 3600 * 1000);
    await dataSource.query(`DELETE FROM inbox`);
    await dataSource.query(
      `INSERT INTO inbox (consumer, message_id, handled_at)
       SELECT 'old', gen_random_uuid(), now() - $1 * interval '1 millisecond' - interval '1 day'
       FROM generate_series(1, 12000)`,
      [DEFAULT_INBOX_RETENTION_MS],
    );
    await dataSource.query(
      `INSERT INTO inbox (consumer, message_id, handled_at)
       SELECT 'recent', gen_random_uuid(), now() - $1 * interval '1 millisecond' + interval '1 day'
       FROM generate_series(1, 10)`,
      [DEFAULT_INBOX_RETENTION_MS],
    );
    expect(await pruneInbox(dataSource, DEFAULT_INBOX_RETENTION_MS)).toBe(12000);
    const left = (await dataSource.query(
      `SELECT consumer, count(*)::int AS n FROM inbox GROUP BY consumer`,
    )) as { consumer: string; n: number }[];
    expect(left).toEqual([{ consumer: 'recent', n: 10 }]);
  });

  it('prunes the inbox on the relay’s cleanup timer', async () => {
    await dataSource.query(`DELETE FROM inbox`);
    await dataSource.query(
      `INSERT INTO inbox (consumer, message_id, handled_at) VALUES
         ('c', gen_random_uuid(), now() - interval '50 days'),
         ('c', gen_random_uuid(), now() - interval '1 day')`,
    );
    await relay({ cleanupIntervalMs: 100 });
    await waitFor(
      async () =>
        ((await dataSource.query(`SELECT count(*)::int AS n FROM inbox`)) as { n: number }[])[0]!
          .n === 1,
      'the old inbox row to be pruned',
    );
    const [kept] = (await dataSource.query(
      `SELECT handled_at > now() - interval '2 days' AS recent FROM inbox`,
    )) as { recent: boolean }[];
    expect(kept!.recent).toBe(true);
  });

  it('prunes published rows older than the retention, never unsent ones', async () => {
    await dataSource.transaction(async (manager) => {
      for (let n = 0; n < 3; n++) await enqueueMessage(manager, WorkCommand, { n });
    });
    const rows = (await dataSource.query(`SELECT id FROM outbox ORDER BY id`)) as { id: string }[];
    await dataSource.query(
      `UPDATE outbox SET published_at = now() - interval '2 hours' WHERE id = $1`,
      [rows[0]!.id],
    );
    await dataSource.query(`UPDATE outbox SET published_at = now() WHERE id = $1`, [rows[1]!.id]);
    expect(await pruneOutbox(dataSource, 60 * 60 * 1000)).toBe(1);
    const left = (await dataSource.query(`SELECT id FROM outbox ORDER BY id`)) as { id: string }[];
    expect(left.map((r) => r.id)).toEqual([rows[1]!.id, rows[2]!.id]);
  });
});
