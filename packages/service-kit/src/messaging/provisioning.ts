import { nanos } from '@nats-io/nats-core';
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  ReplayPolicy,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import { DEAD_LETTER_STREAM, DEAD_LETTER_SUBJECT_ROOT, type Namespace } from './namespace.js';

// Everything here is create-or-update and safe to run at every start of every replica, so a
// deployment never needs a separate "set up NATS" step and config changes roll out with code.
// Only features of NATS 2.9 are used (one filter subject per consumer, no metadata).

const DAY_MS = 24 * 60 * 60 * 1000;

/** How long a stream keeps messages unless its spec says otherwise: 7 days. */
export const DEFAULT_STREAM_MAX_AGE_MS = 7 * DAY_MS;
/** How long the dead-letter stream keeps dead letters unless told otherwise: 30 days. */
export const DEFAULT_DEAD_LETTER_MAX_AGE_MS = 30 * DAY_MS;

export interface StreamSpec {
  /** Bare stream name, e.g. `INVENTORY`; the namespace prefix is added here. */
  name: string;
  /** Bare subjects the owning service publishes to, e.g. `['inventory.events.>', 'inventory.commands.>']`. */
  subjects: string[];
  /**
   * How long messages stay. Limits retention, not work-queue: several services read the same
   * events, each through its own durable consumer. Default 7 days.
   */
  maxAgeMs?: number;
  /**
   * Window within which a re-published `msgID` is dropped as a duplicate: covers a relay that
   * crashed after publishing but before marking the row sent. Default 2 minutes.
   */
  duplicateWindowMs?: number;
}

export async function ensureStream(
  jsm: JetStreamManager,
  namespace: Namespace,
  spec: StreamSpec,
): Promise<void> {
  const maxAgeMs = spec.maxAgeMs ?? DEFAULT_STREAM_MAX_AGE_MS;
  const config = {
    name: namespace.stream(spec.name),
    subjects: spec.subjects.map((subject) => namespace.subject(subject)),
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: nanos(maxAgeMs),
    // The server refuses a duplicate window longer than max age.
    duplicate_window: nanos(Math.min(spec.duplicateWindowMs ?? 2 * 60_000, maxAgeMs)),
    num_replicas: 1,
  } satisfies Partial<StreamConfig> & { name: string };

  if (await streamExists(jsm, config.name)) {
    await jsm.streams.update(config.name, config);
    return;
  }
  try {
    await jsm.streams.add(config);
  } catch (error) {
    // Another replica created it between our check and our add: fall back to update.
    if (!(await streamExists(jsm, config.name))) throw error;
    await jsm.streams.update(config.name, config);
  }
}

/** The shared stream that failed messages land in: `<ns>_DEAD_LETTERS` on `<ns>.dlq.>`. */
export function ensureDeadLetterStream(
  jsm: JetStreamManager,
  namespace: Namespace,
  options: { maxAgeMs?: number } = {},
): Promise<void> {
  return ensureStream(jsm, namespace, {
    name: DEAD_LETTER_STREAM,
    subjects: [`${DEAD_LETTER_SUBJECT_ROOT}.>`],
    maxAgeMs: options.maxAgeMs ?? DEFAULT_DEAD_LETTER_MAX_AGE_MS,
  });
}

export interface ConsumerSpec {
  /** Bare stream name the consumer reads (namespace added here). */
  stream: string;
  /** Durable name, shared by all replicas of the reading service, e.g. `orders-inventory-events`. */
  durable: string;
  /** One bare filter subject (NATS 2.9 has no multi-filter), e.g. `inventory.events.>`. */
  filterSubject: string;
  /**
   * How long a delivered message may stay unacknowledged before the server redelivers it
   * (covers a replica that died mid-handler). The runner extends it while a handler works.
   * Default 30 s.
   */
  ackWaitMs?: number;
  /**
   * Deliveries after which the runner dead-letters a message. Default 5. Counted by the runner,
   * not the server: the server redelivers without limit (see `ensureConsumer`).
   */
  maxDeliver?: number;
  /** Messages delivered but not yet acked, across all replicas. Default 1000. */
  maxAckPending?: number;
}

export interface ResolvedConsumer {
  stream: string;
  durable: string;
  /** The runner's delivery limit (the server's own `max_deliver` is unlimited). */
  maxDeliver: number;
}

/** Deliveries before dead-lettering when a spec names none. */
export const DEFAULT_MAX_DELIVER = 5;

