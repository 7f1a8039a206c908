import { loadConfig, startService } from '@shop/service-kit';
import { OrdersConfig } from './config.js';
import { ordersService } from './service.js';

const service = await startService(ordersService(loadConfig(OrdersConfig)));
service.shutdown.install();
