import { describe, expect, it } from 'vitest';
import { adjustmentProblem } from '../src/domain/adjustments.js';
import { chooseCarrier, createSandboxCarrier } from '../src/domain/carrier.js';
import { containsPattern } from '../src/domain/catalog-search.js';
import {
  decideCommand,
  RESERVATION_REJECTED_TYPE,
  type OutcomeStep,
} from '../src/domain/command-outcomes.js';
import { normalizeLines, shortLines, unavailableLines } from '../src/domain/reservation.js';
import {
  fedexCheckDigit,
  isValidTrackingNumber,
  trackingNumberFor,
  upsCheckDigit,
  uspsCheckDigit,
  type CarrierCode,
} from '../src/domain/tracking-numbers.js';

const A = '00000000-0000-4000-8000-00000000000a';
const B = '00000000-0000-4000-8000-00000000000b';
const C = '00000000-0000-4000-8000-00000000000c';

describe('tracking numbers', () => {
  const random = (max: number) => Math.floor(Math.random() * max);

  it('come in each carrier real format with a valid check digit', () => {
    for (let n = 0; n < 200; n += 1) {
      const usps = trackingNumberFor('usps', random);
      expect(usps).toMatch(/^94001\d{17}$/);
      const fedex = trackingNumberFor('fedex', random);
      expect(fedex).toMatch(/^[1-9]\d{11}$/);
      const ups = trackingNumberFor('ups', random);
      expect(ups).toMatch(/^1Z[0-9A-Z]{6}03\d{8}$/);
      for (const [carrier, number] of [
        ['usps', usps],
        ['fedex', fedex],
        ['ups', ups],
      ] as const) {
        expect(isValidTrackingNumber(carrier, number)).toBe(true);
      }
    }
  });

  it('compute the published check digits', () => {
    // Worked examples: UPS 1Z 999AA1 01 2345678 4 (UPS's own sample number).
    expect(upsCheckDigit('999AA10123456784'.slice(0, 15))).toBe(4);
    expect(isValidTrackingNumber('ups', '1Z999AA10123456784')).toBe(true);
    // USPS mod 10, weights 3/1 from the right.
    expect(uspsCheckDigit('940010000000000000000')).toBe(6);
    // FedEx: weights 3, 1, 7 from the right, mod 11.
    expect(fedexCheckDigit('00000000001')).toBe(3);
  });

  it('reject a number with one digit changed, or in another carrier shape', () => {
    const number = trackingNumberFor('usps', random);
    const last = Number(number.at(-1));
    expect(isValidTrackingNumber('usps', number.slice(0, -1) + String((last + 1) % 10))).toBe(
      false,
    );
    expect(isValidTrackingNumber('fedex', number)).toBe(false);
    expect(isValidTrackingNumber('ups', '1Z999AA10123456785')).toBe(false);
  });
});

describe('the sandbox carrier', () => {
  it('uses the preferred carrier, else a stable one per order, with a label and an estimate', async () => {
    const carrier = createSandboxCarrier();
    const shippedAt = new Date('2026-01-01T00:00:00Z');
    const address = {
      addressId: A,
      line1: 'x',
      city: 'y',
      state: 'NY',
      country: 'US',
      postalCode: '1',
    };
    const label = await carrier.createLabel({
      orderId: A,
      orderNumber: 'ORD-1',
      preferredCarrier: 'fedex',
      address,
      shippedAt,
    });
    expect(label.carrier).toBe('fedex');
    expect(isValidTrackingNumber('fedex', label.trackingNumber)).toBe(true);
    expect(label.labelUrl).toContain(label.trackingNumber);
    expect(label.estimatedDelivery!.getTime()).toBeGreaterThan(shippedAt.getTime());
    expect(chooseCarrier(B)).toBe(chooseCarrier(B));
    const chosen = new Set<CarrierCode>();
    for (let n = 0; n < 30; n += 1)
      chosen.add(chooseCarrier(`00000000-0000-4000-8000-${String(n).padStart(12, '0')}`));
    expect(chosen.size).toBe(3);
  });

  it('answers a repeated request for an order with the label it already sold', async () => {
    const carrier = createSandboxCarrier();
    const request = {
      orderId: A,
      orderNumber: 'ORD-1',
      address: { addressId: A, line1: 'x', city: 'y', state: 'NY', country: 'US', postalCode: '1' },
      shippedAt: new Date('2026-01-01T00:00:00Z'),
    };
    const first = await carrier.createLabel(request);
    // A retry comes later, and may name another carrier: the order's label stays the same.
    const again = await carrier.createLabel({
      ...request,
      preferredCarrier: first.carrier === 'ups' ? 'usps' : 'ups',
      shippedAt: new Date('2026-01-02T00:00:00Z'),
    });
    expect(again).toEqual(first);
    const other = await carrier.createLabel({ ...request, orderId: B });
    expect(other.trackingNumber).not.toBe(first.trackingNumber);
  });
});

