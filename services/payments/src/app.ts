import type { HttpApp, ServiceInfrastructure } from '@shop/service-kit';

/**
 * The payments service's routes and background work, registered on a server that already has
 * health, metrics, docs, auth and problem+json handling.
 */
export function registerPaymentsApp(_app: HttpApp, _infrastructure: ServiceInfrastructure): void {
  // The domain routes arrive with the payments issue; until then the service serves health only.
}
