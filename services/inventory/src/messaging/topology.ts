import { serviceStream, type ConsumerDefinition, type StreamSpec } from '@shop/service-kit';
import type { AvailabilityCache } from '../cache/availability-cache.js';
import type { CarrierAdapter } from '../domain/carrier.js';
import { availabilityCacheHandler } from './availability-cache-handler.js';
import { releaseStockHandler } from './release-stock.js';
import { reserveStockHandler } from './reserve-stock.js';
import { shipOrderHandler } from './ship-order.js';

/** The stream of everything inventory publishes (its events) and is asked (its commands). */
export const inventoryStreams: StreamSpec[] = [serviceStream('INVENTORY')];

export interface ConsumerDependencies {
  reservationTtlSeconds: number;
  /** The carrier behind its breaker, ready once the service has registered. */
  carrier: () => Promise<CarrierAdapter>;
  cache: AvailabilityCache;
}

/** The durable consumers inventory reads with. */
export function inventoryConsumers(deps: ConsumerDependencies): ConsumerDefinition[] {
  return [
    {
      stream: 'INVENTORY',
      durable: 'inventory-commands',
      filterSubject: 'inventory.commands.>',
      handlers: [
        reserveStockHandler({ ttlSeconds: deps.reservationTtlSeconds }),
        releaseStockHandler(),
        shipOrderHandler({ carrier: deps.carrier }),
      ],
    },
    {
      stream: 'INVENTORY',
      durable: 'inventory-availability-cache',
      filterSubject: 'inventory.events.stock.changed',
      handlers: [availabilityCacheHandler(deps.cache)],
    },
  ];
}
