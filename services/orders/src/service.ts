import type { ServiceDefinition } from '@shop/service-kit';
import { registerOrdersApp } from './app.js';
import { sagaSettings, type OrdersConfig } from './config.js';
import { ordersDatabase } from './db/index.js';
import { ordersConsumers, ordersStreams } from './messaging/topology.js';
import { createSagaMetrics } from './saga/metrics.js';
import type { SagaRuntime } from './saga/runtime.js';

/** Everything that makes this process the orders service; main.ts and the tests start it. */
export function ordersService(config: OrdersConfig): ServiceDefinition {
  const metrics = createSagaMetrics();
  const runtime: SagaRuntime = {
    settings: sagaSettings(config),
    onNeedsAttention: () => metrics.needsAttention(),
  };
  return {
    name: 'orders',
    port: config.ORDERS_PORT,
    environment: config,
    database: ordersDatabase,
    streams: ordersStreams,
    consumers: ordersConsumers(runtime),
    register: (app, infrastructure) =>
      registerOrdersApp(app, infrastructure, { config, runtime, metrics }),
  };
}
