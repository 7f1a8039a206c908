import { Counter, Gauge, type Registry } from 'prom-client';

/** Counters for every messaging step, labelled so a dashboard can split by consumer and type. */
export interface MessagingMetrics {
  published: Counter<'type'>;
  publishFailures: Counter<'type'>;
  handled: Counter<'consumer' | 'type'>;
  duplicates: Counter<'consumer' | 'type'>;
  failed: Counter<'consumer' | 'type'>;
  deadLettered: Counter<'consumer' | 'type'>;
}

// prom-client refuses a second metric with the same name in one registry, and a service may
// start a relay and several consumers on the same registry: create each metric once.
const byRegistry = new WeakMap<Registry, MessagingMetrics>();

export function messagingMetrics(registry: Registry): MessagingMetrics {
  const existing = byRegistry.get(registry);
  if (existing) return existing;
  const registers = [registry];
  const metrics: MessagingMetrics = {
    published: new Counter({
      name: 'messaging_published_total',
      help: 'Outbox messages published to JetStream by the relay',
      labelNames: ['type'],
      registers,
    }),
    publishFailures: new Counter({
      name: 'messaging_publish_failures_total',
      help: 'Outbox publish attempts that failed (the row stays unsent and is retried)',
      labelNames: ['type'],
      registers,
    }),
    handled: new Counter({
      name: 'messaging_handled_total',
      help: 'Messages whose handler committed',
      labelNames: ['consumer', 'type'],
      registers,
    }),
    duplicates: new Counter({
      name: 'messaging_duplicates_total',
      help: 'Messages skipped because the inbox had already recorded them',
      labelNames: ['consumer', 'type'],
      registers,
    }),
    failed: new Counter({
      name: 'messaging_failed_total',
      help: 'Handler attempts that failed (the message is redelivered or dead-lettered)',
      labelNames: ['consumer', 'type'],
      registers,
    }),
    deadLettered: new Counter({
      name: 'messaging_dead_lettered_total',
      help: 'Messages moved to the dead-letter stream',
      labelNames: ['consumer', 'type'],
      registers,
    }),
  };
  byRegistry.set(registry, metrics);
  return metrics;
}

export interface OutboxBacklog {
  unsent: number;
  /** Unsent rows that have failed to publish many times (the relay's `stuckAfterAttempts`). */
  stuck: number;
  oldestAgeSeconds: number;
}

const gaugesRegistered = new WeakSet<Registry>();

/**
 * Backlog gauges read on scrape (not on a timer), so they cost nothing between scrapes and are
 * never stale. A growing backlog or an old oldest row means the relay is not keeping up or
 * NATS is unreachable; a stuck row is one message that cannot be published (no stream takes its
 * subject, its payload is over the limit). One set per registry; the first reader registered
 * wins.
 */
export function registerOutboxGauges(
  registry: Registry,
  readBacklog: () => Promise<OutboxBacklog>,
): void {
  if (gaugesRegistered.has(registry)) return;
  gaugesRegistered.add(registry);
  // All gauges come from one query; share it within a scrape.
  let pending: Promise<OutboxBacklog> | undefined;
  const read = (): Promise<OutboxBacklog> => {
    pending ??= readBacklog().finally(() => {
      setImmediate(() => (pending = undefined));
    });
    return pending;
  };
  new Gauge({
    name: 'messaging_outbox_backlog',
    help: 'Outbox rows not yet published',
    registers: [registry],
    async collect() {
      this.set((await read()).unsent);
    },
  });
  new Gauge({
    name: 'messaging_outbox_stuck_messages',
    help: 'Outbox rows whose publish has failed many times while NATS was reachable (each failure is logged at error level); they are retried, never dropped',
    registers: [registry],
    async collect() {
      this.set((await read()).stuck);
    },
  });
  new Gauge({
    name: 'messaging_outbox_oldest_unsent_age_seconds',
    help: 'Age of the oldest unpublished outbox row (0 when none)',
    registers: [registry],
    async collect() {
      this.set((await read()).oldestAgeSeconds);
    },
  });
}
