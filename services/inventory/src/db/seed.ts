import { recordAudit, withTransaction } from '@shop/service-kit';
import type { DataSource } from 'typeorm';
import { announceProductCreated, announceStockChange } from '../messaging/events.js';
import { Product } from './entities/product.entity.js';
import { productsRepository } from './repositories/products.js';
import { stockRepository } from './repositories/stock.js';

interface DemoProduct {
  sku: string;
  name: string;
  description: string;
  category: string;
  price: number;
  cost: number;
  stock: number;
  reorderPoint: number;
  warehouseLocation: string;
}

const DEMO_CATALOG: readonly DemoProduct[] = [
  {
    sku: 'TEE-BLK-M',
    name: 'Black cotton tee, M',
    description: 'Heavyweight organic cotton.',
    category: 'apparel',
    price: 2400,
    cost: 900,
    stock: 120,
    reorderPoint: 20,
    warehouseLocation: 'A-01-01',
  },
  {
    sku: 'TEE-WHT-L',
    name: 'White cotton tee, L',
    description: 'Heavyweight organic cotton.',
    category: 'apparel',
    price: 2400,
    cost: 900,
    stock: 80,
    reorderPoint: 20,
    warehouseLocation: 'A-01-02',
  },
  {
    sku: 'MUG-ENML-12',
    name: 'Enamel camp mug',
    description: '12 oz, dishwasher safe.',
    category: 'kitchen',
    price: 1800,
    cost: 600,
    stock: 60,
    reorderPoint: 10,
    warehouseLocation: 'B-02-01',
  },
  {
    sku: 'BTL-STL-750',
    name: 'Steel water bottle',
    description: '750 ml, double walled.',
    category: 'kitchen',
    price: 3200,
    cost: 1300,
    stock: 45,
    reorderPoint: 10,
    warehouseLocation: 'B-02-04',
  },
  {
    sku: 'NB-DOT-A5',
    name: 'Dotted notebook A5',
    description: '192 pages, lay-flat binding.',
    category: 'stationery',
    price: 1500,
    cost: 450,
    stock: 200,
    reorderPoint: 40,
    warehouseLocation: 'C-03-02',
  },
  {
    sku: 'PEN-GEL-BLK',
    name: 'Gel pen, black',
    description: '0.5 mm, refillable.',
    category: 'stationery',
    price: 350,
    cost: 90,
    stock: 500,
    reorderPoint: 100,
    warehouseLocation: 'C-03-05',
  },
  {
    sku: 'LAMP-DESK-LED',
    name: 'LED desk lamp',
    description: 'Dimmable, USB-C powered.',
    category: 'home',
    price: 5900,
    cost: 2600,
    stock: 8,
    reorderPoint: 10,
    warehouseLocation: 'D-01-01',
  },
];

/**
 * Adds the demo catalog with its stock, the same way POST /v1/products does (ledger, audit,
 * events through the outbox). Idempotent: a SKU already present is left as it is, so running it
 * again adds nothing. Returns the SKUs it added.
 */
export async function seedDemoCatalog(dataSource: DataSource): Promise<string[]> {
  const added: string[] = [];
  for (const demo of DEMO_CATALOG) {
    const created = await withTransaction(dataSource, async (manager) => {
      // Serializes seeders of the same SKU: two runs at once still add it once.
      await manager.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`seed:${demo.sku}`]);
      const existing = await manager
        .getRepository(Product)
        .createQueryBuilder('product')
        .where('lower(product.sku) = lower(:sku)', { sku: demo.sku })
        .getExists();
      if (existing) return false;
      const product = await productsRepository(manager).insert({
        sku: demo.sku,
        name: demo.name,
        description: demo.description,
        category: demo.category,
        price: demo.price,
        cost: demo.cost,
        imageUrl: null,
        isActive: true,
      });
      const stockRows = stockRepository(manager);
      const stock = await stockRows.create({
        productId: product.id,
        quantityOnHand: demo.stock,
        reorderPoint: demo.reorderPoint,
        warehouseLocation: demo.warehouseLocation,
      });
      await stockRows.appendLedger({
        productId: product.id,
        orderId: null,
        type: 'purchase',
        quantityChange: demo.stock,
        notes: 'demo seed',
        createdBy: null,
      });
      await recordAudit(manager, {
        entityType: 'product',
        entityId: product.id,
        action: 'create',
        after: product,
      });
      await announceProductCreated(manager, product);
      await announceStockChange(
        manager,
        {
          inventoryId: stock.id,
          productId: product.id,
          quantityOnHand: stock.quantityOnHand,
          quantityReserved: stock.quantityReserved,
          quantityAvailable: stock.quantityAvailable,
          version: stock.version,
        },
        'purchase',
      );
      return true;
    });
    if (created) added.push(demo.sku);
  }
  return added;
}
