import type { ConsumerMessages, JetStreamClient, JsMsg } from '@nats-io/jetstream';
import type { Envelope, MessageContract, MessageData } from '@shop/contracts';
import type { Registry } from 'prom-client';
import type { DataSource, EntityManager } from 'typeorm';
import { runWithContext } from '../context.js';
import { withTransaction } from '../db/data-source.js';
import type { Logger } from '../logger.js';
import { computeBackoff, type BackoffPolicy } from './backoff.js';
import { publishDeadLetter } from './dead-letter.js';
import { describeErrors, parseEnvelope } from './envelope.js';
import { messagingMetrics, type MessagingMetrics } from './metrics.js';
import type { Namespace } from './namespace.js';
import { deliveryLimitOf } from './provisioning.js';

export interface MessageHandlerContext {
  /** The transaction the inbox row was written in: write state and enqueue messages with it. */
  manager: EntityManager;
  envelope: Envelope;
  /** 1 on first delivery. */
  deliveryCount: number;
  logger: Logger;
  /** What the handler's `prepare` returned; undefined for a handler without one. */
  prepared?: unknown;
}

/** What `prepare` gets: no transaction, so reads see committed state and hold no locks. */
export interface PrepareContext {
  dataSource: DataSource;
  envelope: Envelope;
  /** 1 on first delivery. */
  deliveryCount: number;
  logger: Logger;
}

export interface MessageHandler<Contract extends MessageContract = MessageContract> {
  contract: Contract;
  /**
   * Optional work before the transaction opens: a slow call to another system (a carrier, a
   * provider) that must not hold row locks and a pooled connection while it waits. Skipped for
   * a message already in the inbox; otherwise it runs on every delivery, including ones whose
   * transaction then fails or finds nothing to do, so it must be idempotent. A throw naks the
   * message like a failing handler. Its result reaches `handle` as `context.prepared`.
   */
  prepare?(data: MessageData<Contract>, context: PrepareContext): Promise<unknown>;
  handle(data: MessageData<Contract>, context: MessageHandlerContext): Promise<void>;
}

/** Pairs a contract with its handler, typing `data` from the contract's schema. */
export function defineHandler<Contract extends MessageContract>(
  contract: Contract,
  handle: (data: MessageData<Contract>, context: MessageHandlerContext) => Promise<void>,
): MessageHandler<Contract> {
  return { contract, handle };
}

/**
 * A handler in two phases: `prepare` outside any transaction (see `MessageHandler.prepare`),
 * then `handle` in the inbox transaction with what `prepare` returned, typed.
 */
export function definePreparedHandler<Contract extends MessageContract, Prepared>(
  contract: Contract,
  phases: {
    prepare(data: MessageData<Contract>, context: PrepareContext): Promise<Prepared>;
    handle(
      data: MessageData<Contract>,
      prepared: Prepared,
      context: MessageHandlerContext,
    ): Promise<void>;
  },
): MessageHandler<Contract> {
  return {
    contract,
    prepare: (data, context) => phases.prepare(data, context),
    handle: (data, context) => phases.handle(data, context.prepared as Prepared, context),
  };
}

export interface ConsumerRunnerSettings {
  js: JetStreamClient;
  dataSource: DataSource;
  namespace: Namespace;
  logger: Logger;
  registry?: Registry;
  /** Bare stream name and durable, as given to `ensureConsumer`. */
  stream: string;
  durable: string;
  // Each handler's type is erased here so handlers of different contracts fit one list.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  handlers: MessageHandler<any>[];
  /** Messages handled at once by this replica. Default 8. */
  concurrency?: number;
  /** Delay of the nak after a failed attempt, by delivery number. Default 1 s doubling to 60 s. */
  retry?: BackoffPolicy;
  /**
   * How long a handler may keep its message to itself. Past this its ack deadline is no longer
   * extended, so a handler that hangs (a promise that never settles) lets the message be
   * redelivered, and in the end dead-lettered, instead of holding it for ever; the inbox keeps
   * the two runs from both taking effect. Also bounds how long `stop()` waits. Default 5 min.
   */
  maxHandlerMs?: number;
}

export interface ConsumerRunner {
  /** Stops pulling, hands back unstarted messages, and waits for in-flight ones. Idempotent. */
  stop(): Promise<void>;
}

const INBOX_INSERT = `
  INSERT INTO inbox (consumer, message_id) VALUES ($1, $2)
  ON CONFLICT DO NOTHING
  RETURNING 1`;

