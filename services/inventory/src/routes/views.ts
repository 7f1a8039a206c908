import type { Static } from 'typebox';
import type { InventoryItem } from '../db/entities/inventory-item.entity.js';
import type { Product } from '../db/entities/product.entity.js';
import type { Shipment } from '../db/entities/shipment.entity.js';
import type { CatalogEntry } from '../db/repositories/products.js';
import type { LedgerEntry, LowStockRow } from '../db/repositories/stock.js';
import type {
  CatalogProduct,
  LedgerEntryView,
  LowStockItem,
  ShipmentView,
  StaffProduct,
  StockView,
} from './schemas.js';

// Rows to response bodies. Timestamps become ISO strings here, so the response serializer only
// ever sees strings and nulls.

const iso = (date: Date) => date.toISOString();
const isoOrNull = (date: Date | null) => (date ? date.toISOString() : null);

export function catalogProductView(
  product: CatalogEntry | Product,
  available: number,
): Static<typeof CatalogProduct> {
  return {
    id: product.id,
    sku: product.sku,
    name: product.name,
    description: product.description,
    category: product.category,
    price: product.price,
    imageUrl: product.imageUrl,
    available: Math.max(0, available),
  };
}

export function staffProductView(
  product: Product,
  stock: InventoryItem,
): Static<typeof StaffProduct> {
  return {
    ...catalogProductView(product, stock.quantityAvailable),
    cost: product.cost,
    isActive: product.isActive,
    reorderPoint: stock.reorderPoint,
    warehouseLocation: stock.warehouseLocation,
    createdAt: iso(product.createdAt),
    updatedAt: iso(product.updatedAt),
  };
}

export function stockView(stock: InventoryItem | LowStockRow): Static<typeof StockView> {
  return {
    productId: stock.productId,
    quantityOnHand: stock.quantityOnHand,
    quantityReserved: stock.quantityReserved,
    quantityAvailable: stock.quantityAvailable,
    reorderPoint: stock.reorderPoint,
    warehouseLocation: stock.warehouseLocation,
    updatedAt: iso(stock.updatedAt),
    lastCountedAt: isoOrNull(stock.lastCountedAt),
  };
}

export function lowStockView(row: LowStockRow): Static<typeof LowStockItem> {
  return { ...stockView(row), sku: row.sku, name: row.name };
}

export function ledgerEntryView(entry: LedgerEntry): Static<typeof LedgerEntryView> {
  return {
    id: entry.id,
    productId: entry.productId,
    orderId: entry.orderId,
    type: entry.type,
    quantityChange: entry.quantityChange,
    notes: entry.notes,
    createdBy: entry.createdBy,
    createdAt: iso(entry.createdAt),
  };
}

export function shipmentView(shipment: Shipment): Static<typeof ShipmentView> {
  return {
    id: shipment.id,
    orderId: shipment.orderId,
    carrier: shipment.carrier,
    trackingNumber: shipment.trackingNumber,
    labelUrl: shipment.labelUrl,
    estimatedDelivery: isoOrNull(shipment.estimatedDelivery),
    shippedAt: iso(shipment.shippedAt),
    deliveredAt: isoOrNull(shipment.deliveredAt),
  };
}
