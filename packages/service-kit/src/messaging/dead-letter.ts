import type { JetStreamClient, JsMsg } from '@nats-io/jetstream';
import type { Envelope } from '@shop/contracts';
import { sleep } from './backoff.js';
import { DEAD_LETTER_SUBJECT_ROOT, type Namespace } from './namespace.js';

/** What lands in the dead-letter stream: enough to understand and replay the message. */
export interface DeadLetter {
  /** The original envelope, or null when the payload was not a valid envelope. */
  envelope: Envelope | null;
  /** The raw payload, only when it could not be parsed as an envelope. */
  raw?: string;
  error: string;
  consumer: string;
  stream: string;
  streamSequence: number;
  /** Wire subject the message arrived on. */
  subject: string;
  deliveries: number;
  deadLetteredAt: string;
}

/** Bare dead-letter subject of a consumer: `dlq.<durable>`. */
export function deadLetterSubject(durable: string): string {
  return `${DEAD_LETTER_SUBJECT_ROOT}.${durable}`;
}

/**
 * Publishes a dead letter, retrying briefly so a blip costs no redelivery round trip. If it
 * still fails, the runner naks the message and dead-letters it on its next delivery (the server
 * redelivers without limit). msgID is the consumer plus the original stream position, so a
 * retry, or a redelivery dead-lettered again after a lost PubAck, is stored once (within the
 * dead-letter stream's duplicate window, 2 minutes, longer than the runner's longest nak delay).
 */
export async function publishDeadLetter(
  js: JetStreamClient,
  namespace: Namespace,
  msg: JsMsg,
  letter: Omit<
    DeadLetter,
    'stream' | 'streamSequence' | 'subject' | 'deliveries' | 'deadLetteredAt'
  >,
): Promise<void> {
  const body: DeadLetter = {
    ...letter,
    stream: msg.info.stream,
    streamSequence: msg.info.streamSequence,
    subject: msg.subject,
    deliveries: msg.info.deliveryCount,
    deadLetteredAt: new Date().toISOString(),
  };
  const msgID = `${letter.consumer}:${msg.info.stream}:${msg.info.streamSequence}`;
  const subject = namespace.subject(deadLetterSubject(letter.consumer));
  for (let attempt = 1; ; attempt++) {
    try {
      await js.publish(subject, JSON.stringify(body), { msgID });
      return;
    } catch (error) {
      if (attempt >= 3) throw error;
      await sleep(200 * attempt);
    }
  }
}
