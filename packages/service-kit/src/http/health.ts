import Type from 'typebox';
import type { HttpApp } from './types.js';

/**
 * Liveness says "the process is not wedged" and never looks at dependencies (a restart would not
 * fix a dead database). Readiness says "send me traffic": critical checks (Postgres, NATS)
 * failing make it 503; a non-critical one (Redis) failing leaves it 200 but "degraded", since
 * the service still works, only slower.
 */

export interface ReadinessCheck {
  name: string;
  critical: boolean;
  /** Resolves when healthy; throwing or resolving `false` means down. */
  check: () => Promise<unknown> | unknown;
  /** Default 2000 ms: a hanging dependency is a down one. */
  timeoutMs?: number;
}

export interface CheckResult {
  name: string;
  status: 'up' | 'down';
  critical: boolean;
  durationMs: number;
  error?: string;
}

export interface ReadinessReport {
  status: 'ok' | 'degraded' | 'unready';
  checks: CheckResult[];
}

async function runCheck(check: ReadinessCheck): Promise<CheckResult> {
  const started = performance.now();
  const timeoutMs = check.timeoutMs ?? 2000;
  let timer: NodeJS.Timeout | undefined;
  try {
    const outcome = await Promise.race([
      Promise.resolve().then(check.check),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    if (outcome === false) throw new Error('check reported down');
    return { name: check.name, status: 'up', critical: check.critical, durationMs: elapsed() };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return {
      name: check.name,
      status: 'down',
      critical: check.critical,
      durationMs: elapsed(),
      error: message.slice(0, 200),
    };
  } finally {
    clearTimeout(timer);
  }

  function elapsed() {
    return Math.round(performance.now() - started);
  }
}

export async function checkReadiness(checks: readonly ReadinessCheck[]): Promise<ReadinessReport> {
  const results = await Promise.all(checks.map(runCheck));
  const down = results.filter((r) => r.status === 'down');
  const status = down.some((r) => r.critical) ? 'unready' : down.length > 0 ? 'degraded' : 'ok';
  return { status, checks: results };
}

const ReadinessBody = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded'), Type.Literal('unready')]),
  checks: Type.Array(
    Type.Object({
      name: Type.String(),
      status: Type.Union([Type.Literal('up'), Type.Literal('down')]),
      critical: Type.Boolean(),
      durationMs: Type.Number(),
      error: Type.Optional(Type.String()),
    }),
  ),
});

export function registerHealthRoutes(app: HttpApp, checks: ReadinessCheck[]): void {
  app.get(
    '/health/live',
    {
      config: { auth: 'public' },
      logLevel: 'warn',
      schema: {
        tags: ['health'],
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/health/ready',
    {
      config: { auth: 'public' },
      logLevel: 'warn',
      schema: { tags: ['health'], response: { 200: ReadinessBody, 503: ReadinessBody } },
    },
    async (_request, reply) => {
      const report = await checkReadiness(checks);
      return reply.code(report.status === 'unready' ? 503 : 200).send(report);
    },
  );
}
