import { Histogram, type Registry } from 'prom-client';
import type { HttpApp } from './types.js';

/**
 * Request duration by route template (never the raw URL: ids would explode the label set),
 * method and status, plus the /metrics route that exposes the service's own registry.
 */
export function registerMetrics(app: HttpApp, registry: Registry): void {
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration in seconds, by route template, method and status code',
    labelNames: ['route', 'method', 'status_code'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });

  app.addHook('onResponse', async (request, reply) => {
    duration.observe(
      {
        route: request.is404 ? 'unmatched' : (request.routeOptions.url ?? 'unmatched'),
        method: request.method,
        status_code: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
  });

  app.get(
    '/metrics',
    { config: { auth: 'public' }, logLevel: 'warn', schema: { hide: true } },
    async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()),
  );
}
