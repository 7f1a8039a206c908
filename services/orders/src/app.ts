import { createServiceClient, type HttpApp, type ServiceInfrastructure } from '@shop/service-kit';
import type { OrdersConfig } from './config.js';
import { createReferences } from './application/references.js';
import type { PlaceOrderDeps } from './application/place-order.js';
import { registerOrderActionRoutes } from './routes/order-actions.js';
import { registerOrderRoutes } from './routes/orders.js';
import { registerSagaRoutes } from './routes/sagas.js';
import { startDeadlineTimer } from './saga/deadline-timer.js';
import type { SagaMetrics } from './saga/metrics.js';
import type { SagaRuntime } from './saga/runtime.js';

/** Orders are charged in one currency for now; every message carries it so this can change. */
const CURRENCY = 'USD';

/**
 * The orders service's routes and background work, registered on a server that already has
 * health, metrics, docs, auth and problem+json handling.
 */
export function registerOrdersApp(
  app: HttpApp,
  infrastructure: ServiceInfrastructure,
  settings: { config: OrdersConfig; runtime: SagaRuntime; metrics: SagaMetrics },
): void {
  const { config, runtime, metrics } = settings;
  const { dataSource, logger, registry } = infrastructure;
  metrics.attach(registry, dataSource);

  const client = (name: string, baseUrl: string) =>
    createServiceClient({
      name,
      baseUrl,
      internalToken: infrastructure.secrets.internalToken,
      registry,
      logger,
    });
  const deps: PlaceOrderDeps = {
    dataSource,
    references: createReferences({
      users: client('users', config.USERS_URL),
      inventory: client('inventory', config.INVENTORY_URL),
    }),
    taxRates: config.TAX_RATES_BPS,
    runtime,
    currency: CURRENCY,
    logger,
  };

  registerOrderRoutes(app, deps);
  registerOrderActionRoutes(app, deps);
  registerSagaRoutes(app, deps);

  const timer = startDeadlineTimer({
    dataSource,
    runtime,
    logger,
    intervalMs: config.SAGA_TIMER_INTERVAL_MS,
    onPostponed: () => metrics.deadlinePostponed(),
  });
  infrastructure.onStop(() => timer.stop());
}
