import type { Carrier } from '@shop/contracts';
import type { Static } from 'typebox';

export type CarrierCode = Static<typeof Carrier>;

/** A uniform random integer in [0, max): `crypto.randomInt` in production, seeded in tests. */
export type RandomInt = (max: number) => number;

const DIGITS = '0123456789';
const ALPHANUMERIC = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

function randomString(alphabet: string, length: number, randomInt: RandomInt): string {
  let text = '';
  for (let index = 0; index < length; index += 1) text += alphabet[randomInt(alphabet.length)];
  return text;
}

function digitsOf(text: string): number[] {
  return [...text].map(Number);
}

/**
 * USPS Intelligent Mail package barcode: 22 digits, `94` (application identifier) then service,
 * mailer and serial digits, ending in a mod-10 check digit whose weights are 3 and 1 alternating
 * from the rightmost data digit.
 */
export function uspsCheckDigit(data: string): number {
  const sum = digitsOf(data)
    .reverse()
    .reduce((total, digit, index) => total + digit * (index % 2 === 0 ? 3 : 1), 0);
  return (10 - (sum % 10)) % 10;
}

/** FedEx Express: 12 digits, the last a check digit: weights 3, 1, 7 from the right, mod 11. */
export function fedexCheckDigit(data: string): number {
  const weights = [3, 1, 7];
  const sum = digitsOf(data)
    .reverse()
    .reduce((total, digit, index) => total + digit * weights[index % 3]!, 0);
  return (sum % 11) % 10;
}

/**
 * UPS "1Z": 1Z + 6-character shipper number + 2-digit service code + 7-digit package number +
 * check digit. Letters count as (char code - 63) mod 10; odd positions add once, even twice.
 */
export function upsCheckDigit(data: string): number {
  const values = [...data].map((character) =>
    /\d/.test(character) ? Number(character) : (character.charCodeAt(0) - 63) % 10,
  );
  const sum = values.reduce(
    (total, value, index) => total + (index % 2 === 0 ? value : value * 2),
    0,
  );
  return (10 - (sum % 10)) % 10;
}

// USPS service type 001 (Priority Mail with tracking) after the 94 application identifier.
const USPS_PREFIX = '94001';
// UPS service code 03: Ground.
const UPS_GROUND = '03';

export function uspsTrackingNumber(randomInt: RandomInt): string {
  const data = USPS_PREFIX + randomString(DIGITS, 16, randomInt);
  return data + String(uspsCheckDigit(data));
}

export function fedexTrackingNumber(randomInt: RandomInt): string {
  // A leading zero reads as a shorter number to people; carriers avoid it.
  const data = String(1 + randomInt(9)) + randomString(DIGITS, 10, randomInt);
  return data + String(fedexCheckDigit(data));
}

export function upsTrackingNumber(randomInt: RandomInt): string {
  const data =
    randomString(ALPHANUMERIC, 6, randomInt) + UPS_GROUND + randomString(DIGITS, 7, randomInt);
  return `1Z${data}${upsCheckDigit(data)}`;
}

export function trackingNumberFor(carrier: CarrierCode, randomInt: RandomInt): string {
  switch (carrier) {
    case 'usps':
      return uspsTrackingNumber(randomInt);
    case 'fedex':
      return fedexTrackingNumber(randomInt);
    case 'ups':
      return upsTrackingNumber(randomInt);
  }
}

/** True when `trackingNumber` has the carrier's shape and its check digit is right. */
export function isValidTrackingNumber(carrier: CarrierCode, trackingNumber: string): boolean {
  switch (carrier) {
    case 'usps':
      return (
        /^94\d{20}$/.test(trackingNumber) &&
        uspsCheckDigit(trackingNumber.slice(0, 21)) === Number(trackingNumber[21])
      );
    case 'fedex':
      return (
        /^\d{12}$/.test(trackingNumber) &&
        fedexCheckDigit(trackingNumber.slice(0, 11)) === Number(trackingNumber[11])
      );
    case 'ups':
      return (
        /^1Z[0-9A-Z]{6}\d{2}\d{8}$/.test(trackingNumber) &&
        upsCheckDigit(trackingNumber.slice(2, 17)) === Number(trackingNumber[17])
      );
  }
}
