import Type from 'typebox';
import { defineMessage, type MessageData } from '../message.js';
import { Money, Timestamp, Uuid } from '../primitives.js';
import { AddressSnapshot, Carrier, StockLine, StockLines } from './shared.js';

// Commands inventory receives from the order saga. Each is idempotent per (orderId, step):
// a resend replies the same outcome again and changes nothing.

/** Reserve every line or none. Quantities only: orders froze the prices when it accepted. */
export const ReserveStock = defineMessage(
  'inventory.commands.reserve',
  1,
  Type.Object({
    orderId: Uuid,
    customerId: Uuid,
    items: StockLines,
  }),
);
export type ReserveStock = MessageData<typeof ReserveStock>;

/** Give back what the order holds; a release of nothing still replies `StockReleased`. */
export const ReleaseStock = defineMessage(
  'inventory.commands.release',
  1,
  Type.Object({
    orderId: Uuid,
    // Recorded in the ledger notes, not acted on (e.g. `payment_declined`, `customer_request`).
    reason: Type.String({ minLength: 1 }),
  }),
);
export type ReleaseStock = MessageData<typeof ReleaseStock>;

/** Commit the reservation (stock leaves on-hand) and create the shipment. */
export const ShipOrder = defineMessage(
  'inventory.commands.ship',
  1,
  Type.Object({
    orderId: Uuid,
    orderNumber: Type.String({ minLength: 1 }),
    customerId: Uuid,
    items: StockLines,
    shippingAddress: AddressSnapshot,
    preferredCarrier: Type.Optional(Carrier),
  }),
);
export type ShipOrder = MessageData<typeof ShipOrder>;

// Replies to the saga.

export const StockReserved = defineMessage(
  'inventory.events.reservation.reserved',
  1,
  Type.Object({
    orderId: Uuid,
    items: StockLines,
    reservedAt: Timestamp,
    // After this the sweeper releases the stock unless the order shipped.
    expiresAt: Timestamp,
  }),
);
export type StockReserved = MessageData<typeof StockReserved>;

export const ReservationRejectionReason = Type.Union([
  Type.Literal('insufficient_stock'),
  Type.Literal('product_unavailable'),
]);

/** Nothing was reserved; each line that could not be met says why. */
export const StockReservationRejected = defineMessage(
  'inventory.events.reservation.rejected',
  1,
  Type.Object({
    orderId: Uuid,
    rejectedItems: Type.Array(
      Type.Object({
        productId: Uuid,
        reason: ReservationRejectionReason,
        requestedQuantity: Type.Integer({ minimum: 1 }),
        availableQuantity: Type.Optional(Type.Integer({ minimum: 0 })),
      }),
      { minItems: 1 },
    ),
    rejectedAt: Timestamp,
  }),
);
export type StockReservationRejected = MessageData<typeof StockReservationRejected>;

/** Reply to `ReleaseStock`; `items` is empty when the order held nothing. */
export const StockReleased = defineMessage(
  'inventory.events.reservation.released',
  1,
  Type.Object({
    orderId: Uuid,
    items: Type.Array(StockLine),
    reason: Type.String(),
    releasedAt: Timestamp,
  }),
);
export type StockReleased = MessageData<typeof StockReleased>;

/** The sweeper released a reservation no saga shipped within the TTL. */
export const ReservationExpired = defineMessage(
  'inventory.events.reservation.expired',
  1,
  Type.Object({
    orderId: Uuid,
    items: Type.Array(StockLine),
    reservedAt: Timestamp,
    expiredAt: Timestamp,
  }),
);
export type ReservationExpired = MessageData<typeof ReservationExpired>;

/** Reply to `ShipOrder`: the reservation is committed and the parcel has a tracking number. */
export const ShipmentCreated = defineMessage(
  'inventory.events.shipment.created',
  1,
  Type.Object({
    shipmentId: Uuid,
    orderId: Uuid,
    items: StockLines,
    carrier: Carrier,
    trackingNumber: Type.String({ minLength: 1 }),
    labelUrl: Type.String(),
    estimatedDelivery: Type.Union([Timestamp, Type.Null()]),
    shippedAt: Timestamp,
  }),
);
export type ShipmentCreated = MessageData<typeof ShipmentCreated>;

export const ShipmentDelivered = defineMessage(
  'inventory.events.shipment.delivered',
  1,
  Type.Object({
    shipmentId: Uuid,
    orderId: Uuid,
    carrier: Carrier,
    trackingNumber: Type.String({ minLength: 1 }),
    deliveredAt: Timestamp,
  }),
);
export type ShipmentDelivered = MessageData<typeof ShipmentDelivered>;

// Catalog facts, for read models elsewhere (orders keeps prices and active flags). Created and
// updated carry the whole public product, so a reader upserts and never needs the previous
// event; `updatedAt` lets it drop an update older than what it holds.

const ProductProperties = {
  productId: Uuid,
  sku: Type.String({ minLength: 1 }),
  name: Type.String({ minLength: 1 }),
  description: Type.Union([Type.String(), Type.Null()]),
  category: Type.String({ minLength: 1 }),
  price: Money,
  imageUrl: Type.Union([Type.String(), Type.Null()]),
  isActive: Type.Boolean(),
  updatedAt: Timestamp,
};

export const ProductCreated = defineMessage(
  'inventory.events.product.created',
  1,
  Type.Object({ ...ProductProperties, createdAt: Timestamp }),
);
export type ProductCreated = MessageData<typeof ProductCreated>;

export const ProductUpdated = defineMessage(
  'inventory.events.product.updated',
  1,
  Type.Object(ProductProperties),
);
export type ProductUpdated = MessageData<typeof ProductUpdated>;

/** The product can no longer be ordered; existing reservations are not touched. */
export const ProductDeactivated = defineMessage(
  'inventory.events.product.deactivated',
  1,
  Type.Object({
    productId: Uuid,
    sku: Type.String({ minLength: 1 }),
    deactivatedAt: Timestamp,
  }),
);
export type ProductDeactivated = MessageData<typeof ProductDeactivated>;

/**
 * Stock levels of one product after a change, as absolute numbers so a reader that missed an
 * event is still right after the next one.
 */
export const StockChanged = defineMessage(
  'inventory.events.stock.changed',
  1,
  Type.Object({
    productId: Uuid,
    quantityOnHand: Type.Integer({ minimum: 0 }),
    quantityReserved: Type.Integer({ minimum: 0 }),
    quantityAvailable: Type.Integer({ minimum: 0 }),
    // What moved it, for logs and dashboards, not to branch on: a ledger type (`purchase`,
    // `sale`, `adjustment`, `count_variance`, `return`) or `reservation` / `release`.
    reason: Type.String({ minLength: 1 }),
    orderId: Type.Union([Uuid, Type.Null()]),
    changedAt: Timestamp,
    // Grows with every change of the product's stock row, so a reader (inventory's own
    // availability cache) can drop an event older than what it holds.
    version: Type.Optional(Type.Integer({ minimum: 1 })),
  }),
);
export type StockChanged = MessageData<typeof StockChanged>;
