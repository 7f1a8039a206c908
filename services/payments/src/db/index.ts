import {
  AuditLog,
  createAuditLogsMigration,
  createAuditLogsPartitioningMigration,
  messagingMigrations,
} from '@shop/service-kit';
import { Payment } from './entities/payment.entity.js';
import { Refund } from './entities/refund.entity.js';
import { CreatePayments1796000000000 } from './migrations/1796000000000-create-payments.js';

/** The payments schema: what the service owns, and the migrations that build it. */
export const paymentsDatabase = {
  schema: 'payments',
  role: 'payments_svc',
  entities: [AuditLog, Payment, Refund],
  migrations: [
    ...messagingMigrations,
    createAuditLogsMigration({ entityTypes: ['payment', 'refund'] }),
    CreatePayments1796000000000,
    createAuditLogsPartitioningMigration(),
  ],
};
