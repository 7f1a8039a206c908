import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { settleCharge } from '../src/application/settle-charge.js';
import type { PaymentRecord } from '../src/db/repositories/payments.js';
import type { GuardedProvider } from '../src/payment-provider/index.js';
import type { ChargeRequest, ProviderCharge } from '../src/payment-provider/types.js';

const coded = (code: string) => Object.assign(new Error(code), { code });

/** A provider scripted call by call; it records the keys it was asked to charge under. */
function scripted(options: {
  authoritative: boolean;
  ttlMs?: number | null;
  charges: Array<ProviderCharge | Error>;
  lookups: Array<ProviderCharge | null | Error>;
}) {
  const charged: string[] = [];
  const next = <T>(list: Array<T | Error>, what: string): T => {
    const item = list.shift();
    if (item === undefined) throw new Error(`unexpected ${what}`);
    if (item instanceof Error) throw item;
    return item;
  };
  const provider = {
    name: 'scripted',
    lookupIsAuthoritative: options.authoritative,
    idempotencyKeyTtlMs: options.ttlMs ?? null,
    breaker: undefined as never,
    charge: async (request: ChargeRequest) => {
      charged.push(request.idempotencyKey);
      return next(options.charges, 'charge');
    },
    findCharge: async () => next(options.lookups, 'lookup'),
    refund: async () => {
      throw new Error('no refunds here');
    },
    shutdown: () => undefined,
  } satisfies GuardedProvider;
  return { provider, charged };
}

function pending(attemptedAt = new Date()): PaymentRecord {
  return {
    id: randomUUID(),
    attemptId: randomUUID(),
    attempt: 1,
    orderId: randomUUID(),
    orderNumber: 'ORD-2026-000001',
    customerId: randomUUID(),
    paymentMethodId: randomUUID(),
    providerPaymentMethodId: 'pm_card_visa',
    amount: 2599,
    currency: 'USD',
    status: 'pending',
    failureReason: null,
    failureMessage: null,
    provider: 'scripted',
    providerChargeId: null,
    attemptedAt: attemptedAt.toISOString(),
    settledAt: null,
    createdAt: attemptedAt.toISOString(),
  };
}

const success: ProviderCharge = { status: 'succeeded', chargeId: 'ch_1' };

describe('settling an attempt whose outcome is unknown', () => {
  it('an authoritative "not found" is "never charged", and the reconciler charges nothing', async () => {
    const { provider, charged } = scripted({ authoritative: true, charges: [], lookups: [null] });
    const settled = await settleCharge(provider, pending(), 'lookup-only');
    expect(settled).toMatchObject({
      kind: 'settled',
      outcome: { kind: 'failed', code: 'not_charged' },
    });
    expect(charged).toEqual([]);
  });

  it('an authoritative "not found" after a timeout is a failure the saga may retry', async () => {
    const { provider } = scripted({
      authoritative: true,
      charges: [coded('ETIMEDOUT')],
      lookups: [null],
    });
    expect(await settleCharge(provider, pending(), 'fresh')).toMatchObject({
      kind: 'settled',
      outcome: { kind: 'failed', code: 'timeout' },
    });
  });

  it('a non-authoritative "not found" is never a failure: the same create is repeated under the same key', async () => {
    const payment = pending();
    const { provider, charged } = scripted({
      authoritative: false,
      charges: [coded('ETIMEDOUT'), success],
      lookups: [null],
    });
    expect(await settleCharge(provider, payment, 'fresh')).toEqual({
      kind: 'settled',
      outcome: { kind: 'succeeded', chargeId: 'ch_1' },
    });
    expect(charged).toEqual([payment.attemptId, payment.attemptId]);
  });

  it('a repeat that fails, even one that never left, leaves the outcome unknown (pending), never failed', async () => {
    for (const replayError of ['EOPENBREAKER', 'ETIMEDOUT']) {
      const { provider, charged } = scripted({
        authoritative: false,
        charges: [coded('ETIMEDOUT'), coded(replayError)],
        lookups: [null, null],
      });
      const settled = await settleCharge(provider, pending(), 'fresh');
      expect(settled.kind).toBe('unknown');
      expect(charged).toHaveLength(2);
    }
  });

  it('the reconciler resolves a stale attempt on a non-authoritative provider by repeating its create', async () => {
    const payment = pending(new Date(Date.now() - 10 * 60_000));
    const { provider, charged } = scripted({
      authoritative: false,
      ttlMs: 23 * 3_600_000,
      charges: [success],
      lookups: [null],
    });
    expect(await settleCharge(provider, payment, 'lookup-only')).toMatchObject({
      kind: 'settled',
      outcome: { kind: 'succeeded' },
    });
    expect(charged).toEqual([payment.attemptId]);
  });

  it('never repeats a create once the provider may have forgotten the key: unknown, for a person', async () => {
    const payment = pending(new Date(Date.now() - 24 * 3_600_000));
    const { provider, charged } = scripted({
      authoritative: false,
      ttlMs: 23 * 3_600_000,
      charges: [],
      lookups: [null],
    });
    for (const mode of ['resume', 'lookup-only'] as const) {
      const settled = await settleCharge(provider, payment, mode);
      expect(settled).toMatchObject({
        kind: 'unknown',
        failure: { code: 'idempotency_key_expired' },
      });
      provider.findCharge = async () => null;
    }
    expect(charged).toEqual([]);
  });

  it('a charge search finds is settled by what it says, whatever the provider', async () => {
    for (const authoritative of [true, false]) {
      const { provider, charged } = scripted({ authoritative, charges: [], lookups: [success] });
      expect(await settleCharge(provider, pending(), 'resume')).toMatchObject({
        kind: 'settled',
        outcome: { kind: 'succeeded' },
      });
      expect(charged).toEqual([]);
    }
  });
});
