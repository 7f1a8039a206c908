import { ConfigError, startService, withDefaultAddresses } from '@shop/service-kit';
import { parseOrdersConfig, type OrdersConfig } from './config.js';
import { ordersService } from './service.js';

function loadOrdersConfig(): OrdersConfig {
  try {
    return parseOrdersConfig(withDefaultAddresses(process.env));
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // One line and out, before anything starts (as loadConfig does for plain schemas).
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}

const service = await startService(ordersService(loadOrdersConfig()));
service.shutdown.install();
