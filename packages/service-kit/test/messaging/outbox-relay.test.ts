import {
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMetricsRegistry } from '../../src/metrics.js';
import {
  connectNats,
  createNamespace,
  enqueueMessage,
  ensureStream,
  pruneOutbox,
  readOutboxBacklog,
  registerOutboxGauges,
  startOutboxRelay,
  type Namespace,
  type OutboxRelay,
} from '../../src/messaging/index.js';
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

const { logger } = captureLogger('warn');
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
      await relay({ js: jetstream(viaProxy), publishTimeoutMs: 300 });
      await dataSource.transaction((manager) => enqueueMessage(manager, WorkCommand, { n: 8 }));
      await waitFor(
        async () =>
          ((await dataSource.query(`SELECT attempts FROM outbox`)) as { attempts: number }[])[0]!
            .attempts >= 2,
        'failed publish attempts to be recorded',
      );
      const [row] = (await dataSource.query(`SELECT published_at, last_error FROM outbox`)) as {
        published_at: Date | null;
        last_error: string | null;
      }[];
      expect(row!.published_at).toBeNull();
      expect(row!.last_error).toBeTruthy();

      await proxy.up();
      await waitFor(async () => (await unsentCount()) === 0, 'publish after NATS returns');
      expect(await streamMessageCount(jsm, stream)).toBe(1);
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
