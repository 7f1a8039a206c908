/**
 * Order pricing, per API.md: integer cents only, so the same inputs give the same total on every
 * machine and the database CHECK (total = subtotal + shipping_cost + tax) always holds.
 */

export const FREE_SHIPPING_FROM_CENTS = 5000;
export const FLAT_SHIPPING_CENTS = 599;
/** Basis points: 10 000 bps = 100 %. */
const BPS_DENOMINATOR = 10_000;

export interface PricedLine {
  productId: string;
  sku: string;
  quantity: number;
  unitPrice: number;
  lineTotal: number;
}

export interface OrderTotals {
  subtotal: number;
  shippingCost: number;
  tax: number;
  total: number;
}

export type TaxRates = Readonly<Record<string, number>>;

export function priceLine(line: {
  productId: string;
  sku: string;
  quantity: number;
  unitPrice: number;
}): PricedLine {
  return { ...line, lineTotal: line.quantity * line.unitPrice };
}

export function shippingCostFor(subtotal: number): number {
  return subtotal >= FREE_SHIPPING_FROM_CENTS ? 0 : FLAT_SHIPPING_CENTS;
}

/** The rate of the shipping address's state; a state not listed is untaxed. */
export function taxRateBps(rates: TaxRates, state: string): number {
  return Object.hasOwn(rates, state) ? (rates[state] ?? 0) : 0;
}

/**
 * round_half_up(amount × bps / 10 000) without floats: add half the denominator before the
 * integer division. Amounts are never negative, so "half up" and "half away from zero" agree.
 */
export function taxFor(amountCents: number, rateBps: number): number {
  const scaled = BigInt(amountCents) * BigInt(rateBps);
  const denominator = BigInt(BPS_DENOMINATOR);
  return Number((scaled + denominator / 2n) / denominator);
}

export function totalsFor(lines: readonly PricedLine[], rateBps: number): OrderTotals {
  const subtotal = lines.reduce((sum, line) => sum + line.lineTotal, 0);
  const shippingCost = shippingCostFor(subtotal);
  const tax = taxFor(subtotal, rateBps);
  return { subtotal, shippingCost, tax, total: subtotal + shippingCost + tax };
}
