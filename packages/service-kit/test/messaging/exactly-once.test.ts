import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetricsRegistry } from '../../src/metrics.js';
import {
  connectNats,
  createNamespace,
  defineHandler,
  enqueueMessage,
  ensureConsumer,
  ensureStream,
  startConsumer,
  startOutboxRelay,
  type ConsumerRunner,
  type Namespace,
  type OutboxRelay,
} from '../../src/messaging/index.js';
import { createTestDatabase, type TestDatabase } from '../../src/testing/database.js';
import { testNamespace } from '../../src/testing/nats.js';
import { waitFor } from '../../src/testing/wait.js';
import {
  captureLogger,
  deleteStreams,
  metricValue,
  NATS_URL,
  openDataSource,
  streamMessageCount,
  WorkCommand,
} from './helpers.js';

const TOTAL = 1_000;
const { logger } = captureLogger('warn');
let database: TestDatabase;
let ns: Namespace;
let jsm: JetStreamManager;
const connections: NatsConnection[] = [];
const dataSources: DataSource[] = [];
const relays: OutboxRelay[] = [];
const runners: ConsumerRunner[] = [];

/** One "replica": its own Postgres pool, NATS connection and metrics registry. */
async function replica(
  schema: string,
): Promise<{ dataSource: DataSource; nc: NatsConnection; registry: Registry }> {
  const dataSource = await openDataSource(database.url, schema);
  const nc = await connectNats({ servers: NATS_URL, name: `${schema}-replica`, logger });
  dataSources.push(dataSource);
  connections.push(nc);
  return { dataSource, nc, registry: createMetricsRegistry(schema) };
}

beforeAll(async () => {
  database = await createTestDatabase('messaging_exactly_once');
  ns = createNamespace(testNamespace('exactly_once'));
  const admin = await connectNats({ servers: NATS_URL, name: 'exactly-once-admin', logger });
  connections.push(admin);
  jsm = await jetstreamManager(admin);
  await ensureStream(jsm, ns, { name: 'DEMO', subjects: ['demo.>'] });
});

afterAll(async () => {
  await Promise.all(relays.map((r) => r.stop()));
  await Promise.all(runners.map((r) => r.stop()));
  await deleteStreams(connections[0]!, ns.prefix);
  await Promise.all(connections.map((nc) => nc.drain()));
  await Promise.all(dataSources.map((ds) => ds.destroy()));
  await database.drop();
});

describe('two relays and two consumers side by side', () => {
  it(`publish and handle each of ${TOTAL} messages exactly once`, { timeout: 60_000 }, async () => {
    const producers = [await replica('producer'), await replica('producer')];
    const consumers = [await replica('consumer'), await replica('consumer')];
    const effectsDb = consumers[0]!.dataSource;
    await effectsDb.query(
      `CREATE TABLE effects (key integer PRIMARY KEY, times integer NOT NULL DEFAULT 1)`,
    );

    const durable = 'consumer-demo-commands';
    for (const { nc } of consumers) {
      // Both replicas provision at start, as services do.
      await ensureConsumer(await jetstreamManager(nc), ns, {
        stream: 'DEMO',
        durable,
        filterSubject: 'demo.commands.>',
      });
    }
    const handler = defineHandler(WorkCommand, async (data, { manager }) => {
      // A duplicate effect would bump `times` instead of failing, so it cannot hide.
      await manager.query(
        `INSERT INTO effects (key) VALUES ($1)
         ON CONFLICT (key) DO UPDATE SET times = effects.times + 1`,
        [data.n],
      );
    });
    for (const { dataSource, nc, registry } of consumers) {
      runners.push(
        await startConsumer({
          js: jetstream(nc),
          dataSource,
          namespace: ns,
          logger,
          registry,
          stream: 'DEMO',
          durable,
          handlers: [handler],
          concurrency: 8,
        }),
      );
    }
    for (const { dataSource, nc, registry } of producers) {
      relays.push(
        await startOutboxRelay({
          dataSource,
          js: jetstream(nc),
          namespace: ns,
          logger,
          registry,
          batchSize: 50,
          pollIntervalMs: 200,
        }),
      );
    }

    // 100 transactions of 10 messages, from both producer pools, while the relays run.
    const batches = Array.from({ length: TOTAL / 10 }, (_, b) => b);
    await Promise.all(
      batches.map((b) =>
        producers[b % 2]!.dataSource.transaction(async (manager) => {
          for (let i = 0; i < 10; i++)
            await enqueueMessage(manager, WorkCommand, { n: b * 10 + i });
        }),
      ),
    );

    await waitFor(
      async () => {
        const [row] = (await effectsDb.query(`SELECT count(*)::int AS n FROM effects`)) as {
          n: number;
        }[];
        return row!.n === TOTAL;
      },
      'every effect',
      { timeoutMs: 45_000, intervalMs: 100 },
    );
    const consumerInfo = await waitFor(async () => {
      const info = await jsm.consumers.info(ns.stream('DEMO'), durable);
      return info.num_pending === 0 && info.num_ack_pending === 0 ? info : undefined;
    }, 'every message acked');
    expect(consumerInfo.delivered.consumer_seq).toBe(TOTAL); // no redelivery at all

    const [effects] = (await effectsDb.query(
      `SELECT count(*)::int AS rows, sum(times)::int AS total, max(times)::int AS most FROM effects`,
    )) as { rows: number; total: number; most: number }[];
    expect(effects).toEqual({ rows: TOTAL, total: TOTAL, most: 1 });
    const [inbox] = (await effectsDb.query(`SELECT count(*)::int AS n FROM inbox`)) as {
      n: number;
    }[];
    expect(inbox!.n).toBe(TOTAL);

    const [outbox] = (await producers[0]!.dataSource.query(
      `SELECT count(*)::int AS n, count(published_at)::int AS sent FROM outbox`,
    )) as { n: number; sent: number }[];
    expect(outbox).toEqual({ n: TOTAL, sent: TOTAL });
    expect(await streamMessageCount(jsm, ns.stream('DEMO'))).toBe(TOTAL);

    const sum = async (replicas: { registry: Registry }[], name: string) =>
      (await Promise.all(replicas.map(({ registry }) => metricValue(registry, name)))).reduce(
        (a, b) => a + b,
        0,
      );
    // SKIP LOCKED split the rows: each was published by exactly one relay, once.
    expect(await sum(producers, 'messaging_published_total')).toBe(TOTAL);
    expect(await sum(consumers, 'messaging_handled_total')).toBe(TOTAL);
    expect(await sum(consumers, 'messaging_duplicates_total')).toBe(0);
    // And both replicas of each really took part.
    for (const { registry } of producers) {
      expect(await metricValue(registry, 'messaging_published_total')).toBeGreaterThan(0);
    }
    for (const { registry } of consumers) {
      expect(await metricValue(registry, 'messaging_handled_total')).toBeGreaterThan(0);
    }
  });
});
