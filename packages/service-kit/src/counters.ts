import { Counter, Gauge, type Registry } from 'prom-client';

/**
 * A service's own counters and gauges, on its registry. Services do not depend on prom-client
 * themselves; they ask for a metric here. Asking twice for the same name returns the first one,
 * so a metric declared where it is used survives being built more than once per registry.
 */
export function serviceCounter<Label extends string = never>(
  registry: Registry,
  settings: { name: string; help: string; labelNames?: readonly Label[] },
): Counter<Label> {
  const existing = registry.getSingleMetric(settings.name);
  if (existing) return existing as Counter<Label>;
  return new Counter<Label>({
    name: settings.name,
    help: settings.help,
    labelNames: settings.labelNames ?? [],
    registers: [registry],
  });
}

/** A gauge whose value is read when /metrics is scraped (e.g. a row count). */
export function serviceGauge(
  registry: Registry,
  settings: { name: string; help: string; read: () => Promise<number> },
): Gauge {
  const existing = registry.getSingleMetric(settings.name);
  if (existing) return existing as Gauge;
  return new Gauge({
    name: settings.name,
    help: settings.help,
    registers: [registry],
    async collect() {
      this.set(await settings.read());
    },
  });
}
