import { returnedRows } from '@shop/service-kit';
import type { PageCursor } from '@shop/contracts';
import type { EntityManager } from 'typeorm';
import type { Availability } from '../../cache/availability-cache.js';
import type { LedgerType } from '../../domain/adjustments.js';
import { InventoryItem } from '../entities/inventory-item.entity.js';
import { cursorPositionSql, toPage } from '../pagination.js';

/** A stock row's numbers right after a change, as events and the cache need them. */
export interface StockLevels {
  inventoryId: string;
  productId: string;
  quantityOnHand: number;
  quantityReserved: number;
  quantityAvailable: number;
  version: number;
}

export interface LedgerEntry {
  id: string;
  productId: string;
  orderId: string | null;
  type: LedgerType;
  quantityChange: number;
  notes: string | null;
  createdBy: string | null;
  createdAt: Date;
}

const LEVELS = `id AS "inventoryId", product_id AS "productId", quantity_on_hand AS "quantityOnHand",
  quantity_reserved AS "quantityReserved", quantity_available AS "quantityAvailable",
  version::float8 AS version`;

// Every quantity change bumps the version and the timestamp in the same statement: raw SQL
// gets no @UpdateDateColumn from TypeORM.
const TOUCH = 'version = version + 1, updated_at = now()';

const LEDGER_COLUMNS = `id, product_id AS "productId", order_id AS "orderId", type,
  quantity_change AS "quantityChange", notes, created_by AS "createdBy", created_at AS "createdAt"`;

function first<Row>(result: unknown): Row | null {
  return returnedRows<Row>(result)[0] ?? null;
}

/**
 * The stock rows and the ledger. Quantities only move through the conditional statements here,
 * each touching one row by its unique product id, so concurrent writers queue on that row and
 * never overwrite one another; the table's CHECKs are the last word on what is allowed.
 */
