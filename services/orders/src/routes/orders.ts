import { encodeCursor, PAGE_LIMIT_DEFAULT } from '@shop/contracts';
import { ForbiddenError, isStaff, type HttpApp } from '@shop/service-kit';
import { createOrdersRepository } from '../db/repositories/orders.js';
import { placeOrder, type PlaceOrderDeps } from '../application/place-order.js';
import { loadOrderView, loadOrderViews } from '../application/view.js';
import { cursorFrom, identityOf, visibleOrder } from './access.js';
import {
  CreateOrderBody,
  IdempotencyHeaders,
  ListOrdersQuery,
  OrderIdParams,
  OrderNumberParams,
  OrderPage,
  OrderSchema,
  problems,
} from './schemas.js';

/** Placing and reading orders. */
export function registerOrderRoutes(app: HttpApp, deps: PlaceOrderDeps): void {
  const { dataSource } = deps;

  app.post(
    '/v1/orders',
    {
      config: { auth: 'authenticated' },
      schema: {
        summary:
          'Place an order (202); replays of an Idempotency-Key answer 200 with the same order',
        headers: IdempotencyHeaders,
        body: CreateOrderBody,
        response: { 200: OrderSchema, 202: OrderSchema, ...problems(400, 401, 403, 409, 422, 503) },
      },
    },
    async (request, reply) => {
      const identity = identityOf(request);
      const { customerId: named, ...body } = request.body;
      if (named !== undefined && named !== identity.userId && !isStaff(identity.role)) {
        throw new ForbiddenError('Only staff may order for another customer.');
      }
      const idempotencyKey = request.headers['idempotency-key'];
      const placed = await placeOrder(deps, {
        customerId: named ?? identity.userId,
        actorId: identity.userId,
        body,
        ...(idempotencyKey ? { idempotencyKey } : {}),
      });
      return reply.code(placed.replayed ? 200 : 202).send(placed.order);
    },
  );

  app.get(
    '/v1/orders',
    {
      config: { auth: 'authenticated' },
      schema: {
        summary:
          'Orders newest first: a customer sees their own, staff all (filters customerId, status)',
        querystring: ListOrdersQuery,
        response: { 200: OrderPage, ...problems(400, 401) },
      },
    },
    async (request) => {
      const identity = identityOf(request);
      const { limit = PAGE_LIMIT_DEFAULT, cursor, status } = request.query;
      let customerId = request.query.customerId;
      if (!isStaff(identity.role)) {
        // Asking for someone else's orders shows nothing rather than saying whether any exist.
        if (customerId !== undefined && customerId !== identity.userId) {
          return { items: [], nextCursor: null };
        }
        customerId = identity.userId;
      }
      const after = cursorFrom(cursor);
      const manager = dataSource.manager;
      const orders = createOrdersRepository(manager);
      const page = await orders.list({
        ...(customerId ? { customerId } : {}),
        ...(status ? { status } : {}),
        ...(after ? { after } : {}),
        limit: limit + 1,
      });
      const ids = page.ids.slice(0, limit);
      const items = await loadOrderViews(manager, await orders.findManyById(ids));
      const last = ids.length - 1;
      const nextCursor =
        page.ids.length > limit
          ? encodeCursor({ createdAt: page.cursors[last]!, id: ids[last]! })
          : null;
      return { items, nextCursor };
    },
  );

  app.get(
    '/v1/orders/by-number/:orderNumber',
    {
      config: { auth: 'authenticated' },
      schema: {
        summary: 'One order by its number',
        params: OrderNumberParams,
        response: { 200: OrderSchema, ...problems(400, 401, 404) },
      },
    },
    async (request) => {
      const order = await visibleOrder(dataSource.manager, identityOf(request), (orders) =>
        orders.findByNumber(request.params.orderNumber),
      );
      return loadOrderView(dataSource.manager, order);
    },
  );

  app.get(
    '/v1/orders/:id',
    {
      config: { auth: 'authenticated' },
      schema: {
        summary: 'One order',
        params: OrderIdParams,
        response: { 200: OrderSchema, ...problems(400, 401, 404) },
      },
    },
    async (request) => {
      const order = await visibleOrder(dataSource.manager, identityOf(request), (orders) =>
        orders.findById(request.params.id),
      );
      return loadOrderView(dataSource.manager, order);
    },
  );
}
