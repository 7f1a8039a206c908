import Type, { type Static } from 'typebox';
import { defineMessage, type MessageData } from '../message.js';
import { Currency, Money, Timestamp, Uuid } from '../primitives.js';
import { AddressSnapshot, Carrier } from './shared.js';

// Facts about an order's life, published by orders as its saga moves. Every event names the
// order and its customer so a reader (notifications, analytics) needs nothing else.

const OrderIdentity = {
  orderId: Uuid,
  orderNumber: Type.String({ minLength: 1 }),
  customerId: Uuid,
};

export const OrderLine = Type.Object({
  productId: Uuid,
  sku: Type.Optional(Type.String()),
  quantity: Type.Integer({ minimum: 1 }),
  // Frozen when the order was accepted.
  unitPrice: Money,
  lineTotal: Money,
});

export const OrderCreated = defineMessage(
  'orders.events.order.created',
  1,
  Type.Object({
    ...OrderIdentity,
    items: Type.Array(OrderLine, { minItems: 1 }),
    subtotal: Money,
    shippingCost: Money,
    tax: Money,
    total: Money,
    currency: Currency,
    shippingAddress: AddressSnapshot,
    billingAddressId: Type.Union([Uuid, Type.Null()]),
    paymentMethodId: Uuid,
    createdAt: Timestamp,
  }),
);
export type OrderCreated = MessageData<typeof OrderCreated>;

/** Paid and stock held: the order will ship unless something breaks. */
export const OrderConfirmed = defineMessage(
  'orders.events.order.confirmed',
  1,
  Type.Object({
    ...OrderIdentity,
    paymentId: Uuid,
    total: Money,
    currency: Currency,
    confirmedAt: Timestamp,
  }),
);
export type OrderConfirmed = MessageData<typeof OrderConfirmed>;

export const OrderShipped = defineMessage(
  'orders.events.order.shipped',
  1,
  Type.Object({
    ...OrderIdentity,
    shipmentId: Uuid,
    carrier: Carrier,
    trackingNumber: Type.String({ minLength: 1 }),
    estimatedDelivery: Type.Union([Timestamp, Type.Null()]),
    shippedAt: Timestamp,
  }),
);
export type OrderShipped = MessageData<typeof OrderShipped>;

export const OrderDelivered = defineMessage(
  'orders.events.order.delivered',
  1,
  Type.Object({
    ...OrderIdentity,
    shipmentId: Uuid,
    deliveredAt: Timestamp,
  }),
);
export type OrderDelivered = MessageData<typeof OrderDelivered>;

/** The values API.md lists; a new one needs a new version of `OrderCancelled`. */
export const CancellationReason = Type.Union([
  Type.Literal('insufficient_stock'),
  Type.Literal('product_unavailable'),
  Type.Literal('payment_declined'),
  Type.Literal('payment_failed'),
  Type.Literal('customer_request'),
  Type.Literal('reservation_expired'),
]);
export type CancellationReason = Static<typeof CancellationReason>;

/** Final: stock released, and any charge refunded (`refunded` says whether one was). */
export const OrderCancelled = defineMessage(
  'orders.events.order.cancelled',
  1,
  Type.Object({
    ...OrderIdentity,
    cancellationReason: CancellationReason,
    refunded: Type.Boolean(),
    cancelledAt: Timestamp,
  }),
);
export type OrderCancelled = MessageData<typeof OrderCancelled>;