describe('reservation decisions', () => {
  it('orders lines by product id and merges a product listed twice', () => {
    expect(
      normalizeLines([
        { productId: C, quantity: 1 },
        { productId: A, quantity: 2 },
        { productId: C, quantity: 3 },
      ]),
    ).toEqual([
      { productId: A, quantity: 2 },
      { productId: C, quantity: 4 },
    ]);
  });

  it('finds unknown and inactive products', () => {
    const lines = normalizeLines([
      { productId: A, quantity: 1 },
      { productId: B, quantity: 1 },
      { productId: C, quantity: 1 },
    ]);
    expect(
      unavailableLines(
        lines,
        new Map([
          [A, true],
          [B, false],
        ]),
      ),
    ).toEqual([
      { productId: B, reason: 'product_unavailable', requestedQuantity: 1 },
      { productId: C, reason: 'product_unavailable', requestedQuantity: 1 },
    ]);
  });

  it('names every short line, always including the one whose update failed', () => {
    const lines = [
      { productId: A, quantity: 5 },
      { productId: B, quantity: 2 },
    ];
    expect(
      shortLines(
        lines,
        new Map([
          [A, 10],
          [B, 1],
        ]),
        B,
      ),
    ).toEqual([
      { productId: B, reason: 'insufficient_stock', requestedQuantity: 2, availableQuantity: 1 },
    ]);
    // Stock came back between the failed update and the read: still reported short.
    expect(
      shortLines(
        lines,
        new Map([
          [A, 10],
          [B, 5],
        ]),
        B,
      ),
    ).toHaveLength(1);
  });

  it('adjustments: purchases and returns add stock, nothing is zero', () => {
    expect(adjustmentProblem('purchase', 3)).toBeNull();
    expect(adjustmentProblem('adjustment', -3)).toBeNull();
    expect(adjustmentProblem('count_variance', -1)).toBeNull();
    expect(adjustmentProblem('purchase', -1)).not.toBeNull();
    expect(adjustmentProblem('return', -1)).not.toBeNull();
    expect(adjustmentProblem('adjustment', 0)).not.toBeNull();
  });

  it('search patterns take % and _ literally', () => {
    expect(containsPattern('50%_off\\')).toBe('%50\\%\\_off\\\\%');
  });
});

describe('which answer a saga command gets', () => {
  const stored = (entries: Array<[OutcomeStep, string]>) => new Map(entries);
  const RESERVED = 'inventory.events.reservation.reserved';
  const RELEASED = 'inventory.events.reservation.released';

  it('acts on a new command and replays an answered one', () => {
    expect(decideCommand('reserve', stored([]))).toEqual({ kind: 'act' });
    expect(decideCommand('reserve', stored([['reserve', RESERVED]]))).toEqual({
      kind: 'replay',
      step: 'reserve',
    });
    expect(decideCommand('release', stored([['release', RELEASED]]))).toEqual({
      kind: 'replay',
      step: 'release',
    });
    expect(
      decideCommand(
        'ship',
        stored([
          ['reserve', RESERVED],
          ['ship', 'x'],
        ]),
      ),
    ).toEqual({ kind: 'replay', step: 'ship' });
  });

  it('answers a reserve repeated after its release or expiry with that, not the reservation', () => {
    expect(
      decideCommand(
        'reserve',
        stored([
          ['reserve', RESERVED],
          ['release', RELEASED],
        ]),
      ),
    ).toEqual({ kind: 'replay', step: 'release' });
    expect(
      decideCommand(
        'reserve',
        stored([
          ['reserve', RESERVED],
          ['expire', 'e'],
        ]),
      ),
    ).toEqual({ kind: 'replay', step: 'expire' });
  });

  it('answers a reserve or ship after a release with the release', () => {
    expect(decideCommand('reserve', stored([['release', RELEASED]]))).toEqual({
      kind: 'replay',
      step: 'release',
    });
    expect(
      decideCommand(
        'ship',
        stored([
          ['reserve', RESERVED],
          ['release', RELEASED],
        ]),
      ),
    ).toEqual({ kind: 'replay', step: 'release' });
    expect(
      decideCommand(
        'ship',
        stored([
          ['reserve', RESERVED],
          ['expire', 'e'],
        ]),
      ),
    ).toEqual({ kind: 'replay', step: 'expire' });
  });

  it('releases after anything, ships only what was reserved, and waits for a late reserve', () => {
    expect(
      decideCommand(
        'release',
        stored([
          ['reserve', RESERVED],
          ['ship', 's'],
        ]),
      ),
    ).toEqual({ kind: 'act' });
    expect(decideCommand('ship', stored([['reserve', RESERVED]]))).toEqual({ kind: 'act' });
    expect(decideCommand('ship', stored([['reserve', RESERVATION_REJECTED_TYPE]]))).toEqual({
      kind: 'replay',
      step: 'reserve',
    });
    expect(decideCommand('ship', stored([])).kind).toBe('retry_later');
  });
});
