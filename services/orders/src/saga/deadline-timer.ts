import { runWithContext, withTransaction, type Logger } from '@shop/service-kit';
import type { DataSource } from 'typeorm';
import { createSagasRepository, type StoredSaga } from '../db/repositories/sagas.js';
import { applySagaEvent, sagaContext, type SagaRuntime } from './runtime.js';
import { deadlineCause, sagaTrace } from './trace.js';

export interface DeadlineTimer {
  /** Serves every due saga once; what the interval calls. Exposed for tests. */
  tick(): Promise<number>;
  stop(): Promise<void>;
}

/** Sagas served (or postponed) per tick at most, so one tick never monopolises the pool. */
const MAX_PER_TICK = 100;

/**
 * A saga whose deadline handling threw is postponed by this delay, doubled with each failure
 * in a row up to the maximum: long enough that a saga failing for good costs a log line and
 * a rollback every few minutes, short enough that a passing fault delays a step by seconds.
 */
export const DEADLINE_POSTPONE = { baseMs: 5_000, maxMs: 10 * 60_000 };

type Served = 'served' | 'postponed' | 'none';

/**
 * Feeds `deadline_reached` to sagas whose deadline passed. Each saga is claimed in its own
 * transaction with FOR UPDATE SKIP LOCKED and the event applied while the row is locked, so
 * replicas running this side by side never serve the same saga twice and a slow one never
 * blocks the others. The claim compares deadlines with the clock the machine decides with,
 * and a tick serves each saga at most once, so nothing is claimed over and over in one tick.
 *
 * A saga whose handling throws is rolled back and then, in a transaction of its own,
 * postponed with a growing delay (logged with its order id, counted by `onPostponed`); the
 * tick goes on with the others, so one saga that keeps failing cannot hold up every later
 * deadline. Only a failure before any saga was claimed (the database itself) ends the tick.
 *
 * Each step runs under the order's trace with a marker of the deadline as its cause, so what
 * it sends and logs carries the order's correlation id.
 */
export function startDeadlineTimer(settings: {
  dataSource: DataSource;
  runtime: SagaRuntime;
  logger: Logger;
  intervalMs: number;
  /** Called after a saga's deadline was postponed because handling it threw (a metric). */
  onPostponed?: (orderId: string) => void;
  /** Overrides DEADLINE_POSTPONE (tests). */
  postpone?: { baseMs: number; maxMs: number };
}): DeadlineTimer {
  const { dataSource, runtime } = settings;
  const logger = settings.logger.child({ component: 'saga-deadlines' });
  const delay = settings.postpone ?? DEADLINE_POSTPONE;
  let running: Promise<number> | null = null;
  let stopped = false;

  async function serveOne(served: string[]): Promise<Served> {
    // The claim and the decision use one instant of one clock: what is claimed is due.
    const now = sagaContext(runtime).now;
    const claim: { saga?: StoredSaga } = {};
    try {
      return await withTransaction(dataSource, async (manager) => {
        const saga = await createSagasRepository(manager).claimDue(now, served);
        if (!saga) return 'none';
        claim.saga = saga;
        await runWithContext(sagaTrace(saga, deadlineCause(saga.orderId, saga.deadlineAt)), () =>
          applySagaEvent(manager, saga.orderId, { type: 'deadline_reached' }, runtime, logger, {
            loaded: saga,
            now,
          }),
        );
        return 'served';
      });
    } catch (error) {
      const saga = claim.saga;
      if (!saga) throw error;
      await runWithContext(sagaTrace(saga, deadlineCause(saga.orderId, saga.deadlineAt)), () =>
        postpone(saga, now, error),
      );
      return 'postponed';
    } finally {
      if (claim.saga) served.push(claim.saga.orderId);
    }
  }

  /** After the rollback: the failing saga alone waits longer; a failure here is only logged. */
  async function postpone(saga: StoredSaga, now: Date, error: unknown): Promise<void> {
    const { orderId } = saga;
    try {
      const postponed = await withTransaction(dataSource, (manager) =>
        createSagasRepository(manager).postponeDeadline(orderId, saga.version, now, delay),
      );
      if (!postponed) {
        // Someone wrote the saga since the claim: its deadline is theirs now.
        logger.warn({ err: error, orderId }, 'saga deadline failed; the saga changed since');
        return;
      }
      settings.onPostponed?.(orderId);
      logger.error(
        {
          err: error,
          orderId,
          state: saga.state,
          failures: postponed.failures,
          retryAt: postponed.deadlineAt.toISOString(),
        },
        'saga deadline failed; saga postponed, other deadlines go on',
      );
    } catch (postponeError) {
      logger.error(
        { err: postponeError, deadlineError: String(error), orderId },
        'saga deadline failed and could not be postponed; tried again next tick',
      );
    }
  }

  async function tick(): Promise<number> {
    const served: string[] = [];
    let done = 0;
    while (!stopped && served.length < MAX_PER_TICK) {
      try {
        const outcome = await serveOne(served);
        if (outcome === 'none') break;
        if (outcome === 'served') done += 1;
      } catch (error) {
        logger.error({ err: error }, 'claiming due sagas failed; tried again next tick');
        break;
      }
    }
    return done;
  }

  function runTick(): Promise<number> {
    // One tick at a time per replica; a slow tick makes the next one wait, not pile up.
    running ??= tick().finally(() => {
      running = null;
    });
    return running;
  }

  const timer = setInterval(() => void runTick(), settings.intervalMs);
  timer.unref();

  return {
    tick: runTick,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
