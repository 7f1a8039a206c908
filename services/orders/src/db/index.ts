import { AuditLog, createAuditLogsMigration, messagingMigrations } from '@shop/service-kit';

/** The orders schema: what the service owns, and the migrations that build it. */
export const ordersDatabase = {
  schema: 'orders',
  role: 'orders_svc',
  entities: [AuditLog],
  migrations: [...messagingMigrations, createAuditLogsMigration({ entityTypes: ['order'] })],
};
