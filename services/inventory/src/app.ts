import type { HttpApp, ServiceInfrastructure } from '@shop/service-kit';

/**
 * The inventory service's routes and background work, registered on a server that already has
 * health, metrics, docs, auth and problem+json handling.
 */
export function registerInventoryApp(_app: HttpApp, _infrastructure: ServiceInfrastructure): void {
  // The domain routes arrive with the inventory issue; until then the service serves health only.
}
