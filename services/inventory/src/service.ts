import { createLogger, createRedis, type ServiceDefinition } from '@shop/service-kit';
import { registerInventoryApp } from './app.js';
import { createAvailabilityCache } from './cache/availability-cache.js';
import type { InventoryConfig } from './config.js';
import { inventoryDatabase } from './db/index.js';
import { createSandboxCarrier, type CarrierAdapter } from './domain/carrier.js';
import { guardCarrier } from './messaging/guarded-carrier.js';
import { inventoryConsumers, inventoryStreams } from './messaging/topology.js';

export interface InventoryServiceOptions {
  /** The carrier labels are bought from; the sandbox carrier by default (tests inject others). */
  carrier?: CarrierAdapter;
}

/** Everything that makes this process the inventory service; main.ts and the tests start it. */
export function inventoryService(
  config: InventoryConfig,
  options: InventoryServiceOptions = {},
): ServiceDefinition {
  // The cache has its own connection because the consumer that refreshes it starts before the
  // runtime's Redis handle exists; both are optional at runtime in the same way.
  const redis = createRedis(
    config.REDIS_URL,
    createLogger({ service: 'inventory', level: config.LOG_LEVEL }),
  );
  const cache = createAvailabilityCache({
    redis,
    keyPrefix: config.REDIS_KEY_PREFIX,
    ttlSeconds: config.AVAILABILITY_CACHE_TTL_SECONDS,
  });
  // The carrier's breaker reports to the service's metrics registry, which exists only once the
  // service registers; consumers start earlier and wait on this for their first ship command.
  let resolveCarrier!: (carrier: CarrierAdapter) => void;
  const carrier = new Promise<CarrierAdapter>((resolve) => (resolveCarrier = resolve));
  return {
    name: 'inventory',
    port: config.INVENTORY_PORT,
    environment: config,
    database: inventoryDatabase,
    streams: inventoryStreams,
    consumers: inventoryConsumers({
      reservationTtlSeconds: config.RESERVATION_TTL_SECONDS,
      carrier: () => carrier,
      cache,
    }),
    register(app, infrastructure) {
      infrastructure.onStop(() => redis.close());
      const guarded = guardCarrier(options.carrier ?? createSandboxCarrier(), {
        timeoutMs: config.CARRIER_TIMEOUT_MS,
        resetTimeoutMs: config.CARRIER_BREAKER_RESET_MS,
        registry: infrastructure.registry,
        logger: infrastructure.logger,
      });
      infrastructure.onStop(() => guarded.shutdown());
      resolveCarrier(guarded);
      registerInventoryApp(app, infrastructure, {
        cache,
        sweepIntervalMs: config.RESERVATION_SWEEP_INTERVAL_MS,
      });
    },
  };
}
