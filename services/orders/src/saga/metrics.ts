import { serviceCounter, serviceGauge, type ServiceInfrastructure } from '@shop/service-kit';
import type { DataSource } from 'typeorm';

/**
 * Sagas that could not compensate, and deadlines whose handling failed. Consumers start before
 * the HTTP side registers its metrics, so a count that happens first is held and added when
 * the registry arrives.
 */
export function createSagaMetrics() {
  let pending = 0;
  let counter: { inc(value?: number): void } | undefined;
  let postponed: { inc(value?: number): void } | undefined;
  return {
    needsAttention(): void {
      if (counter) counter.inc();
      else pending += 1;
    },
    /** The deadline timer starts with the HTTP side, after `attach`. */
    deadlinePostponed(): void {
      postponed?.inc();
    },
    attach(registry: ServiceInfrastructure['registry'], dataSource: DataSource): void {
      counter = serviceCounter(registry, {
        name: 'orders_saga_needs_attention_total',
        help: 'Sagas that entered needs_attention (a compensation kept failing or a step got no answer)',
      });
      if (pending > 0) counter.inc(pending);
      pending = 0;
      postponed = serviceCounter(registry, {
        name: 'orders_saga_deadline_failures_total',
        help: 'Saga deadlines whose handling threw; each time the saga alone was postponed',
      });
      serviceGauge(registry, {
        name: 'orders_sagas_deadline_failing',
        help: 'Sagas whose last deadline handling threw (postponed, waiting to be tried again)',
        // Through the index of sagas waiting on a clock: a postponed saga always has a deadline.
        read: async () => {
          const rows = (await dataSource.query(
            `SELECT count(*)::int AS n FROM order_sagas
              WHERE next_deadline_at IS NOT NULL AND deadline_failures > 0`,
          )) as { n: number }[];
          return rows[0]?.n ?? 0;
        },
      });
      serviceGauge(registry, {
        name: 'orders_sagas_needing_attention',
        help: 'Sagas currently in needs_attention',
        read: async () => {
          const rows = (await dataSource.query(
            `SELECT count(*)::int AS n FROM order_sagas WHERE state = 'needs_attention'`,
          )) as { n: number }[];
          return rows[0]?.n ?? 0;
        },
      });
    },
  };
}

export type SagaMetrics = ReturnType<typeof createSagaMetrics>;
