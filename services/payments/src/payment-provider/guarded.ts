import {
  createBreaker,
  thirdPartyBreakerOptions,
  type Breaker,
  type ThirdPartyGuardSettings,
} from '@shop/service-kit';
import type {
  ChargeRequest,
  PaymentProvider,
  ProviderCharge,
  ProviderGuarantees,
  ProviderRefund,
  RefundRequest,
} from './types.js';

export type GuardSettings = ThirdPartyGuardSettings;

/** The provider as payments calls it: every call through one breaker, with no signal to pass. */
export interface GuardedProvider extends ProviderGuarantees {
  readonly name: string;
  readonly breaker: Breaker<[(signal: AbortSignal) => Promise<unknown>], unknown>;
  /** The service's metrics registry, when it has one: where payments' own counters go. */
  readonly registry?: GuardSettings['registry'];
  charge(request: ChargeRequest): Promise<ProviderCharge>;
  findCharge(idempotencyKey: string): Promise<ProviderCharge | null>;
  refund(request: RefundRequest): Promise<ProviderRefund>;
  shutdown(): void;
}

/**
 * One breaker for the provider (it is one dependency, whatever the call), with a per-call
 * timeout whose AbortSignal reaches the adapter. Declines are values, not errors, so only the
 * provider failing moves the breaker; when it is open, calls fail at once with EOPENBREAKER,
 * which payments knows means "nothing was sent".
 */
export function guardProvider(provider: PaymentProvider, settings: GuardSettings): GuardedProvider {
  const breaker = createBreaker(
    (signal: AbortSignal, operation: (signal: AbortSignal) => Promise<unknown>) =>
      operation(signal),
    thirdPartyBreakerOptions('payment-provider', settings),
  );
  const run = <T>(operation: (signal: AbortSignal) => Promise<T>) =>
    breaker.fire(operation) as Promise<T>;

  return {
    name: provider.name,
    lookupIsAuthoritative: provider.lookupIsAuthoritative,
    idempotencyKeyTtlMs: provider.idempotencyKeyTtlMs,
    breaker,
    ...(settings.registry ? { registry: settings.registry } : {}),
    charge: (request) => run((signal) => provider.charge(request, signal)),
    findCharge: (key) => run((signal) => provider.findCharge(key, signal)),
    refund: (request) => run((signal) => provider.refund(request, signal)),
    shutdown: () => breaker.shutdown(),
  };
}