const INBOX_HAS = 'SELECT 1 FROM inbox WHERE consumer = $1 AND message_id = $2';

type Outcome = 'handled' | 'duplicate';

/**
 * Runs handlers for a durable pull consumer, exactly once in effect:
 *
 * - a message that can never succeed (not JSON, bad envelope, unknown version, data failing its
 *   schema) goes straight to the dead-letter stream;
 * - a type with no handler is acked and skipped (the filter subject may cover more types than
 *   this service cares about);
 * - otherwise one transaction inserts (consumer, message id) into the inbox and runs the
 *   handler; a duplicate (row already there) is acked without running it. The ack comes after
 *   commit, so a crash in between only causes a redelivery that the inbox absorbs. A handler's
 *   `prepare`, if any, runs just before that transaction, unless the inbox already has the
 *   message;
 * - a failure naks with exponential delay; a failure on the last allowed delivery dead-letters
 *   the message (logged by id and type, counted, acked);
 * - a message delivered more often than allowed, whose last allowed delivery ended without an
 *   outcome (the process died or stalled past ack wait, it was handed back at shutdown, or its
 *   dead letter could not be published), is dead-lettered before the handler runs again, unless
 *   the inbox shows it was handled (then it is acked as a duplicate). The server redelivers
 *   without limit (see `ensureConsumer`), so no message leaves the consumer without one of
 *   these outcomes; the limit counts deliveries, including ones handed back unstarted.
 */