export function stockRepository(manager: EntityManager) {
  return {
    async create(values: {
      productId: string;
      quantityOnHand: number;
      reorderPoint: number;
      warehouseLocation: string | null;
    }): Promise<InventoryItem> {
      const repository = manager.getRepository(InventoryItem);
      await repository.insert({ ...values, quantityReserved: 0, version: 1 });
      return repository.findOneByOrFail({ productId: values.productId });
    },

    findByProductId: (productId: string) =>
      manager.getRepository(InventoryItem).findOneBy({ productId }),

    async availability(productIds: readonly string[]): Promise<Availability[]> {
      return (await manager.query(
        `SELECT product_id AS "productId", quantity_available AS available, version::float8 AS version
           FROM inventory WHERE product_id = ANY($1::uuid[])`,
        [productIds],
      )) as Availability[];
    },

    /** Holds `quantity` if that much is free; null (and nothing changed) otherwise. */
    async reserve(productId: string, quantity: number): Promise<StockLevels | null> {
      return first<StockLevels>(
        await manager.query(
          `UPDATE inventory SET quantity_reserved = quantity_reserved + $2, ${TOUCH}
            WHERE product_id = $1 AND quantity_on_hand - quantity_reserved >= $2
            RETURNING ${LEVELS}`,
          [productId, quantity],
        ),
      );
    },

    /** Gives back held stock (release, expiry). */
    async unreserve(productId: string, quantity: number): Promise<StockLevels> {
      const levels = first<StockLevels>(
        await manager.query(
          `UPDATE inventory SET quantity_reserved = quantity_reserved - $2, ${TOUCH}
            WHERE product_id = $1 RETURNING ${LEVELS}`,
          [productId, quantity],
        ),
      );
      if (!levels) throw new Error(`no stock row for product ${productId}`);
      return levels;
    },

    /** Held stock leaves the shelf: on hand and reserved both drop (a sale). */
    async removeReserved(productId: string, quantity: number): Promise<StockLevels> {
      const levels = first<StockLevels>(
        await manager.query(
          `UPDATE inventory
              SET quantity_on_hand = quantity_on_hand - $2,
                  quantity_reserved = quantity_reserved - $2, ${TOUCH}
            WHERE product_id = $1 RETURNING ${LEVELS}`,
          [productId, quantity],
        ),
      );
      if (!levels) throw new Error(`no stock row for product ${productId}`);
      return levels;
    },

    /**
     * Changes on-hand by `change`; null when the product has no stock row. Going below zero or
     * below what is reserved is refused by the table's CHECKs (SQLSTATE 23514), which the caller
     * turns into a 422 after the transaction rolled back.
     */
    async adjust(
      productId: string,
      change: number,
      options: { counted: boolean },
    ): Promise<StockLevels | null> {
      return first<StockLevels>(
        await manager.query(
          `UPDATE inventory
              SET quantity_on_hand = quantity_on_hand + $2,
                  last_counted_at = CASE WHEN $3 THEN now() ELSE last_counted_at END, ${TOUCH}
            WHERE product_id = $1 RETURNING ${LEVELS}`,
          [productId, change, options.counted],
        ),
      );
    },

    async updateSettings(
      productId: string,
      settings: { reorderPoint?: number; warehouseLocation?: string | null },
    ): Promise<void> {
      if (Object.keys(settings).length === 0) return;
      await manager.getRepository(InventoryItem).update({ productId }, settings);
    },

    async appendLedger(entry: Omit<LedgerEntry, 'id' | 'createdAt'>): Promise<LedgerEntry> {
      const rows = (await manager.query(
        `INSERT INTO inventory_transactions
           (product_id, order_id, type, quantity_change, notes, created_by)
         VALUES ($1, $2, $3, $4, $5, $6)
         RETURNING ${LEDGER_COLUMNS}`,
        [
          entry.productId,
          entry.orderId,
          entry.type,
          entry.quantityChange,
          entry.notes,
          entry.createdBy,
        ],
      )) as LedgerEntry[];
      return rows[0]!;
    },

    /** The ledger of one product, newest first. */
    async ledgerPage(productId: string, limit: number, after: PageCursor | null) {
      const rows = (await manager.query(
        `SELECT ${LEDGER_COLUMNS}, ${cursorPositionSql('t')} AS "cursorAt"
           FROM inventory_transactions t
          WHERE t.product_id = $1
            AND ($2::timestamptz IS NULL OR (t.created_at, t.id) < ($2::timestamptz, $3::uuid))
          ORDER BY t.created_at DESC, t.id DESC
          LIMIT $4`,
        [productId, after?.createdAt ?? null, after?.id ?? null, limit + 1],
      )) as Array<LedgerEntry & { cursorAt: string }>;
      return toPage(rows, limit);
    },

    /** Stock rows below their reorder point (served by a partial index), newest first. */
    async lowStockPage(limit: number, after: PageCursor | null) {
      const rows = (await manager.query(
        `SELECT i.id, i.product_id AS "productId", p.sku, p.name,
                i.quantity_on_hand AS "quantityOnHand", i.quantity_reserved AS "quantityReserved",
                i.quantity_available AS "quantityAvailable", i.reorder_point AS "reorderPoint",
                i.warehouse_location AS "warehouseLocation", i.updated_at AS "updatedAt",
                i.last_counted_at AS "lastCountedAt", ${cursorPositionSql('i')} AS "cursorAt"
           FROM inventory i JOIN products p ON p.id = i.product_id
          WHERE i.quantity_available < i.reorder_point
            AND ($1::timestamptz IS NULL OR (i.created_at, i.id) < ($1::timestamptz, $2::uuid))
          ORDER BY i.created_at DESC, i.id DESC
          LIMIT $3`,
        [after?.createdAt ?? null, after?.id ?? null, limit + 1],
      )) as LowStockRow[];
      return toPage(rows, limit);
    },
  };
}

export interface LowStockRow {
  id: string;
  productId: string;
  sku: string;
  name: string;
  quantityOnHand: number;
  quantityReserved: number;
  quantityAvailable: number;
  reorderPoint: number;
  warehouseLocation: string | null;
  updatedAt: Date;
  lastCountedAt: Date | null;
  cursorAt: string;
}
