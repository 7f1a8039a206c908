import { randomUUID } from 'node:crypto';
import { ReservationExpired } from '@shop/contracts';
import { runWithContext, type Logger, type TraceContext } from '@shop/service-kit';
import type { DataSource, EntityManager } from 'typeorm';
import { outcomesRepository } from '../db/repositories/outcomes.js';
import { reservationsRepository, type ExpiredOrder } from '../db/repositories/reservations.js';
import { stockRepository } from '../db/repositories/stock.js';
import { announceStockChange } from '../messaging/events.js';
import { answer } from '../messaging/replies.js';

export interface SweeperSettings {
  dataSource: DataSource;
  logger: Logger;
  intervalMs: number;
  /** Orders expired per sweep at most, so one sweep never runs for long. */
  batchSize?: number;
}

type SweepStep = 'expired' | 'busy' | 'none';

/**
 * Gives back stock that no saga shipped or released within the TTL, with a ReservationExpired
 * event, so a lost order can never hold stock forever. One order per transaction: its oldest
 * expired row is claimed with FOR UPDATE SKIP LOCKED (two replicas never take the same one),
 * then the order's lock is tried without waiting, so a saga command in flight for the order
 * wins and the sweeper moves on instead of blocking or deadlocking with it.
 *
 * No message causes an expiry, so its messages (and log lines) take the trace of the reserve
 * command that took the stock: the order's correlation id, and that command as their cause.
 */
export function startReservationSweeper(settings: SweeperSettings) {
  const { dataSource, logger, intervalMs } = settings;
  const batchSize = settings.batchSize ?? 100;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<number> | undefined;
  let stopped = false;

  async function expireOrder(manager: EntityManager, orderId: string): Promise<void> {
    const released = await reservationsRepository(manager).release(orderId, 'expired', true);
    if (released.length === 0) return;
    const stock = stockRepository(manager);
    for (const line of released) {
      const levels = await stock.unreserve(line.productId, line.quantity);
      await announceStockChange(manager, levels, 'expiry', orderId);
    }
    const reservedAt = Math.min(...released.map((line) => line.reservedAt.getTime()));
    await answer(manager, orderId, 'expire', ReservationExpired, {
      orderId,
      items: released.map(({ productId, quantity }) => ({ productId, quantity })),
      reservedAt: new Date(reservedAt).toISOString(),
      expiredAt: new Date().toISOString(),
    });
    logger.info({ orderId, items: released.length }, 'reservation expired; stock released');
  }

  function sweepStep(busy: string[]): Promise<SweepStep> {
    return dataSource.transaction(async (manager): Promise<SweepStep> => {
      const claimed = await reservationsRepository(manager).claimExpiredOrder(busy);
      if (!claimed) return 'none';
      if (!(await outcomesRepository(manager).tryLockOrder(claimed.orderId))) {
        busy.push(claimed.orderId);
        return 'busy';
      }
      await runWithContext(expiryTrace(claimed), () => expireOrder(manager, claimed.orderId));
      return 'expired';
    });
  }

  /** One pass; returns how many orders it expired. */
  async function sweepOnce(): Promise<number> {
    const busy: string[] = [];
    let expired = 0;
    for (let step = 0; step < batchSize && !stopped; step += 1) {
      const outcome = await sweepStep(busy);
      if (outcome === 'none') break;
      if (outcome === 'expired') expired += 1;
    }
    return expired;
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      current = sweepOnce()
        .catch((error: unknown) => {
          logger.error({ err: error }, 'reservation sweep failed; trying again next interval');
          return 0;
        })
        .finally(schedule);
    }, intervalMs);
    timer.unref();
  }

  schedule();
  return {
    sweepOnce,
    /** Stops the timer and waits for a sweep in progress. */
    async stop(): Promise<void> {
      stopped = true;
      if (timer) clearTimeout(timer);
      await current;
    },
  };
}

/**
 * The trace an expiry runs under. Rows reserved before the trace was kept have none: their
 * expiry gets a correlation id of its own, so at least its messages stay together.
 */
function expiryTrace(claimed: ExpiredOrder): TraceContext {
  return {
    correlationId: claimed.correlationId ?? randomUUID(),
    ...(claimed.causationId ? { causationId: claimed.causationId } : {}),
  };
}
