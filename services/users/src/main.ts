import { loadConfig, startService } from '@shop/service-kit';
import { UsersConfig } from './config.js';
import { usersService } from './service.js';

const service = await startService(usersService(loadConfig(UsersConfig)));
service.shutdown.install();
