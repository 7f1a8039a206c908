import {
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { defineMessage, type Envelope } from '@shop/contracts';
import type { Registry } from 'prom-client';
import Type from 'typebox';
import type { DataSource, EntityManager } from 'typeorm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createMetricsRegistry } from '../../src/metrics.js';
import {
  buildEnvelope,
  connectNats,
  createNamespace,
  deadLetterSubject,
  defineHandler,
  definePreparedHandler,
  enqueueMessage,
  ensureConsumer,
  ensureDeadLetterStream,
  ensureStream,
  startConsumer,
  startOutboxRelay,
  type ConsumerRunner,
  type DeadLetter,
  type MessageHandler,
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
  WorkCommand,
  WorkDone,
} from './helpers.js';

const { logger, lines } = captureLogger('debug');
let database: TestDatabase;
let dataSource: DataSource;
let nc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;
let ns: Namespace;
let registry: Registry;
const runners: ConsumerRunner[] = [];
const relays: OutboxRelay[] = [];
let durableSeq = 0;

async function recordEffect(manager: EntityManager, key: string): Promise<void> {
  await manager.query(
    `INSERT INTO effects (key) VALUES ($1)
     ON CONFLICT (key) DO UPDATE SET times = effects.times + 1`,
    [key],
  );
}

async function effects(prefix: string): Promise<{ key: string; times: number }[]> {
  return (await dataSource.query(`SELECT key, times FROM effects WHERE key LIKE $1 ORDER BY key`, [
    `${prefix}%`,
  ])) as { key: string; times: number }[];
}

/** Provisions a fresh durable on the commands subject and starts a runner on it. */
async function consume(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  handlers: MessageHandler<any>[],
  options: { maxDeliver?: number; concurrency?: number } = {},
): Promise<{ durable: string; runner: ConsumerRunner }> {
  const durable = `worker-${++durableSeq}`;
  await ensureConsumer(jsm, ns, {
    stream: 'DEMO',
    durable,
    filterSubject: 'demo.commands.>',
    ackWaitMs: 2_000,
    maxDeliver: options.maxDeliver ?? 5,
  });
  const runner = await startConsumer({
    js,
    dataSource,
    namespace: ns,
    logger,
    registry,
    stream: 'DEMO',
    durable,
    handlers,
    concurrency: options.concurrency ?? 4,
    retry: { initialMs: 20, maxMs: 80 },
  });
  runners.push(runner);
  return { durable, runner };
}

async function publishEnvelope(envelope: Envelope, msgID = envelope.id): Promise<void> {
  await js.publish(ns.subject(envelope.type), JSON.stringify(envelope), { msgID });
}

async function deadLetters(durable: string): Promise<DeadLetter[]> {
  const letters: DeadLetter[] = [];
  const subject = ns.subject(deadLetterSubject(durable));
  const stream = ns.stream('DEAD_LETTERS');
  const { state } = await jsm.streams.info(stream);
  for (let seq = state.first_seq; seq > 0 && seq <= state.last_seq; seq++) {
    const message = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
    if (message?.subject === subject) letters.push(message.json<DeadLetter>());
  }
  return letters;
}

async function pending(durable: string): Promise<{ ackPending: number; pending: number }> {
  const info = await jsm.consumers.info(ns.stream('DEMO'), durable);
  return { ackPending: info.num_ack_pending, pending: info.num_pending };
}

beforeAll(async () => {
  database = await createTestDatabase('messaging_consumer');
  dataSource = await openDataSource(database.url, 'consumer_svc');
  await dataSource.query(
    `CREATE TABLE effects (key text PRIMARY KEY, times integer NOT NULL DEFAULT 1)`,
  );
  ns = createNamespace(testNamespace('consumer'));
  nc = await connectNats({ servers: NATS_URL, name: 'consumer-test', logger });
  js = jetstream(nc);
  jsm = await jetstreamManager(nc);
  await ensureStream(jsm, ns, { name: 'DEMO', subjects: ['demo.>'] });
  await ensureDeadLetterStream(jsm, ns);
  registry = createMetricsRegistry('consumer-test');
});

afterEach(async () => {
  // Every test starts from an empty stream: a new durable with deliver policy "all" would
  // otherwise receive the previous tests' messages too.
  await Promise.all(runners.splice(0).map((r) => r.stop()));
  await Promise.all(relays.splice(0).map((r) => r.stop()));
  for await (const consumer of jsm.consumers.list(ns.stream('DEMO'))) {
    await jsm.consumers.delete(ns.stream('DEMO'), consumer.name);
  }
  await jsm.streams.purge(ns.stream('DEMO'));
});

afterAll(async () => {
  await deleteStreams(nc, ns.prefix);
  await nc.drain();
  await dataSource.destroy();
  await database.drop();
});

describe('inbox consumer', () => {
  it('gives the same message delivered twice its effect once', async () => {
    let calls = 0;
    const { durable } = await consume([
      defineHandler(WorkCommand, async (data, { manager }) => {
        calls++;
        await recordEffect(manager, `dup-${data.n}`);
      }),
    ]);
    const envelope = buildEnvelope(WorkCommand, { n: 1 });
    // Different msgIDs defeat JetStream's dedupe: the stream really holds two copies, as
    // after a publish outside the duplicate window or a lost ack.
    await publishEnvelope(envelope, `${envelope.id}-a`);
    await publishEnvelope(envelope, `${envelope.id}-b`);

    const labels = { consumer: durable, type: WorkCommand.type };
    await waitFor(
      async () =>
        (await metricValue(registry, 'messaging_handled_total', labels)) === 1 &&
        (await metricValue(registry, 'messaging_duplicates_total', labels)) === 1,
      'one handled and one duplicate',
    );
    expect(calls).toBe(1);
    expect(await effects('dup-')).toEqual([{ key: 'dup-1', times: 1 }]);
    const inbox = (await dataSource.query(`SELECT message_id FROM inbox WHERE consumer = $1`, [
      durable,
    ])) as { message_id: string }[];
    expect(inbox).toEqual([{ message_id: envelope.id }]);
    await waitFor(async () => (await pending(durable)).ackPending === 0, 'both acked');
  });

  it('rolls back a failed attempt entirely and succeeds on redelivery', async () => {
    let calls = 0;
    await consume([
      defineHandler(WorkCommand, async (data, { manager, deliveryCount }) => {
        calls++;
        await recordEffect(manager, `retry-${data.n}`);
        if (deliveryCount === 1) throw new Error('transient failure');
      }),
    ]);
    await publishEnvelope(buildEnvelope(WorkCommand, { n: 1 }));
    await waitFor(async () => (await effects('retry-')).length === 1, 'effect after retry');
    expect(await effects('retry-')).toEqual([{ key: 'retry-1', times: 1 }]);
    expect(calls).toBe(2);
  });

  it('dead-letters a message whose handler keeps failing after the configured deliveries', async () => {
    let calls = 0;
    const { durable } = await consume(
      [
        defineHandler(WorkCommand, async () => {
          calls++;
          throw new Error('downstream is broken');
        }),
      ],
      { maxDeliver: 3 },
    );
    const envelope = buildEnvelope(WorkCommand, { n: 9 });
    await publishEnvelope(envelope);

    const [letter] = await waitFor(async () => {
      const letters = await deadLetters(durable);
      return letters.length > 0 ? letters : undefined;
    }, 'dead letter');
    expect(letter).toMatchObject({
      envelope,
      error: 'downstream is broken',
      consumer: durable,
      deliveries: 3,
      subject: ns.subject(WorkCommand.type),
    });
    expect(calls).toBe(3);
    const labels = { consumer: durable, type: WorkCommand.type };
    expect(await metricValue(registry, 'messaging_failed_total', labels)).toBe(3);
    expect(await metricValue(registry, 'messaging_dead_lettered_total', labels)).toBe(1);
    expect(lines.some((line) => line.level === 50 && String(line.msg).includes(envelope.id))).toBe(
      true,
    );
    await waitFor(async () => (await pending(durable)).ackPending === 0, 'dead letter acked');
    expect(await deadLetters(durable)).toHaveLength(1);
  });

  it('sends messages that can never be valid straight to dead letters', async () => {
    let calls = 0;
    const { durable } = await consume([
      defineHandler(WorkCommand, async () => {
        calls++;
      }),
    ]);
    const subject = ns.subject(WorkCommand.type);
    await js.publish(subject, 'not json at all');
    await publishEnvelope({ ...buildEnvelope(WorkCommand, { n: 1 }), data: { n: -5 } });
    await publishEnvelope({ ...buildEnvelope(WorkCommand, { n: 1 }), version: 2 });

    const letters = await waitFor(async () => {
      const found = await deadLetters(durable);
      return found.length === 3 ? found : undefined;
    }, 'three dead letters');
    expect(letters.map((l) => l.deliveries)).toEqual([1, 1, 1]);
    expect(letters[0]).toMatchObject({ envelope: null, raw: 'not json at all' });
    expect(letters[0]!.error).toMatch(/not JSON/);
    expect(letters[1]!.error).toMatch(/invalid data for demo.commands.work v1/);
    expect(letters[2]!.error).toMatch(/v2 is not a version this consumer reads/);
    expect(calls).toBe(0);
  });

  it('acks and skips message types it has no handler for', async () => {
    const Other = defineMessage('demo.commands.other', 1, Type.Object({}));
    const { durable } = await consume([defineHandler(WorkCommand, async () => {})]);
    const envelope = buildEnvelope(Other, {});
    await publishEnvelope(envelope);
    await waitFor(async () => {
      const state = await pending(durable);
      return state.pending === 0 && state.ackPending === 0;
    }, 'skip to be acked');
    expect(
      lines.some(
        (l) => l.msg === 'no handler for message type; skipped' && l.messageId === envelope.id,
      ),
    ).toBe(true);
    expect(await deadLetters(durable)).toHaveLength(0);
  });

  it('carries correlation and causation ids from a message to the messages its handler enqueues', async () => {
    const relay = await startOutboxRelay({
      dataSource,
      js,
      namespace: ns,
      logger,
      pollIntervalMs: 200,
    });
    relays.push(relay);
    await consume([
      defineHandler(WorkCommand, async (data, { manager, logger: handlerLogger }) => {
        handlerLogger.info({ n: data.n }, 'working on it');
        await enqueueMessage(manager, WorkDone, { n: data.n });
      }),
    ]);
    const command = buildEnvelope(WorkCommand, { n: 42 }, { correlationId: 'req-corr-1' });
    await publishEnvelope(command);

    const done = await waitFor(async () => {
      const message = await jsm.streams
        .getMessage(ns.stream('DEMO'), { last_by_subj: ns.subject(WorkDone.type) })
        .catch(() => null);
      return message?.json<Envelope>();
    }, 'the handler’s event to be published');
    expect(done).toMatchObject({
      type: WorkDone.type,
      correlationId: 'req-corr-1',
      causationId: command.id,
      data: { n: 42 },
    });
    const logLine = lines.find((l) => l.msg === 'working on it');
    expect(logLine).toMatchObject({ correlationId: 'req-corr-1', causationId: command.id });
  });

  it('never runs more handlers at once than its concurrency', async () => {
    let running = 0;
    let peak = 0;
    let done = 0;
    await consume(
      [
        defineHandler(WorkCommand, async () => {
          running++;
          peak = Math.max(peak, running);
          await new Promise((resolve) => setTimeout(resolve, 40));
          running--;
          done++;
        }),
      ],
      { concurrency: 3 },
    );
    for (let n = 0; n < 12; n++) await publishEnvelope(buildEnvelope(WorkCommand, { n }));
    await waitFor(() => done === 12, 'all handled');
    expect(peak).toBe(3);
  });

  it('finishes in-flight work when stopped', async () => {
    let started = false;
    const { durable, runner } = await consume([
      defineHandler(WorkCommand, async (data, { manager }) => {
        started = true;
        await new Promise((resolve) => setTimeout(resolve, 300));
        await recordEffect(manager, `stop-${data.n}`);
      }),
    ]);
    await publishEnvelope(buildEnvelope(WorkCommand, { n: 1 }));
    await waitFor(() => started, 'handler to start');
    await runner.stop();
    expect(await effects('stop-')).toEqual([{ key: 'stop-1', times: 1 }]);
    await waitFor(async () => (await pending(durable)).ackPending === 0, 'ack after stop');
  });

  it('hands what a prepared handler’s first phase returned to its transaction, and skips both for a repeat', async () => {
    const prepared: number[] = [];
    let handled: string[] = [];
    const { durable } = await consume([
      definePreparedHandler(WorkCommand, {
        async prepare(data, { deliveryCount }) {
          prepared.push(deliveryCount);
          if (deliveryCount === 1) throw new Error('the slow system is down');
          return `quote-${data.n}`;
        },
        async handle(data, quote, { manager }) {
          handled = [...handled, quote];
          await recordEffect(manager, `prepared-${data.n}`);
        },
      }),
    ]);
    const envelope = buildEnvelope(WorkCommand, { n: 7 });
    await publishEnvelope(envelope);
    await waitFor(async () => (await effects('prepared-')).length === 1, 'effect after retry');
    expect(prepared).toEqual([1, 2]);
    expect(handled).toEqual(['quote-7']);

    // The same message again after it was handled: the inbox has it, so neither phase runs.
    await publishEnvelope(envelope, `${envelope.id}-again`);
    const labels = { consumer: durable, type: WorkCommand.type };
    await waitFor(
      async () => (await metricValue(registry, 'messaging_duplicates_total', labels)) === 1,
      'the repeat skipped',
    );
    expect(prepared).toEqual([1, 2]);
    expect(await effects('prepared-')).toEqual([{ key: 'prepared-7', times: 1 }]);
  });
});
