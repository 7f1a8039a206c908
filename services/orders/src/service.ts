import type { ServiceDefinition } from '@shop/service-kit';
import { registerOrdersApp } from './app.js';
import type { OrdersConfig } from './config.js';
import { ordersDatabase } from './db/index.js';
import { ordersConsumers, ordersStreams } from './messaging/topology.js';

/** Everything that makes this process the orders service; main.ts and the tests start it. */
export function ordersService(config: OrdersConfig): ServiceDefinition {
  return {
    name: 'orders',
    port: config.ORDERS_PORT,
    environment: config,
    database: ordersDatabase,
    streams: ordersStreams,
    consumers: ordersConsumers,
    register: registerOrdersApp,
  };
}
