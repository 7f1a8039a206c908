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
  natsProxy,
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
const releases: (() => void)[] = [];
const afterCurrent = (release: () => void): void => void releases.push(release);

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

interface ConsumeOptions {
  maxDeliver?: number;
  concurrency?: number;
  /** Another connection's client, e.g. one the test will close to play a crashed process. */
  via?: JetStreamClient;
  maxHandlerMs?: number;
}

/** Provisions a fresh durable on the commands subject. */
async function provision(maxDeliver = 5, ackWaitMs = 2_000): Promise<string> {
  const durable = `worker-${++durableSeq}`;
  await ensureConsumer(jsm, ns, {
    stream: 'DEMO',
    durable,
    filterSubject: 'demo.commands.>',
    ackWaitMs,
    maxDeliver,
  });
  return durable;
}

/** Starts a runner on an existing durable. */
async function run(
  durable: string,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  handlers: MessageHandler<any>[],
  options: ConsumeOptions = {},
): Promise<ConsumerRunner> {
  const runner = await startConsumer({
    js: options.via ?? js,
    dataSource,
    namespace: ns,
    logger,
    registry,
    stream: 'DEMO',
    durable,
    handlers,
    concurrency: options.concurrency ?? 4,
    retry: { initialMs: 20, maxMs: 80 },
    ...(options.maxHandlerMs ? { maxHandlerMs: options.maxHandlerMs } : {}),
  });
  runners.push(runner);
  return runner;
}

/** Provisions a fresh durable on the commands subject and starts a runner on it. */
async function consume(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  handlers: MessageHandler<any>[],
  options: ConsumeOptions = {},
): Promise<{ durable: string; runner: ConsumerRunner }> {
  const durable = await provision(options.maxDeliver ?? 5);
  return { durable, runner: await run(durable, handlers, options) };
}

/**
 * A runner on its own NATS connection, to be "killed": closing the connection is what the
 * server sees when a process dies (no ack, no nak, no more progress reports).
 */
async function crashable(
  durable: string,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  handlers: MessageHandler<any>[],
): Promise<{ crash(): Promise<void> }> {
  const doomed = await connectNats({ servers: NATS_URL, name: 'doomed-replica', logger });
  await run(durable, handlers, { via: jetstream(doomed) });
  return { crash: () => doomed.close() };
}

