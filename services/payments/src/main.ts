import { loadConfig, startService } from '@shop/service-kit';
import { PaymentsConfig } from './config.js';
import { paymentsService } from './service.js';

const service = await startService(paymentsService(loadConfig(PaymentsConfig)));
service.shutdown.install();
