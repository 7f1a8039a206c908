import { ReleaseStock, StockReleased } from '@shop/contracts';
import { defineHandler } from '@shop/service-kit';
import { reservationsRepository } from '../db/repositories/reservations.js';
import { stockRepository } from '../db/repositories/stock.js';
import { announceStockChange } from './events.js';
import { runOrderStep } from './order-step.js';
import { answer } from './replies.js';

/**
 * Gives back what the order still holds. An order holding nothing (never reserved, already
 * expired or shipped) is answered with an empty release: the saga's compensation is done.
 */
export function releaseStockHandler() {
  return defineHandler(ReleaseStock, (data, { manager, logger }) =>
    runOrderStep(manager, data.orderId, 'release', logger, async () => {
      const released = await reservationsRepository(manager).release(data.orderId, data.reason);
      const stock = stockRepository(manager);
      for (const line of released) {
        const levels = await stock.unreserve(line.productId, line.quantity);
        await announceStockChange(manager, levels, 'release', data.orderId);
      }
      await answer(manager, data.orderId, 'release', StockReleased, {
        orderId: data.orderId,
        items: released.map(({ productId, quantity }) => ({ productId, quantity })),
        reason: data.reason,
        releasedAt: new Date().toISOString(),
      });
    }),
  );
}
