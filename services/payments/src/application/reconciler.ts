import type { Logger } from '@shop/service-kit';
import type { DataSource } from 'typeorm';
import { paymentsRepository } from '../db/repositories/payments.js';
import { refundsRepository } from '../db/repositories/refunds.js';
import type { GuardedProvider } from '../payment-provider/index.js';
import { recordChargeOutcome } from './record-charge.js';
import { executeRefund, requestRefund } from './refunds.js';
import { settleCharge } from './settle-charge.js';

export interface ReconcilerSettings {
  dataSource: DataSource;
  provider: GuardedProvider;
  logger: Logger;
  intervalMs: number;
  /** Only rows left alone this long are the reconciler's: younger ones have a live handler. */
  afterMs: number;
  batchSize?: number;
}

export interface ReconcileReport {
  settled: number;
  refundsRequested: number;
  refundsRetried: number;
}

/**
 * Money the provider holds that payments has not accounted for, settled in the background:
 * 1. attempts stuck pending (a handler crashed after charging, or its command ran out of
 *    deliveries): asked by key, never charged twice (where the provider's lookup cannot prove
 *    "never charged", the create is repeated under the same key: see settleCharge); recorded,
 *    replied, and refunded at once when the order no longer wants the money;
 * 2. kept charges of cancelled orders with no live refund (none yet, or only refused ones),
 *    and unwanted charges whose own refund the provider refused: a new refund is opened;
 * 3. refunds left pending after a lost answer: tried again with the same key.
 * Each row is claimed in its own transaction with FOR UPDATE SKIP LOCKED, so replicas (and
 * live handlers, which hold the row lock) never work on the same row.
 */
export function createReconciler(settings: ReconcilerSettings) {
  const { dataSource, provider, logger, afterMs } = settings;
  const batch = settings.batchSize ?? 50;

  async function settleStaleAttempts(): Promise<number> {
    const ids = await paymentsRepository(dataSource.manager).stalePendingIds(afterMs, batch);
    let count = 0;
    for (const id of ids) {
      try {
        const done = await dataSource.transaction(async (manager) => {
          const payment = await paymentsRepository(manager).lockById(id, { skipLocked: true });
          if (payment?.status !== 'pending') return false;
          const settled = await settleCharge(provider, payment, 'lookup-only');
          if (settled.kind === 'unknown') {
            logger.warn(
              { paymentId: id, code: settled.failure.code, err: settled.failure.message },
              'reconciler could not learn the outcome of a pending attempt yet',
            );
            return false;
          }
          await recordChargeOutcome(manager, payment, settled.outcome, { provider, logger });
          logger.info(
            { paymentId: id, outcome: settled.outcome.kind },
            'reconciler settled a pending attempt',
          );
          return true;
        });
        if (done) count += 1;
      } catch (error) {
        logger.warn({ err: error, paymentId: id }, 'reconciler could not settle attempt');
      }
    }
    return count;
  }

  async function refundCancelledOrders(): Promise<number> {
    const ids = await paymentsRepository(dataSource.manager).unrefundedCancelledIds(afterMs, batch);
    let count = 0;
    for (const id of ids) {
      const opened = await dataSource.transaction(async (manager) => {
        const payment = await paymentsRepository(manager).lockById(id, { skipLocked: true });
        if (payment?.status !== 'succeeded') return false;
        const { created } = await requestRefund(manager, payment, {
          reason: 'order_cancelled',
          requestedBy: null,
        });
        return created;
      });
      if (opened) {
        count += 1;
        logger.warn({ paymentId: id }, 'reconciler opened a refund for a cancelled order');
      }
    }
    return count;
  }

  async function refundRefusedUnwanted(): Promise<number> {
    const found = await paymentsRepository(dataSource.manager).unrefundedUnwanted(afterMs, batch);
    let count = 0;
    for (const { id, reason } of found) {
      const opened = await dataSource.transaction(async (manager) => {
        const payment = await paymentsRepository(manager).lockById(id, { skipLocked: true });
        if (payment?.status !== 'refunded') return false;
        const { created } = await requestRefund(manager, payment, { reason, requestedBy: null });
        return created;
      });
      if (opened) {
        count += 1;
        logger.warn(
          { paymentId: id, reason },
          'reconciler opened a new refund of an unwanted charge after a refused one',
        );
      }
    }
    return count;
  }

  async function retryPendingRefunds(): Promise<number> {
    const paymentIds = await refundsRepository(dataSource.manager).stalePendingPaymentIds(
      afterMs,
      batch,
    );
    let count = 0;
    for (const paymentId of paymentIds) {
      await dataSource.transaction(async (manager) => {
        const payment = await paymentsRepository(manager).lockById(paymentId, { skipLocked: true });
        const refund = payment ? await refundsRepository(manager).forPayment(paymentId) : null;
        if (!payment || refund?.status !== 'pending') return;
        await executeRefund(manager, payment, refund, provider);
        count += 1;
      });
    }
    return count;
  }

  async function runOnce(): Promise<ReconcileReport> {
    return {
      settled: await settleStaleAttempts(),
      refundsRequested: (await refundCancelledOrders()) + (await refundRefusedUnwanted()),
      refundsRetried: await retryPendingRefunds(),
    };
  }

  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      running = runOnce()
        .catch((error: unknown) => logger.error({ err: error }, 'reconciliation pass failed'))
        .finally(schedule);
    }, settings.intervalMs);
    timer.unref();
  }

  return {
    runOnce,
    start: schedule,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
