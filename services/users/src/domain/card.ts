/**
 * Rules about cards that hold without any I/O: we store the provider's token, never a card
 * number (PCI scope), so anything that looks like a primary account number (PAN) is refused
 * wherever it appears, and an expired card is refused before it is ever charged.
 */

// A run of digits, optionally grouped by single spaces or dashes ("4242 4242 4242 4242").
const DIGIT_RUN = /\d(?:[ -]?\d)*/g;
const PAN_MIN_DIGITS = 13;
const PAN_MAX_DIGITS = 19;

/** The Luhn (mod 10) checksum every issued card number satisfies. */
export function passesLuhn(digits: string): boolean {
  if (!/^\d+$/.test(digits)) return false;
  let sum = 0;
  let double = false;
  for (let index = digits.length - 1; index >= 0; index -= 1) {
    let digit = digits.charCodeAt(index) - 48;
    if (double) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
    double = !double;
  }
  return sum % 10 === 0;
}

/**
 * True when the text holds a digit run of card-number length (13 to 19 digits, grouped or not)
 * that passes Luhn. Each maximal run is judged whole: a longer number is not a card, and
 * testing its every window would flag almost any long digit string.
 */
export function containsCardNumber(text: string): boolean {
  for (const match of text.matchAll(DIGIT_RUN)) {
    const digits = match[0].replace(/[ -]/g, '');
    if (digits.length < PAN_MIN_DIGITS || digits.length > PAN_MAX_DIGITS) continue;
    if (passesLuhn(digits)) return true;
  }
  return false;
}

/**
 * JSON pointers (`/cardBrand`) of every value in `value` that holds a card number, looking
 * into nested objects and arrays and at numbers as well as strings.
 */
export function findCardNumbers(value: unknown, path = ''): string[] {
  if (typeof value === 'string') return containsCardNumber(value) ? [path || '/'] : [];
  if (typeof value === 'number' || typeof value === 'bigint') {
    return containsCardNumber(value.toString()) ? [path || '/'] : [];
  }
  if (Array.isArray(value)) {
    return value.flatMap((item, index) => findCardNumbers(item, `${path}/${index}`));
  }
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, item]) =>
      findCardNumbers(item, `${path}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`),
    );
  }
  return [];
}

export interface CardExpiry {
  expMonth: number;
  expYear: number;
}

/** A card is valid through the last day of its expiry month (UTC). */
export function isCardExpired({ expMonth, expYear }: CardExpiry, now: Date): boolean {
  const year = now.getUTCFullYear();
  const month = now.getUTCMonth() + 1;
  return expYear < year || (expYear === year && expMonth < month);
}
