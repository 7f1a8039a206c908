import { decodeCursor, type PageCursor } from '@shop/contracts';
import {
  BadRequestError,
  ForbiddenError,
  isStaff,
  NotFoundError,
  type Identity,
} from '@shop/service-kit';
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

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The order at `:id` if the caller placed it: 404 when they cannot see it, 403 when they see
 * it as staff but it is not theirs. A route whose act belongs to the owner alone (paying) runs
 * this before the body is validated, so a caller who may not act at all learns that first
 * (API.md: 401/403 win over 400). An id that is not a UUID is left to the params' validation.
 */
export async function ownOrderBeforeValidation(
  manager: EntityManager,
  request: FastifyRequest,
  refusal: string,
): Promise<void> {
  const { id } = request.params as { id?: unknown };
  if (typeof id !== 'string' || !UUID.test(id)) return;
  await ownOrder(manager, identityOf(request), id, refusal);
}

export async function ownOrder(
  manager: EntityManager,
  identity: Identity,
  orderId: string,
  refusal: string,
): Promise<Order> {
  const order = await visibleOrder(manager, identity, (orders) => orders.findById(orderId));
  if (order.customerId !== identity.userId) throw new ForbiddenError(refusal);
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
