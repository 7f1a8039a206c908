import {
  ConflictError,
  atLeast,
  recordAudit,
  withTransaction,
  type HttpApp,
} from '@shop/service-kit';
import { ProductDeactivated } from '@shop/contracts';
import { enqueueMessage } from '@shop/service-kit';
import Type, { type Static } from 'typebox';
import type { EntityManager } from 'typeorm';
import { Product } from '../db/entities/product.entity.js';
import { parseCursor } from '../db/pagination.js';
import { productsRepository } from '../db/repositories/products.js';
import { stockRepository } from '../db/repositories/stock.js';
import {
  announceProductCreated,
  announceProductUpdated,
  announceStockChange,
} from '../messaging/events.js';
import {
  actorOf,
  isPgError,
  levelsOf,
  PgUniqueViolation,
  productNotFound,
  type RouteDependencies,
} from './context.js';
import {
  CatalogProduct,
  CatalogQuery,
  CreateProductBody,
  IdParams,
  Page,
  problems,
  StaffProduct,
  UpdateProductBody,
} from './schemas.js';
import { catalogProductView, staffProductView } from './views.js';

const MANAGERS = { roles: atLeast('manager') };
const PRODUCT_FIELDS = ['name', 'description', 'category', 'price', 'cost', 'imageUrl'] as const;