/** A promise the test settles by hand, to hold a handler mid-flight. */
function gate(): { wait: Promise<void>; open(): void; fail(error: Error): void } {
  let open!: () => void;
  let fail!: (error: Error) => void;
  const wait = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  wait.catch(() => {}); // failing a gate nobody waits on is not an unhandled rejection
  return { wait, open, fail };
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
  // Release whatever a failed test left holding a handler, or stopping its runner would hang.
  for (const release of releases.splice(0)) release();
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
    // Acked for good: no further delivery, no second letter.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(calls).toBe(3);
    expect(await deadLetters(durable)).toHaveLength(1);
    expect(await pending(durable)).toEqual({ ackPending: 0, pending: 0 });
  });

  it('provisions the consumer without a server-side delivery limit', async () => {
    const durable = await provision(3);
    const info = await jsm.consumers.info(ns.stream('DEMO'), durable);
    // Past a server-side max_deliver the server would drop the message without telling anyone.
    expect(info.config.max_deliver).toBe(-1);
    expect(info.config.description).toMatch(/^dead-letter after 3 deliveries/);
  });

  it('dead-letters later a message whose process died during its last allowed delivery', async () => {
    const durable = await provision(2);
    const held = gate();
    afterCurrent(() => held.fail(new Error('the dead process’s handler, released at last')));
    let calls = 0;
    const handler = defineHandler(WorkCommand, async (_data, { deliveryCount }) => {
      calls++;
      if (deliveryCount === 1) throw new Error('first try fails');
      await held.wait; // the last allowed delivery never finishes: the process dies under it
    });
    const doomed = await crashable(durable, [handler]);
    const envelope = buildEnvelope(WorkCommand, { n: 21 });
    await publishEnvelope(envelope);
    try {
      await waitFor(() => calls === 2, 'the last allowed delivery to start');
    } finally {
      await doomed.crash();
    }

    // A healthy replica gets the third delivery (after ack wait) and dead-letters it unrun.
    await run(durable, [handler]);
    const [letter] = await waitFor(async () => {
      const letters = await deadLetters(durable);
      return letters.length > 0 ? letters : undefined;
    }, 'dead letter after the crash');
    expect(letter).toMatchObject({ envelope, consumer: durable, deliveries: 3 });
    expect(letter!.error).toMatch(/delivered 3 times, more than the 2 allowed/);
    expect(calls).toBe(2);
    const labels = { consumer: durable, type: WorkCommand.type };
    expect(await metricValue(registry, 'messaging_dead_lettered_total', labels)).toBe(1);
    expect(
      lines.some(
        (line) =>
          line.level === 50 &&
          String(line.msg).includes(`message ${envelope.id} (${WorkCommand.type}) dead-lettered`),
      ),
    ).toBe(true);
    await waitFor(async () => (await pending(durable)).ackPending === 0, 'dead letter acked');
  });

  it('acks, without dead-lettering, a message past its limit that the inbox shows handled', async () => {
    const durable = await provision(1);
    // The doomed replica reaches NATS through a proxy the handler cuts just before its commit:
    // the effect commits, the ack never arrives, then the process dies.
    const proxy = natsProxy();
    await proxy.reservePort();
    await proxy.up();
    const doomed = await connectNats({ servers: proxy.url, name: 'doomed-replica', logger });
    let calls = 0;
    try {
      await run(
        durable,
        [
          defineHandler(WorkCommand, async (data, { manager }) => {
            calls++;
            await recordEffect(manager, `acklost-${data.n}`);
            await proxy.down();
          }),
        ],
        { via: jetstream(doomed) },
      );
      const envelope = buildEnvelope(WorkCommand, { n: 22 });
      await publishEnvelope(envelope);
      await waitFor(async () => (await effects('acklost-')).length === 1, 'the effect to commit');
    } finally {
      await doomed.close();
      await proxy.down();
    }

    // The second delivery is past the limit of one, but the inbox has the message: handled.
    await run(durable, [defineHandler(WorkCommand, async () => void calls++)]);
    const labels = { consumer: durable, type: WorkCommand.type };
    await waitFor(
      async () => (await metricValue(registry, 'messaging_duplicates_total', labels)) === 1,
      'the redelivery to be recognised as handled',
    );
    await waitFor(async () => (await pending(durable)).ackPending === 0, 'redelivery acked');
    expect(calls).toBe(1);
    expect(await effects('acklost-')).toEqual([{ key: 'acklost-22', times: 1 }]);
    expect(await deadLetters(durable)).toHaveLength(0);
  });

  it('dead-letters later a message whose dead letter could not be published at first', async () => {
    const dlq = ns.stream('DEAD_LETTERS');
    await jsm.streams.delete(dlq); // nowhere to publish dead letters for now
    try {
      let calls = 0;
      const { durable } = await consume(
        [
          defineHandler(WorkCommand, async () => {
            calls++;
            throw new Error('always broken');
          }),
        ],
        { maxDeliver: 2 },
      );
      const envelope = buildEnvelope(WorkCommand, { n: 23 });
      await publishEnvelope(envelope);
      await waitFor(
        () =>
          lines.some(
            (line) =>
              line.msg ===
                'could not publish dead letter; the message will be redelivered and dead-lettered then' &&
              line.messageId === envelope.id,
          ),
        'a failed dead-letter publish',
      );
      await ensureDeadLetterStream(jsm, ns);
      const letters = await waitFor(async () => {
        const found = await deadLetters(durable);
        return found.length > 0 ? found : undefined;
      }, 'the dead letter once the stream is back');
      await waitFor(async () => (await pending(durable)).ackPending === 0, 'dead letter acked');
      expect(letters).toHaveLength(1);
      // Remembered from the failing delivery, though it was dead-lettered on a later one.
      expect(letters[0]).toMatchObject({ envelope, error: 'always broken' });
      expect(letters[0]!.deliveries).toBeGreaterThan(2);
      expect(calls).toBe(2); // the handler never ran past the limit
      expect(await deadLetters(durable)).toHaveLength(1);
    } finally {
      await ensureDeadLetterStream(jsm, ns);
    }
  });

  it('loses nothing it pulled but had not started when stopped, even on its last delivery', async () => {
    // One delivery allowed: every message handed back at shutdown is past its limit when it
    // comes back. With a server-side limit it would have vanished; here it is dead-lettered.
    const durable = await provision(1);
    const held = gate();
    afterCurrent(held.open);
    const handler = defineHandler(WorkCommand, async (data, { manager }) => {
      if (data.n === 0) await held.wait;
      await recordEffect(manager, `pulled-${data.n}`);
    });
    const first = await run(durable, [handler], { concurrency: 1 });
    for (let n = 0; n < 6; n++) await publishEnvelope(buildEnvelope(WorkCommand, { n }));
    // One message in the handler, at least one more delivered to the runner and waiting.
    await waitFor(async () => (await pending(durable)).ackPending >= 2, 'a pulled message');
    const stopping = first.stop();
    held.open();
    await stopping;

    await run(durable, [handler], { concurrency: 1 });
    await waitFor(async () => {
      const state = await pending(durable);
      return state.pending === 0 && state.ackPending === 0;
    }, 'every message to be settled');
    const handled = (await effects('pulled-')).map((e) => e.key);
    const letters = (await deadLetters(durable)).map(
      (l) => `pulled-${(l.envelope!.data as { n: number }).n}`,
    );
    expect(letters.length).toBeGreaterThan(0); // the scenario happened
    expect([...handled, ...letters].sort()).toEqual(
      [0, 1, 2, 3, 4, 5].map((n) => `pulled-${n}`).sort(),
    );
    expect((await effects('pulled-')).every((e) => e.times === 1)).toBe(true);
  });

  it('handles after a restart, once each, what it pulled but had not started when stopped', async () => {
    const durable = await provision(5);
    const held = gate();
    afterCurrent(held.open);
    const handler = defineHandler(WorkCommand, async (data, { manager }) => {
      if (data.n === 0) await held.wait;
      await recordEffect(manager, `restart-${data.n}`);
    });
    const first = await run(durable, [handler], { concurrency: 1 });
    for (let n = 0; n < 6; n++) await publishEnvelope(buildEnvelope(WorkCommand, { n }));
    await waitFor(async () => (await pending(durable)).ackPending >= 2, 'a pulled message');
    const stopping = first.stop();
    held.open();
    await stopping;

    await run(durable, [handler], { concurrency: 1 });
    await waitFor(async () => (await effects('restart-')).length === 6, 'all six handled');
    expect((await effects('restart-')).every((e) => e.times === 1)).toBe(true);
    expect(await deadLetters(durable)).toHaveLength(0);
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

  it('lets go of a message whose handler hangs, so it is redelivered and handled', async () => {
    const durable = await provision(5, 1_000);
    await run(
      durable,
      [
        definePreparedHandler(WorkCommand, {
          // The first delivery's call out (a carrier, a provider) never comes back.
          prepare: (_data, { deliveryCount }) =>
            deliveryCount === 1 ? new Promise<never>(() => undefined) : Promise.resolve(null),
          handle: (data, _prepared, { manager }) => recordEffect(manager, `hung-${data.n}`),
        }),
      ],
      { maxHandlerMs: 1_500 },
    );
    await publishEnvelope(buildEnvelope(WorkCommand, { n: 1 }));
    await waitFor(async () => (await effects('hung-')).length === 1, 'the redelivery handled', {
      timeoutMs: 10_000,
    });
    expect(await effects('hung-')).toEqual([{ key: 'hung-1', times: 1 }]);
    expect(lines.some((line) => String(line.msg).includes('no longer holding its message'))).toBe(
      true,
    );
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
