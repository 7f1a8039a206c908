import { decodeCursor, type PageCursor } from '@shop/contracts';
import { BadRequestError, isStaff, NotFoundError, type Identity } from '@shop/service-kit';
import type { FastifyRequest } from 'fastify';
import type { EntityManager } from 'typeorm';
import type { Order } from '../db/entities/order.entity.js';
import { createOrdersRepository } from '../db/repositories/orders.js';

export function identityOf(request: FastifyRequest): Identity {
  // Every route here is authenticated; the hook has refused anyone without an identity.
  if (!request.identity) throw new Error('route reached without an identity');
  return request.identity;
}

/** Staff see every order; a customer only their own, and 404 for anyone else's. */
export function canSee(identity: Identity, order: Order): boolean {
  return isStaff(identity.role) || order.customerId === identity.userId;
}

export async function visibleOrder(
  manager: EntityManager,
  identity: Identity,
  find: (repository: ReturnType<typeof createOrdersRepository>) => Promise<Order | null>,
): Promise<Order> {
  const order = await find(createOrdersRepository(manager));
  if (!order || !canSee(identity, order)) throw new NotFoundError('Order not found.');
  return order;
}

export function cursorFrom(cursor: string | undefined): PageCursor | undefined {
  if (cursor === undefined) return undefined;
  const decoded = decodeCursor(cursor);
  if (!decoded) {
    throw new BadRequestError('The cursor is not one this API issued.', [
      { path: '/query/cursor', message: 'invalid cursor' },
    ]);
  }
  return decoded;
}
