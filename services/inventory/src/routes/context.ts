import { NotFoundError, pgErrorCode, type RedisHandle } from '@shop/service-kit';
import type { FastifyRequest } from 'fastify';
import type { DataSource } from 'typeorm';
import type { AvailabilityCache } from '../cache/availability-cache.js';
import type { InventoryItem } from '../db/entities/inventory-item.entity.js';
import type { StockLevels } from '../db/repositories/stock.js';

/** What the routes need from the running service. */
export interface RouteDependencies {
  dataSource: DataSource;
  cache: AvailabilityCache;
  redis?: RedisHandle;
}

/** Who did it, for the audit row of a change made over HTTP. */
export function actorOf(request: FastifyRequest) {
  const userAgent = request.headers['user-agent'];
  return {
    userId: request.identity?.userId ?? null,
    ipAddress: request.ip.slice(0, 45),
    userAgent: typeof userAgent === 'string' ? userAgent.slice(0, 500) : null,
  };
}

export function productNotFound(): NotFoundError {
  return new NotFoundError('No product has this id.');
}

export function levelsOf(stock: InventoryItem): StockLevels {
  return {
    inventoryId: stock.id,
    productId: stock.productId,
    quantityOnHand: stock.quantityOnHand,
    quantityReserved: stock.quantityReserved,
    quantityAvailable: stock.quantityAvailable,
    version: stock.version,
  };
}

export const PgCheckViolation = '23514';
export const PgUniqueViolation = '23505';

export function isPgError(error: unknown, code: string): boolean {
  return pgErrorCode(error) === code;
}
