import { AuditLog, createAuditLogsMigration, messagingMigrations } from '@shop/service-kit';

/** The inventory schema: what the service owns, and the migrations that build it. */
export const inventoryDatabase = {
  schema: 'inventory',
  role: 'inventory_svc',
  entities: [AuditLog],
  migrations: [
    ...messagingMigrations,
    createAuditLogsMigration({ entityTypes: ['product', 'inventory', 'shipment'] }),
  ],
};
