import { randomUUID } from 'node:crypto';
import {
  afterCommit,
  currentContext,
  enqueueMessage,
  recordAudit,
  runWithContext,
  type Logger,
} from '@shop/service-kit';
import type { EntityManager } from 'typeorm';
import { createOrdersRepository } from '../db/repositories/orders.js';
import { createSagasRepository, type StoredSaga } from '../db/repositories/sagas.js';
import { decide } from '../domain/saga/machine.js';
import type { Decision, SagaContext, SagaEvent, SagaSettings } from '../domain/saga/types.js';
import { sagaTrace } from './trace.js';

/** Another writer changed the saga between our read and our write; the caller retries. */
export class SagaConflictError extends Error {
  override readonly name = 'SagaConflictError';
  constructor(orderId: string) {
    super(`saga of order ${orderId} changed concurrently`);
  }
}

export interface SagaRuntime {
  settings: SagaSettings;
  /** Called after the commit that puts a saga in needs_attention (a metric counts it). */
  onNeedsAttention(orderId: string, error: string | null): void;
  now?: () => Date;
}

/** `now`: the instant to decide at, when the caller already took it (the timer's claim). */
export function sagaContext(runtime: SagaRuntime, now?: Date): SagaContext {
  return {
    now: now ?? runtime.now?.() ?? new Date(),
    newId: randomUUID,
    settings: runtime.settings,
  };
}

export interface ApplyOptions {
  /** The row as a caller already read (and locked) it, to skip the second read. */
  loaded?: StoredSaga;
  /** Who acted (a customer's or staff's request), for the audit row; null for the system. */
  actorId?: string | null;
  /** The instant to decide at; defaults to the runtime's clock. */
  now?: Date;
}

/**
 * Applies one event to one saga inside the caller's transaction: the saga row (version
 * checked), the order's status and summaries with an audit row when the status changes, the
 * timeline, and every outgoing command and event (outbox) commit together or not at all. An
 * ignored event writes nothing and says why. It runs under the order's trace (`sagaTrace`):
 * its messages, log lines and audit row carry the order's correlation id whatever drove it.
 */
export async function applySagaEvent(
  manager: EntityManager,
  orderId: string,
  event: SagaEvent,
  runtime: SagaRuntime,
  logger: Logger,
  options: ApplyOptions = {},
): Promise<Decision> {
  const { loaded } = options;
  // READ COMMITTED: after a lost version race, a fresh read in the same transaction sees the
  // winner's commit, so the event is decided again against it instead of failing the message.
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await applyOnce(manager, orderId, event, runtime, logger, {
        ...options,
        loaded: attempt === 1 ? loaded : undefined,
      });
    } catch (error) {
      if (!(error instanceof SagaConflictError) || loaded || attempt >= MAX_CONFLICT_RETRIES)
        throw error;
      logger.debug(
        { orderId, event: event.type, attempt },
        'saga changed under us; deciding again',
      );
    }
  }
}

const MAX_CONFLICT_RETRIES = 5;

async function applyOnce(
  manager: EntityManager,
  orderId: string,
  event: SagaEvent,
  runtime: SagaRuntime,
  logger: Logger,
  options: ApplyOptions,
): Promise<Decision> {
  const sagas = createSagasRepository(manager);
  const saga = options.loaded ?? (await sagas.load(orderId));
  if (!saga) {
    logger.warn({ orderId, event: event.type }, 'saga event for an unknown order ignored');
    return { outcome: 'ignored', reason: 'unknown order' };
  }
  return runWithContext(sagaTrace(saga), () =>
    decideAndWrite(manager, saga, event, runtime, logger, options),
  );
}

async function decideAndWrite(
  manager: EntityManager,
  saga: StoredSaga,
  event: SagaEvent,
  runtime: SagaRuntime,
  logger: Logger,
  options: ApplyOptions,
): Promise<Decision> {
  const { orderId } = saga;
  const context = sagaContext(runtime, options.now);
  const decision = decide(saga, event, context);
  if (decision.outcome === 'ignored') {
    logger.info(
      { orderId, event: event.type, state: saga.state, reason: decision.reason },
      'saga event ignored',
    );
    return decision;
  }

  if (!(await createSagasRepository(manager).update(orderId, saga.version, decision.saga))) {
    throw new SagaConflictError(orderId);
  }
  const orders = createOrdersRepository(manager);
  const change = await orders.applyPatch(orderId, decision.order);
  if (change && change.before.status !== change.after.status) {
    // One row per status change, in this transaction; the system acts unless a person did.
    await recordAudit(manager, {
      entityType: 'order',
      entityId: orderId,
      action: 'update',
      userId: options.actorId ?? null,
      before: change.before,
      after: change.after,
    });
  }
  await orders.appendTimeline(orderId, context.now, decision.timeline);
  for (const message of decision.messages) {
    await enqueueMessage(manager, message.contract, message.data as never);
  }
  if (decision.needsAttention) {
    // Counted once the saga row says so for good: a rolled-back attempt (a lost race, a
    // failed outbox write) is decided again and must not count twice.
    const { stuckIn, lastError } = decision.saga.data;
    const trace = currentContext();
    afterCommit(manager, () => {
      runtime.onNeedsAttention(orderId, lastError);
      const report = () =>
        logger.error({ orderId, stuckIn, error: lastError }, 'saga needs attention');
      if (trace) runWithContext(trace, report);
      else report();
    });
  }
  logger.debug(
    { orderId, event: event.type, from: saga.state, to: decision.saga.state },
    'saga event applied',
  );
  return decision;
}
