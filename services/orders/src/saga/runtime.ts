import { randomUUID } from 'node:crypto';
import { afterCommit, enqueueMessage, type Logger } from '@shop/service-kit';
import type { EntityManager } from 'typeorm';
import { createOrdersRepository } from '../db/repositories/orders.js';
import { createSagasRepository, type StoredSaga } from '../db/repositories/sagas.js';
import { decide } from '../domain/saga/machine.js';
import type { Decision, SagaContext, SagaEvent, SagaSettings } from '../domain/saga/types.js';

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

export function sagaContext(runtime: SagaRuntime): SagaContext {
  return { now: runtime.now?.() ?? new Date(), newId: randomUUID, settings: runtime.settings };
}

/**
 * Applies one event to one saga inside the caller's transaction: the saga row (version
 * checked), the order's status and summaries, the timeline, and every outgoing command and
 * event (outbox) commit together or not at all. An ignored event writes nothing and says why.
 * `loaded` lets a caller that already read (and locked) the row skip the second read.
 */
export async function applySagaEvent(
  manager: EntityManager,
  orderId: string,
  event: SagaEvent,
  runtime: SagaRuntime,
  logger: Logger,
  loaded?: StoredSaga,
): Promise<Decision> {
  // READ COMMITTED: after a lost version race, a fresh read in the same transaction sees the
  // winner's commit, so the event is decided again against it instead of failing the message.
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await applyOnce(
        manager,
        orderId,
        event,
        runtime,
        logger,
        attempt === 1 ? loaded : undefined,
      );
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
  loaded: StoredSaga | undefined,
): Promise<Decision> {
  const sagas = createSagasRepository(manager);
  const saga = loaded ?? (await sagas.load(orderId));
  if (!saga) {
    logger.warn({ orderId, event: event.type }, 'saga event for an unknown order ignored');
    return { outcome: 'ignored', reason: 'unknown order' };
  }
  const context = sagaContext(runtime);
  const decision = decide(saga, event, context);
  if (decision.outcome === 'ignored') {
    logger.info(
      { orderId, event: event.type, state: saga.state, reason: decision.reason },
      'saga event ignored',
    );
    return decision;
  }

  if (!(await sagas.update(orderId, saga.version, decision.saga))) {
    throw new SagaConflictError(orderId);
  }
  const orders = createOrdersRepository(manager);
  await orders.applyPatch(orderId, decision.order);
  await orders.appendTimeline(orderId, context.now, decision.timeline);
  for (const message of decision.messages) {
    await enqueueMessage(manager, message.contract, message.data as never);
  }
  if (decision.needsAttention) {
    // Counted once the saga row says so for good: a rolled-back attempt (a lost race, a
    // failed outbox write) is decided again and must not count twice.
    const { stuckIn, lastError } = decision.saga.data;
    afterCommit(manager, () => {
      runtime.onNeedsAttention(orderId, lastError);
      logger.error({ orderId, stuckIn, error: lastError }, 'saga needs attention');
    });
  }
  logger.debug(
    { orderId, event: event.type, from: saga.state, to: decision.saga.state },
    'saga event applied',
  );
  return decision;
}
