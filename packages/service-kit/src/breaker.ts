import type { EventEmitter } from 'node:events';
import CircuitBreaker from 'opossum';
import { Counter, Gauge, type Registry } from 'prom-client';
import { AppError, ServiceUnavailableError } from './errors.js';
import type { Logger } from './logger.js';

/**
 * A circuit breaker around one dependency, so a dead service answers 503 in milliseconds
 * instead of tying up every caller for its full timeout.
 *
 * Timeouts: opossum's own `abortController` option is one controller per breaker, so one slow
 * call timing out would abort every other call in flight. Instead each call gets its own
 * AbortController, passed to the action as its first argument and aborted when opossum's timer
 * fires for that call.
 *
 * Only the dependency's failures count: a 4xx-like error (the caller's mistake, or "not found")
 * passes through without moving the breaker towards open.
 */

export type BreakerState = 'closed' | 'open' | 'halfOpen';

export interface BreakerOptions {
  /** Label in metrics and logs, e.g. `users` or `payment-provider`. */
  name: string;
  /** Per call; default 3000. */
  timeoutMs?: number;
  /** Failure share (percent) over the rolling window that opens the breaker; default 50. */
  errorThresholdPercentage?: number;
  /** How long it stays open before letting one trial call through; default 10000. */
  resetTimeoutMs?: number;
  /** Calls in the window before the percentage is considered; default 5. */
  volumeThreshold?: number;
  /** Length of the rolling statistics window; default 10000. */
  rollingCountTimeoutMs?: number;
  registry?: Registry;
  logger?: Logger;
  /** Override which errors are NOT failures; default isClientError. */
  isClientError?: (error: unknown) => boolean;
}

/** How a service guards a third party it calls (a payment provider, a carrier). */
export interface ThirdPartyGuardSettings {
  /** Per call; past it the call's AbortSignal fires. */
  timeoutMs: number;
  resetTimeoutMs: number;
  registry?: Registry;
  logger?: Logger;
}

/**
 * Breaker options for a third party: a handful of failures in a row is enough to stop calling
 * one that is down, so callers fail at once instead of each waiting out the timeout.
 */
export function thirdPartyBreakerOptions(
  name: string,
  settings: ThirdPartyGuardSettings,
): BreakerOptions {
  return {
    name,
    timeoutMs: settings.timeoutMs,
    resetTimeoutMs: settings.resetTimeoutMs,
    volumeThreshold: 3,
    errorThresholdPercentage: 50,
    ...(settings.registry ? { registry: settings.registry } : {}),
    ...(settings.logger ? { logger: settings.logger } : {}),
  };
}

export interface Breaker<A extends unknown[], R> {
  /** Runs the action; open → ServiceUnavailableError at once, timeout → ServiceUnavailableError. */
  fire(...args: A): Promise<R>;
  readonly state: BreakerState;
  readonly name: string;
  /** Stops timers and listeners (tests, shutdown). */
  shutdown(): void;
}

/** An error the caller caused (HTTP 4xx-like): not a sign the dependency is unhealthy. */
export function isClientError(error: unknown): boolean {
  if (error instanceof AppError) return error.status >= 400 && error.status < 500;
  const e = error as { status?: unknown; statusCode?: unknown } | null;
  const status = typeof e?.status === 'number' ? e.status : e?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 500;
}

const STATE_VALUE: Record<BreakerState, number> = { closed: 0, halfOpen: 1, open: 2 };

function metricsFor(registry: Registry) {
  // Several breakers share a registry; the metric objects are created once per registry.
  const state =
    (registry.getSingleMetric('circuit_breaker_state') as Gauge<'breaker'> | undefined) ??
    new Gauge({
      name: 'circuit_breaker_state',
      help: 'Circuit breaker state: 0 closed, 1 half-open, 2 open',
      labelNames: ['breaker'],
      registers: [registry],
    });
  const calls =
    (registry.getSingleMetric('circuit_breaker_calls_total') as
      Counter<'breaker' | 'outcome'> | undefined) ??
    new Counter({
      name: 'circuit_breaker_calls_total',
      help: 'Calls through a circuit breaker by outcome',
      labelNames: ['breaker', 'outcome'],
      registers: [registry],
    });
  return { state, calls };
}

/** Thrown into the action's signal when its call times out. */
export class BreakerTimeoutError extends Error {
  constructor(name: string, timeoutMs: number) {
    super(`${name} did not answer within ${timeoutMs} ms`);
    this.name = 'TimeoutError';
  }
}

export function createBreaker<A extends unknown[], R>(
  action: (signal: AbortSignal, ...args: A) => Promise<R>,
  options: BreakerOptions,
): Breaker<A, R> {
  const { name, logger } = options;
  const timeoutMs = options.timeoutMs ?? 3000;
  const isFilteredError = options.isClientError ?? isClientError;

  const circuit = new CircuitBreaker<[AbortController, ...A], R>(
    (controller, ...args) => action(controller.signal, ...args),
    {
      name,
      timeout: timeoutMs,
      errorThresholdPercentage: options.errorThresholdPercentage ?? 50,
      resetTimeout: options.resetTimeoutMs ?? 10_000,
      volumeThreshold: options.volumeThreshold ?? 5,
      rollingCountTimeout: options.rollingCountTimeoutMs ?? 10_000,
      errorFilter: (error: unknown) => isFilteredError(error),
    },
  );

  const metrics = options.registry ? metricsFor(options.registry) : undefined;
  const setState = (state: BreakerState) =>
    metrics?.state.set({ breaker: name }, STATE_VALUE[state]);
  const count = (outcome: string) => metrics?.calls.inc({ breaker: name, outcome });
  setState('closed');

  // @types/opossum omits the (error, latency, args) arguments opossum 9 passes to 'timeout'.
  (circuit as EventEmitter).on('timeout', (_error: unknown, _latency: number, args: unknown) => {
    const controller = (args as unknown[])[0];
    if (controller instanceof AbortController)
      controller.abort(new BreakerTimeoutError(name, timeoutMs));
    count('timeout');
  });
  circuit.on('success', () => count('success'));
  circuit.on('failure', (error: unknown) => {
    // Timeouts are counted by their own event above.
    if ((error as { code?: string }).code !== 'ETIMEDOUT') count('failure');
  });
  circuit.on('reject', () => count('rejected'));
  circuit.on('open', () => {
    setState('open');
    logger?.warn({ breaker: name }, 'circuit opened');
  });
  circuit.on('halfOpen', () => {
    setState('halfOpen');
    logger?.info({ breaker: name }, 'circuit half-open');
  });
  circuit.on('close', () => {
    setState('closed');
    logger?.info({ breaker: name }, 'circuit closed');
  });

  return {
    name,
    get state(): BreakerState {
      if (circuit.opened) return 'open';
      if (circuit.halfOpen) return 'halfOpen';
      return 'closed';
    },
    async fire(...args: A): Promise<R> {
      try {
        return await circuit.fire(new AbortController(), ...args);
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code === 'EOPENBREAKER')
          throw new ServiceUnavailableError(`${name} is unavailable (circuit open).`, {
            cause: error,
            retryAfterSeconds: Math.ceil((options.resetTimeoutMs ?? 10_000) / 1000),
          });
        if (code === 'ETIMEDOUT')
          throw new ServiceUnavailableError(`${name} did not answer in time.`, { cause: error });
        throw error;
      }
    },
    shutdown() {
      circuit.shutdown();
    },
  };
}
