import { StockChanged } from '@shop/contracts';
import { defineHandler } from '@shop/service-kit';
import type { AvailabilityCache } from '../cache/availability-cache.js';

/**
 * Keeps the public availability cache fresh from inventory's own stock events. They are
 * published only after the change committed (outbox), so the cache never shows a change that
 * rolled back; their version makes a late or repeated event harmless.
 */
export function availabilityCacheHandler(cache: AvailabilityCache) {
  return defineHandler(StockChanged, async (data) => {
    if (data.version === undefined) return;
    await cache.store({
      productId: data.productId,
      available: data.quantityAvailable,
      version: data.version,
    });
  });
}
