import { performance } from 'node:perf_hooks';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { defineMessage } from '@shop/contracts';
import {
  connectNats,
  createLogger,
  createNamespace,
  defineHandler,
  enqueueMessage,
  ensureConsumer,
  ensureStream,
  messagingMigrations,
  openDataSource,
  readOutboxBacklog,
  startConsumer,
  startOutboxRelay,
} from '@shop/service-kit';
import {
  createTestDatabase,
  deleteNamespaceStreams,
  testNamespace,
  TEST_NATS_URL,
} from '@shop/service-kit/testing';
import Type from 'typebox';
import type { BenchResult } from './report.js';

const ThingHappened = defineMessage(
  'bench.events.thing.happened',
  1,
  Type.Object({ sequence: Type.Integer() }),
);

async function until(condition: () => Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 5));
}

/**
 * The outbox relay and the inbox consumer against their baselines, in one process on the same
 * servers: plain JetStream publishes with msgID (the least any reliable publisher must do), and
 * a plain pull consumer that acks each message (the least any consumer must do). The ratios
 * are the price of "nothing lost, nothing done twice".
 */
export async function benchMessaging(count: number): Promise<BenchResult[]> {
  const logger = createLogger({ service: 'bench', level: 'warn' });
  const database = await createTestDatabase('bench_messaging');
  const prefix = testNamespace('bench');
  const namespace = createNamespace(prefix);
  const nats = await connectNats({ servers: TEST_NATS_URL, name: 'bench', logger });
  const js = jetstream(nats);
  const jsm = await jetstreamManager(nats);
  const admin = await openDataSource({ url: database.url, schema: 'public', logger });
  await admin.query('CREATE SCHEMA bench');
  await admin.destroy();
  const dataSource = await openDataSource({
    url: database.url,
    schema: 'bench',
    logger,
    migrations: messagingMigrations,
  });
  await dataSource.runMigrations();
  await dataSource.query('CREATE TABLE effects (sequence integer PRIMARY KEY)');

  try {
    await ensureStream(jsm, namespace, { name: 'BASELINE', subjects: ['baseline.>'] });
    await ensureStream(jsm, namespace, { name: 'BENCH', subjects: ['bench.>'] });

    // Baseline publish: batches of 100 in flight, like the relay's claim size.
    const payload = new TextEncoder().encode(JSON.stringify({ sequence: 0 }));
    let started = performance.now();
    for (let offset = 0; offset < count; offset += 100) {
      const batch = [];
      for (let i = offset; i < Math.min(offset + 100, count); i++) {
        batch.push(
          js.publish(namespace.subject('baseline.thing'), payload, { msgID: `baseline-${i}` }),
        );
      }
      await Promise.all(batch);
    }
    const publishBaselineMs = performance.now() - started;

    for (let offset = 0; offset < count; offset += 100) {
      await dataSource.transaction(async (manager) => {
        for (let i = offset; i < Math.min(offset + 100, count); i++) {
          await enqueueMessage(manager, ThingHappened, { sequence: i });
        }
      });
    }
    started = performance.now();
    const relay = await startOutboxRelay({ dataSource, js, namespace, logger });
    await until(async () => (await readOutboxBacklog(dataSource)).unsent === 0);
    const relayMs = performance.now() - started;
    await relay.stop();

    // Baseline consume: pull and ack, nothing else.
    await jsm.consumers.add(namespace.stream('BASELINE'), {
      durable_name: 'baseline',
      ack_policy: AckPolicy.Explicit,
    });
    started = performance.now();
    const consumer = await js.consumers.get(namespace.stream('BASELINE'), 'baseline');
    const messages = await consumer.consume({ max_messages: 256 });
    let seen = 0;
    for await (const message of messages) {
      message.ack();
      if (++seen === count) break;
    }
    const consumeBaselineMs = performance.now() - started;

    await ensureConsumer(jsm, namespace, {
      stream: 'BENCH',
      durable: 'bench-inbox',
      filterSubject: 'bench.>',
    });
    started = performance.now();
    const runner = await startConsumer({
      js,
      dataSource,
      namespace,
      logger,
      stream: 'BENCH',
      durable: 'bench-inbox',
      concurrency: 16,
      handlers: [
        defineHandler(ThingHappened, async ({ sequence }, { manager }) => {
          await manager.query('INSERT INTO effects (sequence) VALUES ($1)', [sequence]);
        }),
      ],
    });
    await until(async () => {
      const [row] = (await dataSource.query('SELECT count(*)::int AS n FROM effects')) as {
        n: number;
      }[];
      return row!.n === count;
    });
    const inboxMs = performance.now() - started;
    await runner.stop();

    return [
      {
        name: `outbox relay, ${count} messages`,
        baseline: 'plain JetStream publish with msgID',
        baselineMs: publishBaselineMs,
        measuredMs: relayMs,
      },
      {
        name: `inbox consumer, ${count} messages`,
        baseline: 'plain pull consumer, ack only',
        baselineMs: consumeBaselineMs,
        measuredMs: inboxMs,
      },
    ];
  } finally {
    await dataSource.destroy();
    await nats.drain();
    await deleteNamespaceStreams(prefix);
    await database.drop();
  }
}
