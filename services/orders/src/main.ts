import { loadConfig, startService } from '@shop/service-kit';
import { registerOrdersApp } from './app.js';
import { OrdersConfig } from './config.js';
import { ordersDatabase } from './db/index.js';
import { ordersConsumers, ordersStreams } from './messaging/topology.js';

const config = loadConfig(OrdersConfig);
const service = await startService({
  name: 'orders',
  port: config.ORDERS_PORT,
  environment: config,
  database: ordersDatabase,
  streams: ordersStreams,
  consumers: ordersConsumers,
  register: registerOrdersApp,
});
service.shutdown.install();
