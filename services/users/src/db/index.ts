import { AuditLog, createAuditLogsMigration, messagingMigrations } from '@shop/service-kit';

/** The users schema: what the service owns, and the migrations that build it. */
export const usersDatabase = {
  schema: 'users',
  role: 'users_svc',
  entities: [AuditLog],
  migrations: [
    ...messagingMigrations,
    createAuditLogsMigration({ entityTypes: ['user', 'address', 'payment_method'] }),
  ],
};
