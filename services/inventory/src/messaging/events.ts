import { ProductCreated, ProductUpdated, StockChanged, type MessageData } from '@shop/contracts';
import { enqueueMessage } from '@shop/service-kit';
import type { EntityManager } from 'typeorm';
import type { Product } from '../db/entities/product.entity.js';
import type { StockLevels } from '../db/repositories/stock.js';

/** What moved the stock: a ledger type, or a reservation being taken or given back. */
export type StockChangeReason =
  | 'purchase'
  | 'sale'
  | 'adjustment'
  | 'count_variance'
  | 'return'
  | 'reservation'
  | 'release'
  | 'expiry';

/** Announces a stock row's new numbers, in the transaction that changed it (outbox). */
export async function announceStockChange(
  manager: EntityManager,
  levels: StockLevels,
  reason: StockChangeReason,
  orderId: string | null = null,
): Promise<void> {
  await enqueueMessage(manager, StockChanged, {
    productId: levels.productId,
    quantityOnHand: levels.quantityOnHand,
    quantityReserved: levels.quantityReserved,
    quantityAvailable: levels.quantityAvailable,
    reason,
    orderId,
    changedAt: new Date().toISOString(),
    version: levels.version,
  });
}

function productFacts(product: Product): MessageData<typeof ProductUpdated> {
  return {
    productId: product.id,
    sku: product.sku,
    name: product.name,
    description: product.description,
    category: product.category,
    price: product.price,
    imageUrl: product.imageUrl,
    isActive: product.isActive,
    updatedAt: product.updatedAt.toISOString(),
  };
}

export async function announceProductCreated(
  manager: EntityManager,
  product: Product,
): Promise<void> {
  await enqueueMessage(manager, ProductCreated, {
    ...productFacts(product),
    createdAt: product.createdAt.toISOString(),
  });
}

export async function announceProductUpdated(
  manager: EntityManager,
  product: Product,
): Promise<void> {
  await enqueueMessage(manager, ProductUpdated, productFacts(product));
}
