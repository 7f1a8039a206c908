import { ShipmentCreated, ShipOrder, type MessageData } from '@shop/contracts';
import { afterCommit, definePreparedHandler, recordAudit, type Logger } from '@shop/service-kit';
import type { DataSource, EntityManager } from 'typeorm';
import { reservationsRepository } from '../db/repositories/reservations.js';
import { shipmentsRepository } from '../db/repositories/shipments.js';
import { stockRepository } from '../db/repositories/stock.js';
import type { CarrierAdapter, Label } from '../domain/carrier.js';
import type { CommandDecision } from '../domain/command-outcomes.js';
import { normalizeLines } from '../domain/reservation.js';
import { announceStockChange } from './events.js';
import { peekOrderStep, settleOrderStep } from './order-step.js';
import { answer } from './replies.js';

type ShipCommand = MessageData<typeof ShipOrder>;

/** A label bought before the transaction, with the time the parcel counts as shipped. */
interface BoughtLabel {
  label: Label;
  shippedAt: Date;
}

/**
 * Ships an order in two phases. First, outside any transaction, the carrier's label is bought:
 * a slow network call (seconds, or a timeout) that must not hold the stock rows, the order's
 * lock and a pooled connection while it waits, or a carrier outage would stall every stock
 * operation on those products. Then one transaction records it: the held stock leaves the
 * shelf (ledger `sale` rows), the reservation is committed, and the shipment is written.
 *
 * The carrier is idempotent by order id, so buying again on a redelivery or retry gets the
 * same label; a command that would only be answered again (already shipped, released,
 * expired, not reserved yet) buys nothing.
 */
export function shipOrderHandler(settings: { carrier: () => Promise<CarrierAdapter> }) {
  return definePreparedHandler(ShipOrder, {
    prepare: (data, { dataSource }) => buyLabelIfShippable(dataSource, data, settings.carrier),
    handle: async (data, bought, { manager, logger }) => {
      const decision = await settleOrderStep(manager, data.orderId, 'ship', logger, () =>
        recordShipment(manager, data, bought, logger),
      );
      if (bought) reportUnusedLabel(manager, decision, data.orderId, bought.label, logger);
    },
  });
}

/**
 * Buys the label if the order can ship as things stand; null when the command will only be
 * answered again or retried, so no label is bought for something that will not ship. Read
 * without the order's lock: a release or expiry landing during the carrier call is still
 * caught under the lock, at the cost of a label that is then not used.
 */
async function buyLabelIfShippable(
  dataSource: DataSource,
  data: ShipCommand,
  carrier: () => Promise<CarrierAdapter>,
): Promise<BoughtLabel | null> {
  const decision = await peekOrderStep(dataSource.manager, data.orderId, 'ship');
  if (decision.kind !== 'act') return null;
  const shippedAt = new Date();
  const label = await (
    await carrier()
  ).createLabel({
    orderId: data.orderId,
    orderNumber: data.orderNumber,
    ...(data.preferredCarrier ? { preferredCarrier: data.preferredCarrier } : {}),
    address: data.shippingAddress,
    shippedAt,
  });
  return { label, shippedAt };
}

async function recordShipment(
  manager: EntityManager,
  data: ShipCommand,
  bought: BoughtLabel | null,
  logger: Logger,
): Promise<void> {
  if (!bought) {
    // The reservation was handled between the look before the carrier and the lock: nothing
    // was bought yet. Failing sends the command back, and its next delivery buys the label.
    throw new Error(`order ${data.orderId} became shippable after the label check; retrying`);
  }
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

  const { label, shippedAt } = bought;
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
}

/**
 * A label bought for an order that was released or expired while the carrier answered is
 * never used. It is logged for a person to void with the carrier rather than voided here: the
 * race is narrow, adapters have no void call, and carriers bill a label when it is scanned or
 * refund an unused one on request. A repeat of the ship itself is no waste: the carrier
 * answered with the label already recorded. Logged once the answer commits, so a try that
 * rolls back (and is decided again) does not report it twice.
 */
function reportUnusedLabel(
  manager: EntityManager,
  decision: CommandDecision,
  orderId: string,
  label: Label,
  logger: Logger,
): void {
  if (decision.kind !== 'replay' || decision.step === 'ship') return;
  afterCommit(manager, () =>
    logger.warn(
      {
        orderId,
        answeredBy: decision.step,
        carrier: label.carrier,
        trackingNumber: label.trackingNumber,
      },
      'shipping label bought but not used: the order stopped holding stock meanwhile; void it with the carrier',
    ),
  );
}
