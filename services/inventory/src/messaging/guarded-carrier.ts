import { createBreaker, type Logger, type ServiceInfrastructure } from '@shop/service-kit';
import type { CarrierAdapter, Label, LabelRequest } from '../domain/carrier.js';

export interface CarrierGuardSettings {
  timeoutMs: number;
  resetTimeoutMs: number;
  registry?: ServiceInfrastructure['registry'];
  logger?: Logger;
}

/** The carrier as the ship handler calls it: bounded in time, and not hammered while down. */
export interface GuardedCarrier extends CarrierAdapter {
  shutdown(): void;
}

/**
 * Every label goes through one breaker with a per-call timeout whose AbortSignal reaches the
 * adapter. A carrier that hangs costs a ship command `timeoutMs` at most; one that keeps
 * failing opens the breaker, so redeliveries fail at once and are retried with backoff
 * instead of each waiting out its timeout.
 */
export function guardCarrier(
  carrier: CarrierAdapter,
  settings: CarrierGuardSettings,
): GuardedCarrier {
  const breaker = createBreaker(
    (signal: AbortSignal, request: LabelRequest): Promise<Label> =>
      carrier.createLabel(request, signal),
    {
      name: 'carrier',
      timeoutMs: settings.timeoutMs,
      resetTimeoutMs: settings.resetTimeoutMs,
      // A handful of failures in a row is enough to stop calling a carrier that is down.
      volumeThreshold: 3,
      errorThresholdPercentage: 50,
      ...(settings.registry ? { registry: settings.registry } : {}),
      ...(settings.logger ? { logger: settings.logger } : {}),
    },
  );
  return {
    createLabel: (request) => breaker.fire(request),
    shutdown: () => breaker.shutdown(),
  };
}