// NATS 2.9 consumers have no metadata, so the runner's limit travels in the description, which
// the server stores and hands back with the consumer's info: every replica's runner reads the
// same limit from the server, whichever version provisioned it last.
const DELIVERY_LIMIT = /^dead-letter after (\d+) deliveries\b/;

function describeDeliveryLimit(maxDeliver: number): string {
  return `dead-letter after ${maxDeliver} deliveries (counted by the service's runner; the server redelivers without limit)`;
}

/**
 * The delivery limit a runner applies to a consumer: the one `ensureConsumer` recorded, else
 * (a consumer provisioned by an older version, not yet updated) its server-side `max_deliver`,
 * else the default. `serverCapped` says the server itself stops redelivering at or before that
 * limit, so a message whose last delivery ends without an outcome can leave unseen.
 */
export function deliveryLimitOf(config: Pick<ConsumerConfig, 'description' | 'max_deliver'>): {
  maxDeliver: number;
  serverCapped: boolean;
} {
  const serverLimit =
    config.max_deliver !== undefined && config.max_deliver > 0 ? config.max_deliver : undefined;
  const recorded = DELIVERY_LIMIT.exec(config.description ?? '')?.[1];
  const maxDeliver = recorded ? Number(recorded) : (serverLimit ?? DEFAULT_MAX_DELIVER);
  return { maxDeliver, serverCapped: serverLimit !== undefined && serverLimit <= maxDeliver };
}

export async function ensureConsumer(
  jsm: JetStreamManager,
  namespace: Namespace,
  spec: ConsumerSpec,
): Promise<ResolvedConsumer> {
  const stream = namespace.stream(spec.stream);
  const ackWaitMs = spec.ackWaitMs ?? 30_000;
  const maxDeliver = spec.maxDeliver ?? DEFAULT_MAX_DELIVER;
  if (!Number.isInteger(maxDeliver) || maxDeliver < 1) {
    throw new Error(`consumer ${spec.durable}: maxDeliver must be a positive integer`);
  }
  const updatable = {
    description: describeDeliveryLimit(maxDeliver),
    ack_wait: nanos(ackWaitMs),
    // Unlimited on the server; the runner dead-letters past `maxDeliver`. With a server-side
    // limit, a message whose last delivery ends without an ack or nak (process killed, ack wait
    // run out, handed back at shutdown, dead letter not published) is never delivered again and
    // never dead-lettered: it leaves the consumer silently. Uncapped, it comes back, and the
    // runner dead-letters it before running the handler again. NATS 2.9 accepts this change on
    // an existing consumer (update, no re-creation), so deployments pick it up at the next start.
    max_deliver: -1,
    max_ack_pending: spec.maxAckPending ?? 1000,
    // Retry backoff is not set here but carried by each nak (the runner computes it). On NATS
    // 2.9 a consumer-level `backoff` list also shifts delayed naks by (backoff[n] - ack_wait),
    // so a failing message would wait far longer than asked; one mechanism keeps delays exact.
    backoff: [],
  } satisfies Partial<ConsumerConfig>;
  const config = {
    ...updatable,
    durable_name: spec.durable,
    filter_subject: namespace.subject(spec.filterSubject),
    ack_policy: AckPolicy.Explicit,
    // All: a consumer created after messages were published still gets them.
    deliver_policy: DeliverPolicy.All,
    replay_policy: ReplayPolicy.Instant,
  } satisfies Partial<ConsumerConfig>;

  if (await consumerExists(jsm, stream, spec.durable)) {
    await jsm.consumers.update(stream, spec.durable, {
      ...updatable,
      filter_subject: config.filter_subject,
    });
  } else {
    // Two replicas creating the same durable with the same config both succeed.
    await jsm.consumers.add(stream, config);
  }
  return { stream, durable: spec.durable, maxDeliver };
}

async function streamExists(jsm: JetStreamManager, name: string): Promise<boolean> {
  try {
    await jsm.streams.info(name);
    return true;
  } catch (error) {
    if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound) {
      return false;
    }
    throw error;
  }
}

async function consumerExists(
  jsm: JetStreamManager,
  stream: string,
  durable: string,
): Promise<boolean> {
  try {
    await jsm.consumers.info(stream, durable);
    return true;
  } catch (error) {
    if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.ConsumerNotFound) {
      return false;
    }
    throw error;
  }
}
