import { ShipmentCreated, ShipOrder } from '@shop/contracts';
import { defineHandler, recordAudit } from '@shop/service-kit';
import { reservationsRepository } from '../db/repositories/reservations.js';
import { shipmentsRepository } from '../db/repositories/shipments.js';
import { stockRepository } from '../db/repositories/stock.js';
import type { CarrierAdapter } from '../domain/carrier.js';
import { normalizeLines } from '../domain/reservation.js';
import { announceStockChange } from './events.js';
import { runOrderStep } from './order-step.js';
import { answer } from './replies.js';

/**
 * Ships an order: its held stock leaves the shelf (ledger `sale` rows), the reservation is
 * committed, and the carrier's label makes the shipment, all in one transaction.
 */
export function shipOrderHandler(settings: { carrier: CarrierAdapter }) {
  return defineHandler(ShipOrder, (data, { manager, logger }) =>
    runOrderStep(manager, data.orderId, 'ship', logger, async () => {
      const committed = await reservationsRepository(manager).commit(data.orderId);
      if (committed.length === 0) {
        // The reservation was answered as held and nothing released it, so its rows must
        // exist: a broken invariant, left to the dead-letter stream for a person to look at.
        throw new Error(`order ${data.orderId} was reserved but holds nothing to ship`);
      }
      // What ships is what was held; the command's lines should say the same.
      const asked = JSON.stringify(normalizeLines(data.items));
      const held = committed.map(({ productId, quantity }) => ({ productId, quantity }));
      if (asked !== JSON.stringify(held)) {
        logger.warn(
          { orderId: data.orderId, asked: data.items, held },
          'ship lines differ from reservation; shipping what was reserved',
        );
      }

      const stock = stockRepository(manager);
      for (const line of held) {
        const levels = await stock.removeReserved(line.productId, line.quantity);
        await stock.appendLedger({
          productId: line.productId,
          orderId: data.orderId,
          type: 'sale',
          quantityChange: -line.quantity,
          notes: `order ${data.orderNumber}`,
          createdBy: null,
        });
        await announceStockChange(manager, levels, 'sale', data.orderId);
      }

      const shippedAt = new Date();
      const label = await settings.carrier.createLabel({
        orderId: data.orderId,
        orderNumber: data.orderNumber,
        ...(data.preferredCarrier ? { preferredCarrier: data.preferredCarrier } : {}),
        address: data.shippingAddress,
        shippedAt,
      });
      const shipment = await shipmentsRepository(manager).insert({
        orderId: data.orderId,
        orderNumber: data.orderNumber,
        customerId: data.customerId,
        carrier: label.carrier,
        trackingNumber: label.trackingNumber,
        labelUrl: label.labelUrl,
        estimatedDelivery: label.estimatedDelivery,
        shippingAddress: data.shippingAddress,
        shippedAt,
      });
      await recordAudit(manager, {
        entityType: 'shipment',
        entityId: shipment.id,
        action: 'create',
        after: shipment,
      });
      await answer(manager, data.orderId, 'ship', ShipmentCreated, {
        shipmentId: shipment.id,
        orderId: data.orderId,
        items: held,
        carrier: label.carrier,
        trackingNumber: label.trackingNumber,
        labelUrl: label.labelUrl,
        estimatedDelivery: label.estimatedDelivery?.toISOString() ?? null,
        shippedAt: shippedAt.toISOString(),
      });
    }),
  );
}