export async function startConsumer(settings: ConsumerRunnerSettings): Promise<ConsumerRunner> {
  const { js, dataSource, namespace, durable } = settings;
  const concurrency = Math.max(1, settings.concurrency ?? 8);
  const maxHandlerMs = Math.max(1, settings.maxHandlerMs ?? 5 * 60_000);
  const retry = settings.retry ?? { initialMs: 1_000, maxMs: 60_000, jitter: 0.2 };
  const logger = settings.logger.child({ consumer: durable });
  const metrics: MessagingMetrics | undefined = settings.registry
    ? messagingMetrics(settings.registry)
    : undefined;

  const handlers = new Map<string, Map<number, MessageHandler>>();
  for (const handler of settings.handlers as MessageHandler[]) {
    const versions = handlers.get(handler.contract.type) ?? new Map<number, MessageHandler>();
    if (versions.has(handler.contract.version)) {
      throw new Error(
        `${durable}: two handlers for ${handler.contract.type} v${handler.contract.version}`,
      );
    }
    versions.set(handler.contract.version, handler);
    handlers.set(handler.contract.type, versions);
  }

  const stream = namespace.stream(settings.stream);
  const consumer = await js.consumers.get(stream, durable);
  // The consumer's own config is the source of truth for when the last delivery is (so every
  // replica applies the same limit), and for how often to tell the server a long handler is
  // still working.
  const { config } = await consumer.info();
  const { maxDeliver, serverCapped } = deliveryLimitOf(config);
  const ackWaitMs = Math.max(1, (config.ack_wait ?? 30_000_000_000) / 1_000_000);
  if (serverCapped) {
    logger.warn(
      { stream, maxDeliver, serverMaxDeliver: config.max_deliver },
      'consumer has a server-side max_deliver: a message whose last delivery ends without an ' +
        'outcome is dropped by the server instead of dead-lettered; run ensureConsumer to lift it',
    );
  }
  // The last handler error per stream sequence, so a message dead-lettered on a later delivery
  // (its dead letter could not be published at first) still says why. Best effort: only what
  // this replica saw, and bounded.
  const lastErrors = new Map<number, string>();
  const rememberError = (msg: JsMsg, error: string): void => {
    lastErrors.delete(msg.info.streamSequence);
    lastErrors.set(msg.info.streamSequence, error);
    if (lastErrors.size > 1_000) lastErrors.delete(lastErrors.keys().next().value!);
  };

  /** ack/nak/working never throw into the runner (a closed connection would): logged instead. */
  function respond(msg: JsMsg, action: 'ack' | 'nak', delayMs?: number): void {
    try {
      if (action === 'ack') msg.ack();
      else msg.nak(delayMs);
    } catch (error) {
      // Unanswered, the message comes back after ack wait: nothing is lost.
      logger.warn(
        { err: error, streamSequence: msg.info.streamSequence, action },
        'could not answer message; the server will redeliver it',
      );
    }
  }

  let stopping = false;
  const inFlight = new Set<Promise<void>>();
  const messages: ConsumerMessages = await consumer.consume({ max_messages: concurrency });
  void logNotifications(messages, logger);

  async function deadLetter(
    msg: JsMsg,
    envelope: Envelope | null,
    error: string,
    raw?: string,
  ): Promise<void> {
    const type = envelope?.type ?? 'unknown';
    try {
      await publishDeadLetter(js, namespace, msg, {
        envelope,
        ...(raw === undefined ? {} : { raw }),
        error,
        consumer: durable,
      });
    } catch (publishError) {
      // Not acked: the server redelivers it (without limit), and the next delivery, being past
      // the limit or still invalid, comes straight back here.
      rememberError(msg, error);
      logger.error(
        {
          err: publishError,
          messageId: envelope?.id,
          type,
          streamSequence: msg.info.streamSequence,
        },
        'could not publish dead letter; the message will be redelivered and dead-lettered then',
      );
      respond(msg, 'nak', computeBackoff(msg.info.deliveryCount, retry));
      return;
    }
    respond(msg, 'ack');
    lastErrors.delete(msg.info.streamSequence);
    metrics?.deadLettered.inc({ consumer: durable, type });
    logger.error(
      {
        messageId: envelope?.id,
        type,
        version: envelope?.version,
        correlationId: envelope?.correlationId,
        deliveries: msg.info.deliveryCount,
        streamSequence: msg.info.streamSequence,
        error,
      },
      `message ${envelope?.id ?? `#${msg.info.streamSequence}`} (${type}) dead-lettered`,
    );
  }

  async function runHandler(
    handler: MessageHandler,
    envelope: Envelope,
    msg: JsMsg,
  ): Promise<Outcome> {
    const context = { correlationId: envelope.correlationId, causationId: envelope.id };
    // Keeps the server from redelivering to another replica while a slow handler works, but
    // not for ever: a handler still running after maxHandlerMs is taken to hang.
    const giveUpAt = Date.now() + maxHandlerMs;
    const heartbeat = setInterval(
      () => {
        if (Date.now() > giveUpAt) {
          clearInterval(heartbeat);
          logger.error(
            { messageId: envelope.id, type: envelope.type, maxHandlerMs },
            'handler still running; no longer holding its message, which will be redelivered',
          );
          return;
        }
        try {
          msg.working();
        } catch {
          // Connection closed: the message will be redelivered; the ack that follows says so.
        }
      },
      Math.max(100, ackWaitMs / 2),
    );
    try {
      return await runWithContext(context, async (): Promise<Outcome> => {
        const deliveryCount = msg.info.deliveryCount;
        let prepared: unknown;
        if (handler.prepare) {
          // The inbox undoes nothing done outside the transaction: a message already handled
          // (committed, then its ack lost) must not repeat that work. A cheap look, not a
          // guarantee; the insert below still decides.
          const seen = (await dataSource.query(INBOX_HAS, [durable, envelope.id])) as unknown[];
          if (seen.length > 0) return 'duplicate';
          prepared = await handler.prepare(envelope.data, {
            dataSource,
            envelope,
            deliveryCount,
            logger,
          });
        }
        return withTransaction(dataSource, async (manager): Promise<Outcome> => {
          const inserted = (await manager.query(INBOX_INSERT, [durable, envelope.id])) as unknown[];
          if (inserted.length === 0) return 'duplicate';
          await handler.handle(envelope.data, {
            manager,
            envelope,
            deliveryCount,
            logger,
            prepared,
          });
          return 'handled';
        });
      });
    } finally {
      clearInterval(heartbeat);
    }
  }

  async function process(msg: JsMsg): Promise<void> {
    const parsed = parseEnvelope(msg.data);
    if (!parsed.ok) return deadLetter(msg, null, parsed.error, msg.string());
    const envelope = parsed.envelope;
    const { type, version } = envelope;
    if (namespace.strip(msg.subject) !== type) {
      return deadLetter(
        msg,
        envelope,
        `envelope type ${type} does not match subject ${msg.subject}`,
      );
    }
    const versions = handlers.get(type);
    if (!versions) {
      logger.debug({ messageId: envelope.id, type }, 'no handler for message type; skipped');
      respond(msg, 'ack');
      return;
    }
    const handler = versions.get(version);
    if (!handler) {
      return deadLetter(msg, envelope, `${type} v${version} is not a version this consumer reads`);
    }
    if (!handler.contract.validator.Check(envelope.data)) {
      const errors = describeErrors(handler.contract.validator.Errors(envelope.data));
      return deadLetter(msg, envelope, `invalid data for ${type} v${version}: ${errors}`);
    }

    const deliveries = msg.info.deliveryCount;
    if (deliveries > maxDeliver) {
      // Its last allowed delivery ended without an outcome. It may still have committed (and
      // lost only its ack): the inbox knows. A throw here (database down) naks it via the loop.
      const seen = (await dataSource.query(INBOX_HAS, [durable, envelope.id])) as unknown[];
      if (seen.length > 0) {
        respond(msg, 'ack');
        lastErrors.delete(msg.info.streamSequence);
        metrics?.duplicates.inc({ consumer: durable, type });
        logger.debug({ messageId: envelope.id, type }, 'duplicate message skipped');
        return;
      }
      const lastError = lastErrors.get(msg.info.streamSequence);
      return deadLetter(
        msg,
        envelope,
        lastError ??
          `delivered ${deliveries} times, more than the ${maxDeliver} allowed, without being ` +
            'handled: an earlier delivery ended without an outcome (process stopped, ack wait ' +
            'exceeded, or handed back at shutdown)',
      );
    }

    let outcome: Outcome;
    try {
      outcome = await runHandler(handler, envelope, msg);
    } catch (error) {
      metrics?.failed.inc({ consumer: durable, type });
      const message = error instanceof Error ? error.message : String(error);
      if (deliveries >= maxDeliver) {
        return deadLetter(msg, envelope, message);
      }
      const delayMs = computeBackoff(deliveries, retry);
      rememberError(msg, message);
      logger.warn(
        { err: error, messageId: envelope.id, type, deliveries, retryInMs: delayMs },
        'handler failed; message will be redelivered',
      );
      respond(msg, 'nak', delayMs);
      return;
    }
    respond(msg, 'ack');
    lastErrors.delete(msg.info.streamSequence);
    if (outcome === 'duplicate') {
      metrics?.duplicates.inc({ consumer: durable, type });
      logger.debug({ messageId: envelope.id, type }, 'duplicate message skipped');
    } else {
      metrics?.handled.inc({ consumer: durable, type });
    }
  }

  async function loop(): Promise<void> {
    for await (const msg of messages) {
      while (inFlight.size >= concurrency) await Promise.race(inFlight);
      if (stopping) {
        // Pulled but not started: hand it back now rather than after ack_wait. The server
        // redelivers it (to another replica, or after restart); that delivery counts towards
        // the limit, and one past it is dead-lettered, not dropped.
        respond(msg, 'nak');
        continue;
      }
      const work: Promise<void> = process(msg)
        .catch((error: unknown) => {
          // process() handles its own failures; this guards against bugs and a database that
          // is down when the inbox is checked, so the loop survives and the message comes back.
          logger.error({ err: error }, 'unexpected error processing message');
          respond(msg, 'nak', computeBackoff(msg.info.deliveryCount, retry));
        })
        .finally(() => inFlight.delete(work));
      inFlight.add(work);
    }
    // The iterator ends on its own only if the connection closed under us.
    if (!stopping) logger.error('message iterator ended while the consumer was running');
  }

  const running = loop().catch((error: unknown) => {
    if (!stopping) logger.error({ err: error }, 'consumer stopped unexpectedly');
  });
  logger.info({ stream, concurrency, maxDeliver }, 'consumer started');

  let stopped: Promise<void> | undefined;
  return {
    stop() {
      stopped ??= (async () => {
        stopping = true;
        const closed = messages.close();
        await running;
        // A hung handler must not hold the shutdown for ever: its message is redelivered.
        await Promise.race([
          Promise.allSettled([...inFlight]),
          new Promise((resolve) => setTimeout(resolve, maxHandlerMs).unref()),
        ]);
        await closed;
        logger.info('consumer stopped');
      })();
      return stopped;
    },
  };
}

async function logNotifications(messages: ConsumerMessages, logger: Logger): Promise<void> {
  for await (const status of messages.status()) {
    switch (status.type) {
      case 'heartbeats_missed':
      case 'consumer_not_found':
      case 'stream_not_found':
      case 'consumer_deleted':
      case 'no_responders':
      case 'exceeded_limits':
        logger.warn({ status }, 'consumer status');
        break;
      default:
        break;
    }
  }
}
