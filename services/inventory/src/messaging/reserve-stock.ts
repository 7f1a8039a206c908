import { ReserveStock, StockReservationRejected, StockReserved } from '@shop/contracts';
import { defineHandler } from '@shop/service-kit';
import type { EntityManager } from 'typeorm';
import { productsRepository } from '../db/repositories/products.js';
import { reservationsRepository } from '../db/repositories/reservations.js';
import { stockRepository, type StockLevels } from '../db/repositories/stock.js';
import {
  normalizeLines,
  shortLines,
  unavailableLines,
  type Line,
  type RejectedLine,
} from '../domain/reservation.js';
import { announceStockChange } from './events.js';
import { runOrderStep } from './order-step.js';
import { answer } from './replies.js';

/**
 * Reserves every line of an order or none, in one transaction: conditional updates that only
 * match while enough is free, taken in product-id order so two orders never deadlock.
 */
export function reserveStockHandler(settings: { ttlSeconds: number }) {
  return defineHandler(ReserveStock, (data, { manager, logger, envelope }) =>
    runOrderStep(manager, data.orderId, 'reserve', logger, async () => {
      const lines = normalizeLines(data.items);
      const productIds = lines.map((line) => line.productId);
      const unavailable = unavailableLines(
        lines,
        await productsRepository(manager).activeFlags(productIds),
      );
      if (unavailable.length > 0) return reject(manager, data.orderId, unavailable);

      const taken = await takeAll(manager, lines);
      if (!Array.isArray(taken)) return reject(manager, data.orderId, taken.rejected);

      // The command's trace goes with the rows: if they expire, the sweeper's messages
      // belong to this order's saga instead of starting a story of their own.
      const held = await reservationsRepository(manager).insert(
        data.orderId,
        lines,
        settings.ttlSeconds,
        { correlationId: envelope.correlationId, causationId: envelope.id },
      );
      for (const levels of taken) {
        await announceStockChange(manager, levels, 'reservation', data.orderId);
      }
      await answer(manager, data.orderId, 'reserve', StockReserved, {
        orderId: data.orderId,
        items: lines,
        reservedAt: held.reservedAt.toISOString(),
        expiresAt: held.expiresAt.toISOString(),
      });
    }),
  );
}

/**
 * Holds each line in turn; at the first line that cannot be met, undoes the lines already held
 * (a savepoint) and says which lines are short.
 */
async function takeAll(
  manager: EntityManager,
  lines: readonly Line[],
): Promise<StockLevels[] | { rejected: RejectedLine[] }> {
  const stock = stockRepository(manager);
  await manager.query('SAVEPOINT reserve_lines');
  const taken: StockLevels[] = [];
  for (const line of lines) {
    const levels = await stock.reserve(line.productId, line.quantity);
    if (levels) {
      taken.push(levels);
      continue;
    }
    await manager.query('ROLLBACK TO SAVEPOINT reserve_lines');
    const available = await stock.availability(lines.map((entry) => entry.productId));
    const availableByProduct = new Map(
      available.map((entry) => [entry.productId, entry.available]),
    );
    return { rejected: shortLines(lines, availableByProduct, line.productId) };
  }
  await manager.query('RELEASE SAVEPOINT reserve_lines');
  return taken;
}

function reject(manager: EntityManager, orderId: string, rejectedItems: RejectedLine[]) {
  return answer(manager, orderId, 'reserve', StockReservationRejected, {
    orderId,
    rejectedItems,
    rejectedAt: new Date().toISOString(),
  });
}
