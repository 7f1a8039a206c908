import { withTransaction, type Logger } from '@shop/service-kit';
import type { DataSource } from 'typeorm';
import { createSagasRepository } from '../db/repositories/sagas.js';
import { applySagaEvent, type SagaRuntime } from './runtime.js';

export interface DeadlineTimer {
  /** Serves every due saga once; what the interval calls. Exposed for tests. */
  tick(): Promise<number>;
  stop(): Promise<void>;
}

/** Sagas served per tick at most, so one tick never monopolises the pool. */
const MAX_PER_TICK = 100;

/**
 * Feeds `deadline_reached` to sagas whose deadline passed. Each saga is claimed in its own
 * transaction with FOR UPDATE SKIP LOCKED and the event applied while the row is locked, so
 * replicas running this side by side never serve the same saga twice and a slow one never
 * blocks the others. A failure rolls that saga back; it stays due and is tried next tick.
 */
export function startDeadlineTimer(settings: {
  dataSource: DataSource;
  runtime: SagaRuntime;
  logger: Logger;
  intervalMs: number;
}): DeadlineTimer {
  const logger = settings.logger.child({ component: 'saga-deadlines' });
  let running: Promise<number> | null = null;
  let stopped = false;

  async function serveOne(): Promise<boolean> {
    return withTransaction(settings.dataSource, async (manager) => {
      const saga = await createSagasRepository(manager).claimDue();
      if (!saga) return false;
      await applySagaEvent(
        manager,
        saga.orderId,
        { type: 'deadline_reached' },
        settings.runtime,
        logger,
        saga,
      );
      return true;
    });
  }

  async function tick(): Promise<number> {
    let served = 0;
    while (!stopped && served < MAX_PER_TICK) {
      try {
        if (!(await serveOne())) break;
        served += 1;
      } catch (error) {
        logger.error({ err: error }, 'saga deadline failed; retried next tick');
        break;
      }
    }
    return served;
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
