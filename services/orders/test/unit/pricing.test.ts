import { describe, expect, it } from 'vitest';
import {
  priceLine,
  shippingCostFor,
  taxFor,
  taxRateBps,
  totalsFor,
} from '../../src/domain/pricing.js';
import { formatOrderNumber } from '../../src/domain/order-number.js';

describe('pricing', () => {
  it('ships free from 5000 cents, else 599', () => {
    expect(shippingCostFor(4999)).toBe(599);
    expect(shippingCostFor(5000)).toBe(0);
  });

  it('rounds tax half up in integers', () => {
    expect(taxFor(1250, 400)).toBe(50); // exactly 50
    expect(taxFor(1, 5000)).toBe(1); // 0.5 → 1
    expect(taxFor(3, 5000)).toBe(2); // 1.5 → 2
    expect(taxFor(1, 4999)).toBe(0); // 0.4999 → 0
    expect(taxFor(2999, 725)).toBe(217); // 217.4275 → 217
    expect(taxFor(3006, 725)).toBe(218); // 217.935 → 218
    expect(taxFor(99_999_999, 10_000)).toBe(99_999_999);
  });

  it('taxes by shipping state; an unlisted state is 0', () => {
    const rates = { NY: 400, CA: 725 };
    expect(taxRateBps(rates, 'CA')).toBe(725);
    expect(taxRateBps(rates, 'TX')).toBe(0);
    expect(taxRateBps(rates, 'toString')).toBe(0);
  });

  it('total = subtotal + shipping + tax', () => {
    const lines = [
      priceLine({ productId: 'a', sku: 'A', quantity: 2, unitPrice: 1250 }),
      priceLine({ productId: 'b', sku: 'B', quantity: 1, unitPrice: 999 }),
    ];
    expect(lines[0]!.lineTotal).toBe(2500);
    expect(totalsFor(lines, 400)).toEqual({
      subtotal: 3499,
      shippingCost: 599,
      tax: 140,
      total: 4238,
    });
  });

  it('formats order numbers with at least six digits', () => {
    expect(formatOrderNumber(2026, 123)).toBe('ORD-2026-000123');
    expect(formatOrderNumber(2026, '1234567')).toBe('ORD-2026-1234567');
  });
});
