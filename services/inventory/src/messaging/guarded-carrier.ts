import {
  createBreaker,
  thirdPartyBreakerOptions,
  type ThirdPartyGuardSettings,
} from '@shop/service-kit';
import type { CarrierAdapter, Label, LabelRequest } from '../domain/carrier.js';

export type CarrierGuardSettings = ThirdPartyGuardSettings;

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
    thirdPartyBreakerOptions('carrier', settings),
  );
  return {
    createLabel: (request) => breaker.fire(request),
    shutdown: () => breaker.shutdown(),
  };
}
