import { PageQuery } from '@shop/contracts';
import {
  STAFF_ROLES,
  UnprocessableError,
  recordAudit,
  withTransaction,
  type HttpApp,
} from '@shop/service-kit';
import { adjustmentProblem } from '../domain/adjustments.js';
import { parseCursor } from '../db/pagination.js';
import { productsRepository } from '../db/repositories/products.js';
import { stockRepository } from '../db/repositories/stock.js';
import { announceStockChange } from '../messaging/events.js';
import {
  actorOf,
  isPgError,
  PgCheckViolation,
  productNotFound,
  type RouteDependencies,
} from './context.js';
import {
  AdjustmentBody,
  LedgerEntryView,
  LowStockItem,
  Page,
  problems,
  ProductIdParams,
  StockView,
} from './schemas.js';
import { ledgerEntryView, lowStockView, stockView } from './views.js';

const STAFF = { roles: STAFF_ROLES };

/** Stock as the warehouse sees it: always read from Postgres, never from the cache. */
export function registerInventoryRoutes(app: HttpApp, deps: RouteDependencies): void {
  const { dataSource, cache } = deps;

  // Declared before /:productId; the router prefers the static path anyway.
  app.get(
    '/v1/inventory/low-stock',
    {
      config: { auth: STAFF },
      schema: {
        tags: ['inventory'],
        summary: 'Products whose available stock is below their reorder point',
        querystring: PageQuery,
        response: { 200: Page(LowStockItem), ...problems(400, 401, 403) },
      },
    },
    async (request) => {
      const { limit = 20, cursor } = request.query;
      const page = await stockRepository(dataSource.manager).lowStockPage(
        limit,
        parseCursor(cursor),
      );
      return { items: page.rows.map(lowStockView), nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/v1/inventory/:productId',
    {
      config: { auth: STAFF },
      schema: {
        tags: ['inventory'],
        summary: 'Stock levels of one product',
        params: ProductIdParams,
        response: { 200: StockView, ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const stock = await stockRepository(dataSource.manager).findByProductId(
        request.params.productId,
      );
      if (!stock) throw productNotFound();
      return stockView(stock);
    },
  );

  app.post(
    '/v1/inventory/:productId/adjustments',
    {
      config: { auth: STAFF },
      schema: {
        tags: ['inventory'],
        summary: 'Record a stock movement in the ledger; on-hand follows',
        params: ProductIdParams,
        body: AdjustmentBody,
        response: { 201: LedgerEntryView, ...problems(400, 401, 403, 404, 413, 415, 422) },
      },
    },
    async (request, reply) => {
      const { productId } = request.params;
      const { type, quantityChange, notes } = request.body;
      const problem = adjustmentProblem(type, quantityChange);
      if (problem) throw new UnprocessableError(problem, 'invalid_adjustment');
      const actor = actorOf(request);

      let result;
      try {
        result = await withTransaction(dataSource, async (manager) => {
          const stock = stockRepository(manager);
          const levels = await stock.adjust(productId, quantityChange, {
            counted: type === 'count_variance',
          });
          if (!levels) throw productNotFound();
          const entry = await stock.appendLedger({
            productId,
            orderId: null,
            type,
            quantityChange,
            notes: notes ?? null,
            createdBy: actor.userId,
          });
          await recordAudit(manager, {
            ...actor,
            entityType: 'inventory',
            entityId: levels.inventoryId,
            action: 'update',
            before: { quantityOnHand: levels.quantityOnHand - quantityChange },
            after: { quantityOnHand: levels.quantityOnHand, ledgerEntryId: entry.id },
          });
          await announceStockChange(manager, levels, type);
          return { entry, levels };
        });
      } catch (error) {
        // The table's CHECKs refused it (on-hand below zero or below what is reserved); the
        // transaction rolled back, so neither the ledger row nor the change exists.
        if (isPgError(error, PgCheckViolation)) {
          throw new UnprocessableError(
            'This change would take on-hand stock below zero or below the quantity reserved for orders.',
            'insufficient_stock',
          );
        }
        throw error;
      }
      await cache.store({
        productId,
        available: result.levels.quantityAvailable,
        version: result.levels.version,
      });
      return reply.code(201).send(ledgerEntryView(result.entry));
    },
  );

  app.get(
    '/v1/inventory/:productId/transactions',
    {
      config: { auth: STAFF },
      schema: {
        tags: ['inventory'],
        summary: 'The stock ledger of one product, newest first',
        params: ProductIdParams,
        querystring: PageQuery,
        response: { 200: Page(LedgerEntryView), ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { productId } = request.params;
      const { limit = 20, cursor } = request.query;
      const after = parseCursor(cursor);
      const product = await productsRepository(dataSource.manager).findById(productId);
      if (!product) throw productNotFound();
      const page = await stockRepository(dataSource.manager).ledgerPage(productId, limit, after);
      return { items: page.rows.map(ledgerEntryView), nextCursor: page.nextCursor };
    },
  );
}
