import { describe, expect, it } from 'vitest';
import {
  containsCardNumber,
  findCardNumbers,
  isCardExpired,
  passesLuhn,
} from '../../src/domain/card.js';

describe('passesLuhn', () => {
  it('accepts issued test card numbers and refuses a changed digit', () => {
    expect(passesLuhn('4242424242424242')).toBe(true);
    expect(passesLuhn('5555555555554444')).toBe(true);
    expect(passesLuhn('378282246310005')).toBe(true);
    expect(passesLuhn('4242424242424241')).toBe(false);
  });

  it('refuses anything that is not only digits', () => {
    expect(passesLuhn('4242-4242')).toBe(false);
    expect(passesLuhn('')).toBe(false);
  });
});

describe('containsCardNumber', () => {
  it.each([
    '4242424242424242',
    '4242 4242 4242 4242',
    '4242-4242-4242-4242',
    'pm_4242424242424242',
    'my card is 378282246310005, thanks',
    '6011111111111117',
  ])('finds a card number in %j', (text) => {
    expect(containsCardNumber(text)).toBe(true);
  });

  it.each([
    'pm_card_visa',
    '4242',
    '4242424242424241', // fails Luhn
    '424242424242', // 12 digits: too short for a card
    '42424242424242424242', // 20 digits: too long for a card
    '4242  4242 4242 4242', // two spaces split the run
    'visa',
  ])('finds none in %j', (text) => {
    expect(containsCardNumber(text)).toBe(false);
  });
});

describe('findCardNumbers', () => {
  it('points at every value holding one, nested or not, strings or numbers', () => {
    const body = {
      cardBrand: 'visa 4242424242424242',
      cardLast4: '4242',
      nested: { list: ['ok', 5555555555554444] },
    };
    expect(findCardNumbers(body)).toEqual(['/cardBrand', '/nested/list/1']);
  });

  it('finds nothing in a clean payment method', () => {
    expect(
      findCardNumbers({
        providerPaymentMethodId: 'pm_card_visa',
        cardBrand: 'visa',
        cardLast4: '4242',
        expMonth: 12,
        expYear: 2030,
      }),
    ).toEqual([]);
  });
});

describe('isCardExpired', () => {
  const now = new Date('2026-05-15T12:00:00Z');

  it('keeps a card valid through its expiry month', () => {
    expect(isCardExpired({ expMonth: 5, expYear: 2026 }, now)).toBe(false);
    expect(isCardExpired({ expMonth: 1, expYear: 2027 }, now)).toBe(false);
  });

  it('expires it once the month is over', () => {
    expect(isCardExpired({ expMonth: 4, expYear: 2026 }, now)).toBe(true);
    expect(isCardExpired({ expMonth: 12, expYear: 2025 }, now)).toBe(true);
  });

  it('judges the month in UTC', () => {
    // 31 May 23:30 in New York is already June in UTC.
    expect(isCardExpired({ expMonth: 5, expYear: 2026 }, new Date('2026-06-01T03:30:00Z'))).toBe(
      true,
    );
  });
});
