import { AuditLog, createAuditLogsMigration, messagingMigrations } from '@shop/service-kit';

/** The payments schema: what the service owns, and the migrations that build it. */
export const paymentsDatabase = {
  schema: 'payments',
  role: 'payments_svc',
  entities: [AuditLog],
  migrations: [
    ...messagingMigrations,
    createAuditLogsMigration({ entityTypes: ['payment', 'refund'] }),
  ],
};
