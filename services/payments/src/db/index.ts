import {
  AuditLog,
  createAuditLogsMigration,
  createAuditLogsPartitioningMigration,
  messagingMigrations,
} from '@shop/service-kit';
import { Payment } from './entities/payment.entity.js';
import { Refund } from './entities/refund.entity.js';
import { CreatePayments1796000000000 } from './migrations/1796000000000-create-payments.js';
import { SoftDeletePayments1796000000001 } from './migrations/1796000000001-soft-delete-payments.js';
import { ValidatePaymentsSoftDeleteCheck1796000000002 } from './migrations/1796000000002-validate-payments-soft-delete-check.js';
import { PaymentsSoftDeleteIndex1796000000003 } from './migrations/1796000000003-payments-soft-delete-index.js';
import { RefundsOneLivePerPayment1796000100000 } from './migrations/1796000100000-refunds-one-live-per-payment.js';
import { RefundsDropOnePerPayment1796000100001 } from './migrations/1796000100001-refunds-drop-one-per-payment.js';

/** The payments schema: what the service owns, and the migrations that build it. */
export const paymentsDatabase = {
  schema: 'payments',
  role: 'payments_svc',
  entities: [AuditLog, Payment, Refund],
  migrations: [
    ...messagingMigrations,
    createAuditLogsMigration({ entityTypes: ['payment', 'refund'] }),
    CreatePayments1796000000000,
    SoftDeletePayments1796000000001,
    ValidatePaymentsSoftDeleteCheck1796000000002,
    PaymentsSoftDeleteIndex1796000000003,
    RefundsOneLivePerPayment1796000100000,
    RefundsDropOnePerPayment1796000100001,
    createAuditLogsPartitioningMigration(),
  ],
};
