import type { HttpApp, ServiceInfrastructure } from '@shop/service-kit';
import { createReconciler } from './application/reconciler.js';
import type { PaymentsConfig } from './config.js';
import type { GuardedProvider } from './payment-provider/index.js';
import { registerPaymentRoutes } from './routes/payments.js';

/**
 * The payments service's routes and background work, registered on a server that already has
 * health, metrics, docs, auth and problem+json handling.
 */
export function registerPaymentsApp(
  app: HttpApp,
  infrastructure: ServiceInfrastructure,
  deps: { config: PaymentsConfig; provider: GuardedProvider },
): void {
  registerPaymentRoutes(app, infrastructure);
  const reconciler = createReconciler({
    dataSource: infrastructure.dataSource,
    provider: deps.provider,
    logger: infrastructure.logger.child({ component: 'reconciler' }),
    intervalMs: deps.config.PAYMENTS_RECONCILE_INTERVAL_MS,
    afterMs: deps.config.PAYMENTS_RECONCILE_AFTER_MS,
  });
  reconciler.start();
  infrastructure.onStop(() => reconciler.stop());
  infrastructure.onStop(() => deps.provider.shutdown());
}
