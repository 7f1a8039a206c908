import type { StockLine, StockReservationRejected } from '@shop/contracts';
import type { Static } from 'typebox';

export type Line = Static<typeof StockLine>;
export type RejectedLine = StockReservationRejected['rejectedItems'][number];

/**
 * The lines of a command in product-id order, a product listed twice merged into one line.
 * Taking row locks in one global order is what keeps two orders racing over the same products
 * in opposite orders from deadlocking; merging keeps one reservation row per (order, product).
 */
export function normalizeLines(items: readonly Line[]): Line[] {
  const quantities = new Map<string, number>();
  for (const { productId, quantity } of items) {
    const id = productId.toLowerCase();
    quantities.set(id, (quantities.get(id) ?? 0) + quantity);
  }
  return [...quantities.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([productId, quantity]) => ({ productId, quantity }));
}

/** Lines whose product is unknown or off sale: the order cannot be served at all. */
export function unavailableLines(
  lines: readonly Line[],
  activeByProduct: ReadonlyMap<string, boolean>,
): RejectedLine[] {
  return lines
    .filter((line) => activeByProduct.get(line.productId) !== true)
    .map((line) => ({
      productId: line.productId,
      reason: 'product_unavailable' as const,
      requestedQuantity: line.quantity,
    }));
}

/**
 * Lines the shelf cannot cover, given what is available now. `failedProductId` is the line whose
 * conditional update matched no row: it is short even if a release landed since.
 */
export function shortLines(
  lines: readonly Line[],
  availableByProduct: ReadonlyMap<string, number>,
  failedProductId: string,
): RejectedLine[] {
  return lines
    .filter(
      (line) =>
        line.productId === failedProductId ||
        (availableByProduct.get(line.productId) ?? 0) < line.quantity,
    )
    .map((line) => ({
      productId: line.productId,
      reason: 'insufficient_stock' as const,
      requestedQuantity: line.quantity,
      availableQuantity: Math.max(0, availableByProduct.get(line.productId) ?? 0),
    }));
}
