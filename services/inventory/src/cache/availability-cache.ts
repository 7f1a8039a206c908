import { readVersioned, writeIfNewer, type RedisHandle } from '@shop/service-kit';

export interface Availability {
  productId: string;
  available: number;
  /** The stock row's version: a cached entry is replaced only by a newer one. */
  version: number;
}

export interface AvailabilityCacheSettings {
  redis: RedisHandle;
  keyPrefix: string;
  ttlSeconds: number;
}

/**
 * Availability per product in Redis (`inventory:{productId}`), for the public catalog only:
 * staff views and reservation decisions always read Postgres. Entries carry the stock row's
 * version and are written with writeIfNewer, so a slow reader or a late event can never put an
 * older number over a newer one. Redis failing only means reading Postgres: nothing here throws.
 */
export function createAvailabilityCache(settings: AvailabilityCacheSettings) {
  const { redis, keyPrefix, ttlSeconds } = settings;
  const keyOf = (productId: string) => `${keyPrefix}inventory:${productId}`;

  /** Stores a value read from Postgres or committed by a change; older versions lose. */
  async function store(entry: Availability): Promise<void> {
    if (!redis.isHealthy()) return;
    try {
      await writeIfNewer(
        redis.client,
        keyOf(entry.productId),
        entry.version,
        entry.available,
        ttlSeconds,
      );
    } catch {
      // The TTL bounds how long a missed update can leave an older value behind.
    }
  }

  return {
    keyOf,
    store,

    /**
     * Cached availability of these products, reading the misses with `load` (Postgres) and
     * caching what it returns.
     */
    async read(
      productIds: readonly string[],
      load: (missing: string[]) => Promise<Availability[]>,
    ): Promise<Map<string, number>> {
      const found = new Map<string, number>();
      if (redis.isHealthy()) {
        const cached = await Promise.all(
          productIds.map((id) => readVersioned<number>(redis.client, keyOf(id))),
        );
        cached.forEach((entry, index) => {
          if (entry && typeof entry.value === 'number') found.set(productIds[index]!, entry.value);
        });
      }
      const missing = productIds.filter((id) => !found.has(id));
      if (missing.length === 0) return found;
      const loaded = await load(missing);
      for (const entry of loaded) found.set(entry.productId, entry.available);
      await Promise.all(loaded.map(store));
      return found;
    },
  };
}

export type AvailabilityCache = ReturnType<typeof createAvailabilityCache>;
