import type { HttpApp, ServiceInfrastructure } from '@shop/service-kit';

/**
 * The orders service's routes and background work, registered on a server that already has
 * health, metrics, docs, auth and problem+json handling.
 */
export function registerOrdersApp(_app: HttpApp, _infrastructure: ServiceInfrastructure): void {
  // The domain routes arrive with the orders issue; until then the service serves health only.
}
