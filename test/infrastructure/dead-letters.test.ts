import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { ProductDeactivated } from '@shop/contracts';
import {
  buildEnvelope,
  connectNats,
  createLogger,
  createNamespace,
  deadLetterSubject,
  ensureDeadLetterStream,
  ensureStream,
  type DeadLetter,
} from '@shop/service-kit';
import { deleteNamespaceStreams, TEST_NATS_URL, testNamespace } from '@shop/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listDeadLetters, replayDeadLetters } from '../../scripts/lib/dead-letters.js';

const prefix = testNamespace('dead_letters');
const namespace = createNamespace(prefix);
let nc: Awaited<ReturnType<typeof connectNats>>;

beforeAll(async () => {
  nc = await connectNats({
    servers: TEST_NATS_URL,
    name: 'dead-letters-test',
    logger: createLogger({ service: 'dead-letters-test', level: 'silent' }),
  });
  const jsm = await jetstreamManager(nc);
  await ensureStream(jsm, namespace, { name: 'INVENTORY', subjects: ['inventory.events.>'] });
  await ensureDeadLetterStream(jsm, namespace);
});

afterAll(async () => {
  await nc?.drain();
  await deleteNamespaceStreams(prefix);
});

/** What the consumer does when it gives up on a message. */
async function deadLetter(
  letter: Pick<DeadLetter, 'envelope' | 'consumer' | 'error'> & { raw?: string },
) {
  const body: DeadLetter = {
    ...letter,
    stream: namespace.stream('INVENTORY'),
    streamSequence: 1,
    subject: namespace.subject(ProductDeactivated.type),
    deliveries: 5,
    deadLetteredAt: new Date().toISOString(),
  };
  await jetstream(nc).publish(
    namespace.subject(deadLetterSubject(letter.consumer)),
    JSON.stringify(body),
  );
}

describe('pnpm dead-letters', () => {
  it('lists what a consumer gave up on, and replays the very same envelope on its subject', async () => {
    const envelope = buildEnvelope(
      ProductDeactivated,
      {
        productId: '11111111-2222-4333-8444-555555555555',
        sku: 'MUG-001',
        deactivatedAt: new Date().toISOString(),
      },
      { correlationId: 'order-story-1' },
    );
    await deadLetter({ envelope, consumer: 'orders-inventory', error: 'db down' });
    await deadLetter({
      envelope: null,
      raw: 'not json',
      consumer: 'payments-inventory',
      error: 'bad',
    });

    const letters = await listDeadLetters(nc, prefix);
    expect(letters.map((stored) => stored.letter.consumer)).toEqual([
      'orders-inventory',
      'payments-inventory',
    ]);
    expect(await listDeadLetters(nc, prefix, 'orders-inventory')).toHaveLength(1);

    const outcomes = await replayDeadLetters(
      nc,
      prefix,
      letters.map((stored) => stored.sequence),
    );
    expect(outcomes.map((outcome) => outcome.replayed)).toEqual([true, false]);

    // The original stream has the envelope again, unchanged: same id (the inboxes of consumers
    // that did handle it skip it), same correlation id (the story goes on).
    const jsm = await jetstreamManager(nc);
    const replayed = await jsm.streams.getMessage(namespace.stream('INVENTORY'), {
      last_by_subj: namespace.subject(ProductDeactivated.type),
    });
    expect(replayed?.json()).toEqual(envelope);
    // Replayed letters leave the dead-letter stream; the unreadable one stays for a person.
    expect((await listDeadLetters(nc, prefix)).map((stored) => stored.letter.consumer)).toEqual([
      'payments-inventory',
    ]);
  });
});
