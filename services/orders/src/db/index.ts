import {
  AuditLog,
  createAuditLogsMigration,
  createAuditLogsPartitioningMigration,
  messagingMigrations,
} from '@shop/service-kit';
import { IdempotencyKey } from './entities/idempotency-key.entity.js';
import { OrderItem } from './entities/order-item.entity.js';
import { OrderSaga } from './entities/order-saga.entity.js';
import { Order } from './entities/order.entity.js';
import {
  CustomerAddress,
  CustomerPaymentMethod,
  ProductPrice,
} from './entities/read-models.entity.js';
import { SagaStep } from './entities/saga-step.entity.js';
import { CreateOrders1767312000000 } from './migrations/1767312000000-create-orders.js';
import { SagaFulfillmentHold1767398400000 } from './migrations/1767398400000-saga-fulfillment-hold.js';
import { SoftDeleteOrders1795635409143 } from './migrations/1795635409143-soft-delete-orders.js';
import { ValidateOrdersSoftDeleteCheck1795635409144 } from './migrations/1795635409144-validate-orders-soft-delete-check.js';
import { OrdersSoftDeleteIndex1795635409145 } from './migrations/1795635409145-orders-soft-delete-index.js';
import { SagaTraceAndDeadlineFailures1795640000000 } from './migrations/1795640000000-saga-trace-and-deadline-failures.js';
import { ValidateSagaDeadlineFailuresCheck1795640000001 } from './migrations/1795640000001-validate-saga-deadline-failures-check.js';

/** The orders schema: what the service owns, and the migrations that build it. */
export const ordersDatabase = {
  schema: 'orders',
  role: 'orders_svc',
  entities: [
    AuditLog,
    Order,
    OrderItem,
    OrderSaga,
    SagaStep,
    IdempotencyKey,
    ProductPrice,
    CustomerAddress,
    CustomerPaymentMethod,
  ],
  migrations: [
    ...messagingMigrations,
    createAuditLogsMigration({ entityTypes: ['order'] }),
    CreateOrders1767312000000,
    SagaFulfillmentHold1767398400000,
    SoftDeleteOrders1795635409143,
    ValidateOrdersSoftDeleteCheck1795635409144,
    OrdersSoftDeleteIndex1795635409145,
    SagaTraceAndDeadlineFailures1795640000000,
    ValidateSagaDeadlineFailuresCheck1795640000001,
    createAuditLogsPartitioningMigration(),
  ],
};
