import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * One registry per service instance (not prom-client's global one), so tests can build
 * several services in one process without metric-name clashes.
 */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}
