import { describe, expect, it } from 'vitest';
import { classifyCallFailure, outcomeOfCharge } from '../src/domain/charge-outcome.js';
import { assertTransition, canTransition, PAYMENT_STATUSES } from '../src/domain/payment-status.js';
import { behaviourOf } from '../src/provider/cards.js';
import { ServiceUnavailableError } from '@shop/service-kit';

describe('payment status transitions', () => {
  const allowed = new Set([
    'pending>succeeded',
    'pending>failed',
    'pending>refunded',
    'succeeded>refunded',
  ]);
  for (const from of PAYMENT_STATUSES) {
    for (const to of PAYMENT_STATUSES) {
      const key = `${from}>${to}`;
      it(`${key} is ${allowed.has(key) ? 'allowed' : 'refused'}`, () => {
        expect(canTransition(from, to)).toBe(allowed.has(key));
        if (!allowed.has(key)) expect(() => assertTransition(from, to)).toThrow(/cannot go/);
      });
    }
  }
});

describe('charge outcome', () => {
  it('a success is a success', () => {
    expect(outcomeOfCharge({ status: 'succeeded', chargeId: 'ch_1' })).toEqual({
      kind: 'succeeded',
      chargeId: 'ch_1',
    });
  });
  it.each([
    ['card_declined', 'declined'],
    ['insufficient_funds', 'declined'],
    ['authentication_required', 'declined'],
    ['processing_error', 'failed'],
    ['something_new', 'failed'],
  ])('failure %s is %s', (code, kind) => {
    expect(outcomeOfCharge({ status: 'failed', chargeId: null, code, message: '' }).kind).toBe(
      kind,
    );
  });
});

describe('call failure classification', () => {
  const withCode = (code: string, message = code) => Object.assign(new Error(message), { code });
  it('an open breaker sent nothing', () => {
    const open = new ServiceUnavailableError('open', { cause: withCode('EOPENBREAKER') });
    expect(classifyCallFailure(open)).toMatchObject({
      certainty: 'not_sent',
      code: 'provider_unavailable',
    });
  });
  it('a refused connection sent nothing, also when fetch wraps it', () => {
    const fetchError = new TypeError('fetch failed', { cause: withCode('ECONNREFUSED') });
    expect(classifyCallFailure(fetchError).certainty).toBe('not_sent');
    const both = new TypeError('fetch failed', {
      cause: Object.assign(new AggregateError([withCode('ECONNREFUSED')]), { code: undefined }),
    });
    expect(classifyCallFailure(both).certainty).toBe('not_sent');
  });
  it('a timeout may have charged', () => {
    const timeout = new ServiceUnavailableError('late', { cause: withCode('ETIMEDOUT') });
    expect(classifyCallFailure(timeout)).toMatchObject({ certainty: 'unknown', code: 'timeout' });
  });
  it.each(['ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE'])('%s may have charged', (code) => {
    expect(
      classifyCallFailure(new TypeError('fetch failed', { cause: withCode(code) })).certainty,
    ).toBe('unknown');
  });
  it('anything unrecognised may have charged', () => {
    expect(classifyCallFailure(new Error('provider answered 500')).certainty).toBe('unknown');
    expect(classifyCallFailure('weird').certainty).toBe('unknown');
  });
});

describe('sandbox card table (API.md)', () => {
  it.each(['pm_card_visa', 'pm_card_mastercard', 'pm_card_amex'])('%s succeeds', (method) => {
    expect(behaviourOf(method)).toEqual({ result: 'succeeded' });
  });
  it.each([
    ['pm_card_chargeDeclined', 'card_declined'],
    ['pm_card_chargeDeclinedInsufficientFunds', 'insufficient_funds'],
    ['pm_card_processingError', 'processing_error'],
    ['pm_unknown', 'card_declined'],
  ])('%s fails with %s', (method, code) => {
    expect(behaviourOf(method)).toMatchObject({ result: 'failed', code });
  });
});