/** The catalog: public reads (availability from the cache), manager writes (Postgres). */
export function registerProductRoutes(app: HttpApp, deps: RouteDependencies): void {
  const { dataSource, cache } = deps;
  const loadAvailability = (ids: string[]) => stockRepository(dataSource.manager).availability(ids);

  app.get(
    '/v1/products',
    {
      config: { auth: 'public' },
      schema: {
        tags: ['catalog'],
        summary: 'Active products, newest first; filter by category, search name and SKU',
        querystring: CatalogQuery,
        response: { 200: Page(CatalogProduct), ...problems(400) },
      },
    },
    async (request) => {
      const { limit = 20, cursor, category, q } = request.query;
      const page = await productsRepository(dataSource.manager).activePage({
        limit,
        after: parseCursor(cursor),
        ...(category === undefined ? {} : { category }),
        ...(q === undefined ? {} : { q }),
      });
      const available = await cache.read(
        page.entries.map((entry) => entry.id),
        loadAvailability,
      );
      return {
        items: page.entries.map((entry) => catalogProductView(entry, available.get(entry.id) ?? 0)),
        nextCursor: page.nextCursor,
      };
    },
  );

  app.get(
    '/v1/products/:id',
    {
      config: { auth: 'public' },
      schema: {
        tags: ['catalog'],
        summary: 'One active product with its availability',
        params: IdParams,
        response: { 200: CatalogProduct, ...problems(400, 404) },
      },
    },
    async (request) => {
      const product = await productsRepository(dataSource.manager).findById(request.params.id);
      // An inactive product is off the public catalog, as if it did not exist.
      if (!product?.isActive) throw productNotFound();
      const available = await cache.read([product.id], loadAvailability);
      return catalogProductView(product, available.get(product.id) ?? 0);
    },
  );

  app.post(
    '/v1/products',
    {
      config: { auth: MANAGERS },
      schema: {
        tags: ['catalog'],
        summary: 'Add a product, with its opening stock as a purchase in the ledger',
        body: CreateProductBody,
        response: { 201: StaffProduct, ...problems(400, 401, 403, 409, 413, 415) },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const actor = actorOf(request);
      const created = await withTransaction(dataSource, async (manager) => {
        const product = await insertProduct(manager, body);
        const stockRows = stockRepository(manager);
        const stock = await stockRows.create({
          productId: product.id,
          quantityOnHand: body.initialStock ?? 0,
          reorderPoint: body.reorderPoint,
          warehouseLocation: body.warehouseLocation ?? null,
        });
        if (stock.quantityOnHand > 0) {
          // On-hand is always the ledger's sum, opening stock included.
          await stockRows.appendLedger({
            productId: product.id,
            orderId: null,
            type: 'purchase',
            quantityChange: stock.quantityOnHand,
            notes: 'initial stock',
            createdBy: actor.userId,
          });
        }
        await recordAudit(manager, {
          ...actor,
          entityType: 'product',
          entityId: product.id,
          action: 'create',
          after: product,
        });
        await recordAudit(manager, {
          ...actor,
          entityType: 'inventory',
          entityId: stock.id,
          action: 'create',
          after: stock,
        });
        await announceProductCreated(manager, product);
        await announceStockChange(manager, levelsOf(stock), 'purchase');
        return { product, stock };
      });
      await cache.store({
        productId: created.product.id,
        available: created.stock.quantityAvailable,
        version: created.stock.version,
      });
      return reply.code(201).send(staffProductView(created.product, created.stock));
    },
  );

  app.patch(
    '/v1/products/:id',
    {
      config: { auth: MANAGERS },
      schema: {
        tags: ['catalog'],
        summary: 'Change a product (not its SKU, not its stock)',
        params: IdParams,
        body: UpdateProductBody,
        response: { 200: StaffProduct, ...problems(400, 401, 403, 404, 413, 415) },
      },
    },
    async (request) => {
      const body = request.body;
      const actor = actorOf(request);
      return withTransaction(dataSource, async (manager) => {
        const product = await lockProduct(manager, request.params.id);
        const before = { ...product };
        for (const field of PRODUCT_FIELDS) {
          const value = body[field];
          if (value !== undefined) Object.assign(product, { [field]: value });
        }
        const audit = await recordAudit(manager, {
          ...actor,
          entityType: 'product',
          entityId: product.id,
          action: 'update',
          before,
          after: product,
        });
        let saved = product;
        if (audit) {
          saved = await productsRepository(manager).save(product);
          await announceProductUpdated(manager, saved);
        }

        const stockRows = stockRepository(manager);
        const stockBefore = await stockRows.findByProductId(product.id);
        if (!stockBefore) throw new Error(`product ${product.id} has no stock row`);
        const settings = {
          ...(body.reorderPoint === undefined ? {} : { reorderPoint: body.reorderPoint }),
          ...(body.warehouseLocation === undefined
            ? {}
            : { warehouseLocation: body.warehouseLocation }),
        };
        await stockRows.updateSettings(product.id, settings);
        const stock = { ...stockBefore, ...settings };
        await recordAudit(manager, {
          ...actor,
          entityType: 'inventory',
          entityId: stockBefore.id,
          action: 'update',
          before: stockBefore,
          after: stock,
        });
        return staffProductView(saved, stock);
      });
    },
  );

  app.delete(
    '/v1/products/:id',
    {
      config: { auth: MANAGERS },
      schema: {
        tags: ['catalog'],
        summary: 'Deactivate a product: it stays in history but can no longer be ordered',
        params: IdParams,
        response: { 204: Type.Null(), ...problems(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      await withTransaction(dataSource, async (manager) => {
        const product = await lockProduct(manager, request.params.id);
        // Deactivating twice is harmless: the second time changes and announces nothing.
        if (!product.isActive) return;
        const before = { ...product };
        product.isActive = false;
        const saved = await productsRepository(manager).save(product);
        await recordAudit(manager, {
          ...actor,
          entityType: 'product',
          entityId: product.id,
          action: 'delete',
          before,
        });
        await enqueueMessage(manager, ProductDeactivated, {
          productId: saved.id,
          sku: saved.sku,
          deactivatedAt: saved.updatedAt.toISOString(),
        });
      });
      return reply.code(204).send(null);
    },
  );
}

async function insertProduct(
  manager: EntityManager,
  body: Static<typeof CreateProductBody>,
): Promise<Product> {
  try {
    return await productsRepository(manager).insert({
      sku: body.sku,
      name: body.name,
      description: body.description ?? null,
      category: body.category,
      price: body.price,
      cost: body.cost ?? null,
      imageUrl: body.imageUrl ?? null,
      isActive: true,
    });
  } catch (error) {
    if (isPgError(error, PgUniqueViolation)) {
      throw new ConflictError('sku_taken', `A product with SKU ${body.sku} already exists.`);
    }
    throw error;
  }
}

/** The product row, locked until commit so concurrent edits apply one after the other. */
async function lockProduct(manager: EntityManager, id: string): Promise<Product> {
  const product = await manager
    .getRepository(Product)
    .findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
  if (!product) throw productNotFound();
  return product;
}
