import {
  jetstreamManager,
  AckPolicy,
  DeliverPolicy,
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectNats,
  createNamespace,
  deliveryLimitOf,
  ensureConsumer,
  ensureDeadLetterStream,
  ensureStream,
  type Namespace,
} from '../../src/messaging/index.js';
import { testNamespace } from '../../src/testing/nats.js';
import { captureLogger, deleteStreams, NATS_URL } from './helpers.js';

const { logger } = captureLogger('warn');
let nc: NatsConnection;
let jsm: JetStreamManager;
let ns: Namespace;

beforeAll(async () => {
  ns = createNamespace(testNamespace('provisioning'));
  nc = await connectNats({ servers: NATS_URL, name: 'provisioning-test', logger });
  jsm = await jetstreamManager(nc);
});

afterAll(async () => {
  await deleteStreams(nc, ns.prefix);
  await nc.drain();
});

describe('provisioning', () => {
  it('creates a namespaced limits stream and updates it on the next start', async () => {
    const spec = { name: 'ORDERS', subjects: ['orders.events.>', 'orders.commands.>'] };
    await Promise.all([ensureStream(jsm, ns, spec), ensureStream(jsm, ns, spec)]);
    const created = await jsm.streams.info(ns.stream('ORDERS'));
    expect(created.config).toMatchObject({
      name: `${ns.prefix}_ORDERS`,
      subjects: [`${ns.prefix}.orders.events.>`, `${ns.prefix}.orders.commands.>`],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      max_age: nanos(7 * 24 * 3600 * 1000),
      duplicate_window: nanos(120_000),
    });

    await ensureStream(jsm, ns, { ...spec, maxAgeMs: 3_600_000, duplicateWindowMs: 60_000 });
    const updated = await jsm.streams.info(ns.stream('ORDERS'));
    expect(updated.config.max_age).toBe(nanos(3_600_000));
    expect(updated.config.duplicate_window).toBe(nanos(60_000));
  });

  it('creates a durable pull consumer once for many replicas and updates its limits', async () => {
    await ensureStream(jsm, ns, { name: 'INVENTORY', subjects: ['inventory.>'] });
    const spec = {
      stream: 'INVENTORY',
      durable: 'orders-inventory-events',
      filterSubject: 'inventory.events.>',
      ackWaitMs: 10_000,
      maxDeliver: 4,
    };
    const results = await Promise.all([
      ensureConsumer(jsm, ns, spec),
      ensureConsumer(jsm, ns, spec),
    ]);
    expect(results[0]).toEqual({
      stream: `${ns.prefix}_INVENTORY`,
      durable: 'orders-inventory-events',
      maxDeliver: 4,
    });
    const info = await jsm.consumers.info(ns.stream('INVENTORY'), spec.durable);
    expect(info.config).toMatchObject({
      durable_name: spec.durable,
      filter_subject: `${ns.prefix}.inventory.events.>`,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(10_000),
      // The server redelivers without limit; the runner's limit travels in the description.
      max_deliver: -1,
    });
    expect(deliveryLimitOf(info.config)).toEqual({ maxDeliver: 4, serverCapped: false });
    expect(info.config.deliver_subject).toBeUndefined(); // pull, not push

    await ensureConsumer(jsm, ns, { ...spec, maxDeliver: 6, ackWaitMs: 20_000 });
    const updated = await jsm.consumers.info(ns.stream('INVENTORY'), spec.durable);
    expect(updated.config).toMatchObject({ max_deliver: -1, ack_wait: nanos(20_000) });
    expect(deliveryLimitOf(updated.config)).toEqual({ maxDeliver: 6, serverCapped: false });
    let count = 0;
    for await (const _ of jsm.consumers.list(ns.stream('INVENTORY'))) count++;
    expect(count).toBe(1);
  });

  it('lifts the server-side delivery limit of a consumer an earlier version created', async () => {
    await ensureStream(jsm, ns, { name: 'PAYMENTS', subjects: ['payments.>'] });
    // As the previous version provisioned it: the server itself stopped after max_deliver.
    await jsm.consumers.add(ns.stream('PAYMENTS'), {
      durable_name: 'legacy',
      filter_subject: `${ns.prefix}.payments.commands.>`,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      max_deliver: 10,
    });
    const before = await jsm.consumers.info(ns.stream('PAYMENTS'), 'legacy');
    // A runner started before the update still applies that limit (and warns about it).
    expect(deliveryLimitOf(before.config)).toEqual({ maxDeliver: 10, serverCapped: true });

    await ensureConsumer(jsm, ns, {
      stream: 'PAYMENTS',
      durable: 'legacy',
      filterSubject: 'payments.commands.>',
      maxDeliver: 10,
    });
    const after = await jsm.consumers.info(ns.stream('PAYMENTS'), 'legacy');
    expect(after.config.max_deliver).toBe(-1);
    expect(deliveryLimitOf(after.config)).toEqual({ maxDeliver: 10, serverCapped: false });
    expect(after.created).toBe(before.created); // updated in place, not re-created
  });

  it('creates the dead-letter stream on <ns>.dlq.>', async () => {
    await ensureDeadLetterStream(jsm, ns);
    await ensureDeadLetterStream(jsm, ns);
    const info = await jsm.streams.info(ns.stream('DEAD_LETTERS'));
    expect(info.config.subjects).toEqual([`${ns.prefix}.dlq.>`]);
  });

  it('refuses a consumer without a finite max deliver', async () => {
    await expect(
      ensureConsumer(jsm, ns, {
        stream: 'INVENTORY',
        durable: 'bad',
        filterSubject: 'inventory.>',
        maxDeliver: -1,
      }),
    ).rejects.toThrow(/maxDeliver/);
  });
});
