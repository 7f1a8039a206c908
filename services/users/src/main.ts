import { loadConfig, startService } from '@shop/service-kit';
import { registerUsersApp } from './app.js';
import { UsersConfig } from './config.js';
import { usersDatabase } from './db/index.js';
import { usersConsumers, usersStreams } from './messaging/topology.js';

const config = loadConfig(UsersConfig);
const service = await startService({
  name: 'users',
  port: config.USERS_PORT,
  environment: config,
  database: usersDatabase,
  streams: usersStreams,
  consumers: usersConsumers,
  register: registerUsersApp,
});
service.shutdown.install();
