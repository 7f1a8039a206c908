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
    createAuditLogsPartitioningMigration(),
  ],
};
