import type { ServiceDefinition } from '@shop/service-kit';
import { registerInventoryApp } from './app.js';
import type { InventoryConfig } from './config.js';
import { inventoryDatabase } from './db/index.js';
import { inventoryConsumers, inventoryStreams } from './messaging/topology.js';

/** Everything that makes this process the inventory service; main.ts and the tests start it. */
export function inventoryService(config: InventoryConfig): ServiceDefinition {
  return {
    name: 'inventory',
    port: config.INVENTORY_PORT,
    environment: config,
    database: inventoryDatabase,
    streams: inventoryStreams,
    consumers: inventoryConsumers,
    register: registerInventoryApp,
  };
}
