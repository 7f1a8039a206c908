import Type, { type TSchema } from 'typebox';
import {
  Page,
  PageQueryProperties,
  ProblemDetails,
  StrictObject,
  Timestamp,
  Uuid,
} from '@shop/contracts';
import { SAGA_STATES } from '../domain/saga/types.js';

// Request and response shapes of the orders routes. Bodies are strict (unknown fields are 400);
// responses are plain objects, so adding a field never breaks a client.

const literals = <const T extends readonly string[]>(values: T) => Type.Enum(values);

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const OrderStatusSchema = literals([
  'pending',
  'confirmed',
  'shipped',
  'delivered',
  'cancelled',
]);
const CancellationReasonSchema = literals([
  'insufficient_stock',
  'product_unavailable',
  'payment_declined',
  'payment_failed',
  'customer_request',
  'reservation_expired',
]);

export const CreateOrderBody = StrictObject({
  items: Type.Array(
    StrictObject({
      productId: Uuid,
      quantity: Type.Integer({ minimum: 1, maximum: 1000 }),
    }),
    { minItems: 1, maxItems: 50 },
  ),
  shippingAddressId: Uuid,
  billingAddressId: Type.Optional(Uuid),
  paymentMethodId: Uuid,
  /** Staff ordering for a customer; a customer may only name themselves. */
  customerId: Type.Optional(Uuid),
});

export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
});

export const PayBody = StrictObject({ paymentMethodId: Uuid });

export const OrderIdParams = Type.Object({ id: Uuid });
export const OrderNumberParams = Type.Object({
  orderNumber: Type.String({ minLength: 1, maxLength: 50 }),
});

export const ListOrdersQuery = StrictObject({
  ...PageQueryProperties,
  customerId: Type.Optional(Uuid),
  status: Type.Optional(OrderStatusSchema),
});

export const ListSagasQuery = StrictObject({
  ...PageQueryProperties,
  state: Type.Optional(literals(SAGA_STATES)),
});

const AddressSnapshotSchema = Type.Object({
  addressId: Uuid,
  line1: Type.String(),
  // Always present, null when empty: the same shape as the user's address it was taken from.
  line2: Type.Union([Type.String(), Type.Null()]),
  city: Type.String(),
  state: Type.String(),
  country: Type.String(),
  postalCode: Type.String(),
});

export const OrderSchema = Type.Object({
  id: Uuid,
  orderNumber: Type.String(),
  customerId: Uuid,
  status: OrderStatusSchema,
  cancellationReason: Nullable(CancellationReasonSchema),
  items: Type.Array(
    Type.Object({
      productId: Uuid,
      sku: Type.String(),
      quantity: Type.Integer(),
      unitPrice: Type.Integer(),
      lineTotal: Type.Integer(),
    }),
  ),
  subtotal: Type.Integer(),
  shippingCost: Type.Integer(),
  tax: Type.Integer(),
  total: Type.Integer(),
  shippingAddress: AddressSnapshotSchema,
  paymentMethodId: Uuid,
  payment: Nullable(
    Type.Object({
      status: literals(['pending', 'succeeded', 'failed', 'refunded']),
      attempts: Type.Integer(),
    }),
  ),
  shipment: Nullable(
    Type.Object({
      id: Uuid,
      carrier: Type.String(),
      trackingNumber: Type.String(),
      estimatedDelivery: Nullable(Timestamp),
      shippedAt: Timestamp,
      deliveredAt: Nullable(Timestamp),
    }),
  ),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  shippedAt: Nullable(Timestamp),
  deliveredAt: Nullable(Timestamp),
  cancelledAt: Nullable(Timestamp),
});

export const OrderPage = Page(OrderSchema);

export const TimelineSchema = Type.Object({
  items: Type.Array(
    Type.Object({
      at: Timestamp,
      step: Type.String(),
      outcome: Type.String(),
      detail: Nullable(Type.String()),
    }),
  ),
});

export const SagaSummarySchema = Type.Object({
  orderId: Uuid,
  orderNumber: Type.String(),
  state: literals(SAGA_STATES),
  stuckIn: Nullable(literals(SAGA_STATES)),
  paymentAttempts: Type.Integer(),
  stepResends: Type.Integer(),
  nextDeadlineAt: Nullable(Timestamp),
  lastError: Nullable(Type.String()),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

export const SagaPage = Page(SagaSummarySchema);

export const problems = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((status) => [status, ProblemDetails]));
