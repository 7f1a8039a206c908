import { loadConfig, startService } from '@shop/service-kit';
import { registerInventoryApp } from './app.js';
import { InventoryConfig } from './config.js';
import { inventoryDatabase } from './db/index.js';
import { inventoryConsumers, inventoryStreams } from './messaging/topology.js';

const config = loadConfig(InventoryConfig);
const service = await startService({
  name: 'inventory',
  port: config.INVENTORY_PORT,
  environment: config,
  database: inventoryDatabase,
  streams: inventoryStreams,
  consumers: inventoryConsumers,
  register: registerInventoryApp,
});
service.shutdown.install();
