import type { HttpApp, ServiceInfrastructure } from '@shop/service-kit';

/**
 * The users service's routes and background work, registered on a server that already has
 * health, metrics, docs, auth and problem+json handling.
 */
export function registerUsersApp(_app: HttpApp, _infrastructure: ServiceInfrastructure): void {
  // The domain routes arrive with the users issue; until then the service serves health only.
}
