import { loadConfig, startService } from '@shop/service-kit';
import { InventoryConfig } from './config.js';
import { inventoryService } from './service.js';

const service = await startService(inventoryService(loadConfig(InventoryConfig)));
service.shutdown.install();
