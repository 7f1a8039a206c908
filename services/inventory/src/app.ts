import type { HttpApp, ServiceInfrastructure } from '@shop/service-kit';
import { startReservationSweeper } from './background/reservation-sweeper.js';
import type { AvailabilityCache } from './cache/availability-cache.js';
import { registerInternalRoutes } from './routes/internal.js';
import { registerInventoryRoutes } from './routes/inventory.js';
import { registerProductRoutes } from './routes/products.js';
import { registerShipmentRoutes } from './routes/shipments.js';

export interface InventoryAppSettings {
  cache: AvailabilityCache;
  sweepIntervalMs: number;
}

/**
 * The inventory service's routes and background work, registered on a server that already has
 * health, metrics, docs, auth and problem+json handling.
 */
export function registerInventoryApp(
  app: HttpApp,
  infrastructure: ServiceInfrastructure,
  settings: InventoryAppSettings,
): void {
  const deps = { dataSource: infrastructure.dataSource, cache: settings.cache };
  registerProductRoutes(app, deps);
  registerInventoryRoutes(app, deps);
  registerShipmentRoutes(app, deps);
  registerInternalRoutes(app, deps);

  const sweeper = startReservationSweeper({
    dataSource: infrastructure.dataSource,
    logger: infrastructure.logger.child({ component: 'reservation-sweeper' }),
    intervalMs: settings.sweepIntervalMs,
  });
  infrastructure.onStop(() => sweeper.stop());
}
