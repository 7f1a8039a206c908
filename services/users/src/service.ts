import type { ServiceDefinition } from '@shop/service-kit';
import { registerUsersApp } from './app.js';
import type { UsersConfig } from './config.js';
import { usersDatabase } from './db/index.js';
import { createUsersRepository } from './db/repositories/users.js';
import { usersConsumers, usersStreams } from './messaging/topology.js';

/** Everything that makes this process the users service; main.ts and the tests start it. */
export function usersService(config: UsersConfig): ServiceDefinition {
  return {
    name: 'users',
    port: config.USERS_PORT,
    environment: config,
    database: usersDatabase,
    // This service owns the accounts: when Redis cannot say whether a token was revoked, it
    // asks its own table instead of accepting the token unchecked.
    tokenVersions: (dataSource) => (userId) =>
      createUsersRepository(dataSource.manager).currentTokenVersion(userId),
    streams: usersStreams,
    consumers: usersConsumers,
    register: (app, infrastructure) => registerUsersApp(app, infrastructure, config),
  };
}
