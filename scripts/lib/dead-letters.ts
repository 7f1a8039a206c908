import { randomUUID } from 'node:crypto';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import {
  createNamespace,
  DEAD_LETTER_STREAM,
  type connectNats,
  type DeadLetter,
} from '@shop/service-kit';

type NatsConnection = Awaited<ReturnType<typeof connectNats>>;

/**
 * The operator's side of the dead-letter stream: what a consumer gave up on, and putting it
 * back. A dead letter was never handled by the consumer that gave up (its inbox row rolled
 * back with the failure), so replaying the original envelope on its subject runs that
 * consumer's handler again; every other consumer of the subject has the envelope's id in its
 * inbox already and skips it. Nothing is changed in the envelope: same id, same data, same
 * correlation id, so the replay is one more delivery of the same message, not a new one.
 */

export interface StoredDeadLetter {
  /** Position in the dead-letter stream: what `replay` takes. */
  sequence: number;
  letter: DeadLetter;
}

function deadLetterStream(namespacePrefix: string): string {
  return createNamespace(namespacePrefix).stream(DEAD_LETTER_STREAM);
}

/** Every dead letter still in the stream, oldest first; `consumer` narrows to one durable. */
export async function listDeadLetters(
  nc: NatsConnection,
  namespacePrefix: string,
  consumer?: string,
): Promise<StoredDeadLetter[]> {
  const jsm = await jetstreamManager(nc);
  const stream = deadLetterStream(namespacePrefix);
  const info = await jsm.streams.info(stream);
  const found: StoredDeadLetter[] = [];
  for (let sequence = info.state.first_seq; sequence <= info.state.last_seq; sequence += 1) {
    // Gaps are letters already replayed (deleted), or trimmed by the stream's limits.
    const message = await jsm.streams.getMessage(stream, { seq: sequence }).catch(() => null);
    if (!message) continue;
    const letter = message.json<DeadLetter>();
    if (consumer === undefined || letter.consumer === consumer) found.push({ sequence, letter });
  }
  return found;
}

export type ReplayOutcome =
  | { sequence: number; replayed: true; subject: string }
  | { sequence: number; replayed: false; reason: string };

/**
 * Publishes each letter's envelope again on the subject it first arrived on, then removes the
 * letter from the dead-letter stream. A letter whose payload was not an envelope cannot be
 * replayed (there is nothing a handler could read); it stays for a person to look at.
 */
export async function replayDeadLetters(
  nc: NatsConnection,
  namespacePrefix: string,
  sequences: readonly number[],
): Promise<ReplayOutcome[]> {
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  const stream = deadLetterStream(namespacePrefix);
  const outcomes: ReplayOutcome[] = [];
  for (const sequence of sequences) {
    const message = await jsm.streams.getMessage(stream, { seq: sequence }).catch(() => null);
    if (!message) {
      outcomes.push({ sequence, replayed: false, reason: 'no such dead letter' });
      continue;
    }
    const letter = message.json<DeadLetter>();
    if (!letter.envelope) {
      outcomes.push({ sequence, replayed: false, reason: 'payload was not an envelope' });
      continue;
    }
    // A fresh msgID: the envelope's own id may still be inside JetStream's duplicate window,
    // which would drop the replay. The inboxes dedupe by the envelope id, not by this.
    await js.publish(letter.subject, JSON.stringify(letter.envelope), {
      msgID: `replay:${letter.envelope.id}:${randomUUID()}`,
    });
    await jsm.streams.deleteMessage(stream, sequence);
    outcomes.push({ sequence, replayed: true, subject: letter.subject });
  }
  return outcomes;
}
