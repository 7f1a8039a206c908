/** Every kind of ledger row; `sale` is written only by shipping an order. */
export const LEDGER_TYPES = ['purchase', 'sale', 'adjustment', 'count_variance', 'return'] as const;
export type LedgerType = (typeof LEDGER_TYPES)[number];

/** What staff may record by hand (API.md): everything but a sale. */
export const ADJUSTMENT_TYPES = ['purchase', 'adjustment', 'count_variance', 'return'] as const;
export type AdjustmentType = (typeof ADJUSTMENT_TYPES)[number];

/**
 * Why a hand-made ledger entry makes no sense, or null when it does. Goods bought or returned
 * come in, so those must be positive; corrections and count variances go either way.
 * Whether the shelf holds enough for a negative change is the database's call (its CHECKs).
 */
export function adjustmentProblem(type: AdjustmentType, quantityChange: number): string | null {
  if (quantityChange === 0) return 'quantityChange must not be 0';
  if ((type === 'purchase' || type === 'return') && quantityChange < 0) {
    return `a ${type} adds stock: quantityChange must be positive`;
  }
  return null;
}
