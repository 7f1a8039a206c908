import {
  Carrier,
  Money,
  Page,
  PageQueryProperties,
  ProblemDetails,
  StrictObject,
  Timestamp,
  Uuid,
} from '@shop/contracts';
import Type from 'typebox';

// HTTP shapes of the inventory service. Bodies are strict (unknown fields are 400); responses
// are plain objects so adding a field never breaks a client.

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

// At least one character that is not a space: "   " is not a name.
const Text = (maxLength: number) => Type.String({ minLength: 1, maxLength, pattern: '\\S' });
const Quantity = Type.Integer({ minimum: 0, maximum: 1_000_000 });

export const Sku = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' });
const ImageUrl = Type.String({ format: 'uri', pattern: '^https?://', maxLength: 2048 });
const Description = Type.String({ maxLength: 5000 });
const WarehouseLocation = Text(50);
const ReorderPoint = Type.Integer({ minimum: 1, maximum: 1_000_000 });

export const IdParams = Type.Object({ id: Uuid });
export const ProductIdParams = Type.Object({ productId: Uuid });

export const CreateProductBody = StrictObject({
  sku: Sku,
  name: Text(200),
  description: Type.Optional(Description),
  category: Text(100),
  price: Money,
  cost: Type.Optional(Money),
  imageUrl: Type.Optional(ImageUrl),
  initialStock: Type.Optional(Quantity),
  reorderPoint: ReorderPoint,
  warehouseLocation: Type.Optional(WarehouseLocation),
});

/** Everything but the SKU and the stock, which move only through the ledger. */
export const UpdateProductBody = StrictObject(
  {
    name: Type.Optional(Text(200)),
    description: Type.Optional(Nullable(Description)),
    category: Type.Optional(Text(100)),
    price: Type.Optional(Money),
    cost: Type.Optional(Nullable(Money)),
    imageUrl: Type.Optional(Nullable(ImageUrl)),
    reorderPoint: Type.Optional(ReorderPoint),
    warehouseLocation: Type.Optional(Nullable(WarehouseLocation)),
  },
  { minProperties: 1 },
);

export const CatalogQuery = StrictObject({
  ...PageQueryProperties,
  category: Type.Optional(Text(100)),
  q: Type.Optional(Text(100)),
});

export const CatalogProduct = Type.Object({
  id: Uuid,
  sku: Type.String(),
  name: Type.String(),
  description: Nullable(Type.String()),
  category: Type.String(),
  price: Money,
  imageUrl: Nullable(Type.String()),
  available: Type.Integer({ minimum: 0 }),
});

/** What staff get back from writes: the public fields and the ones only staff manage. */
export const StaffProduct = Type.Object({
  ...CatalogProduct.properties,
  cost: Nullable(Money),
  isActive: Type.Boolean(),
  reorderPoint: Type.Integer(),
  warehouseLocation: Nullable(Type.String()),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

export const StockView = Type.Object({
  productId: Uuid,
  quantityOnHand: Type.Integer(),
  quantityReserved: Type.Integer(),
  quantityAvailable: Type.Integer(),
  reorderPoint: Type.Integer(),
  warehouseLocation: Nullable(Type.String()),
  updatedAt: Timestamp,
  lastCountedAt: Nullable(Timestamp),
});

export const LowStockItem = Type.Object({
  ...StockView.properties,
  sku: Type.String(),
  name: Type.String(),
});

export const AdjustmentBody = StrictObject({
  type: Type.Union([
    Type.Literal('purchase'),
    Type.Literal('adjustment'),
    Type.Literal('count_variance'),
    Type.Literal('return'),
  ]),
  quantityChange: Type.Integer({ minimum: -1_000_000, maximum: 1_000_000 }),
  notes: Type.Optional(Type.String({ maxLength: 500 })),
});

export const LedgerEntryView = Type.Object({
  id: Uuid,
  productId: Uuid,
  orderId: Nullable(Uuid),
  type: Type.Union([
    Type.Literal('purchase'),
    Type.Literal('sale'),
    Type.Literal('adjustment'),
    Type.Literal('count_variance'),
    Type.Literal('return'),
  ]),
  quantityChange: Type.Integer(),
  notes: Nullable(Type.String()),
  createdBy: Nullable(Uuid),
  createdAt: Timestamp,
});

export const ShipmentView = Type.Object({
  id: Uuid,
  orderId: Uuid,
  carrier: Carrier,
  trackingNumber: Type.String(),
  labelUrl: Type.String(),
  estimatedDelivery: Nullable(Timestamp),
  shippedAt: Timestamp,
  deliveredAt: Nullable(Timestamp),
});

export const LookupBody = StrictObject({
  ids: Type.Array(Uuid, { minItems: 1, maxItems: 100, uniqueItems: true }),
});

export const LookupItem = Type.Object({
  id: Uuid,
  sku: Type.String(),
  name: Type.String(),
  price: Money,
  isActive: Type.Boolean(),
});

export const LookupResult = Type.Object({ items: Type.Array(LookupItem) });

export { Page, ProblemDetails };

/** The error answers a route documents besides its success (OpenAPI). */
export const problems = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((status) => [status, ProblemDetails]));
