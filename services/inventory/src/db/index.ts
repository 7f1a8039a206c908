import {
  AuditLog,
  createAuditLogsMigration,
  createAuditLogsPartitioningMigration,
  messagingMigrations,
} from '@shop/service-kit';
import { InventoryItem } from './entities/inventory-item.entity.js';
import { InventoryTransaction } from './entities/inventory-transaction.entity.js';
import { Product } from './entities/product.entity.js';
import { Reservation } from './entities/reservation.entity.js';
import { Shipment } from './entities/shipment.entity.js';
import { CreateCatalogAndStock1767400000000 } from './migrations/1767400000000-create-catalog-and-stock.js';
import { ReservationTrace1795633093768 } from './migrations/1795633093768-reservation-trace.js';
import { QuantityAvailableNotNull1795636000000 } from './migrations/1795636000000-quantity-available-not-null.js';

/** The inventory schema: what the service owns, and the migrations that build it. */
export const inventoryDatabase = {
  schema: 'inventory',
  role: 'inventory_svc',
  entities: [AuditLog, Product, InventoryItem, InventoryTransaction, Reservation, Shipment],
  migrations: [
    ...messagingMigrations,
    createAuditLogsMigration({ entityTypes: ['product', 'inventory', 'shipment'] }),
    CreateCatalogAndStock1767400000000,
    ReservationTrace1795633093768,
    QuantityAvailableNotNull1795636000000,
    createAuditLogsPartitioningMigration(),
  ],
};
