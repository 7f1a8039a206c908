import {
  ChargeDeclined,
  ChargeFailed,
  ChargeSucceeded,
  RefundFailed,
  RefundSucceeded,
  ReservationExpired,
  ShipmentCreated,
  ShipmentDelivered,
  StockReleased,
  StockReservationRejected,
  StockReserved,
  type MessageContract,
  type MessageData,
} from '@shop/contracts';
import { defineHandler, type MessageHandler } from '@shop/service-kit';
import type { SagaEvent } from '../domain/saga/types.js';
import { applySagaEvent, type SagaRuntime } from '../saga/runtime.js';

/**
 * Replies from inventory and payments, each turned into a saga event and applied in the inbox
 * transaction: a duplicate delivery is absorbed by the inbox, a conflicting concurrent write
 * throws and the message is redelivered, and a late or stale reply is ignored by the machine.
 */
function sagaHandler<Contract extends MessageContract & { schema: unknown }>(
  contract: Contract,
  runtime: SagaRuntime,
  toEvent: (data: MessageData<Contract>) => SagaEvent,
): MessageHandler<Contract> {
  return defineHandler(contract, async (data, { manager, logger, envelope }) => {
    const orderId = (data as { orderId: string }).orderId;
    await applySagaEvent(
      manager,
      orderId,
      toEvent(data),
      runtime,
      logger.child({ messageId: envelope.id, type: envelope.type }),
    );
  });
}

export function inventoryReplyHandlers(runtime: SagaRuntime) {
  return [
    sagaHandler(StockReserved, runtime, (data) => ({
      type: 'stock_reserved',
      expiresAt: data.expiresAt,
    })),
    sagaHandler(StockReservationRejected, runtime, (data) => ({
      type: 'stock_rejected',
      // One unavailable product makes the whole order unavailable, whatever else was short.
      reason: data.rejectedItems.some((item) => item.reason === 'product_unavailable')
        ? 'product_unavailable'
        : 'insufficient_stock',
      detail: data.rejectedItems
        .map((item) => `${item.productId}: ${item.reason} (${item.requestedQuantity} asked)`)
        .join('; '),
    })),
    sagaHandler(StockReleased, runtime, () => ({ type: 'stock_released' })),
    sagaHandler(ReservationExpired, runtime, () => ({ type: 'reservation_expired' })),
    sagaHandler(ShipmentCreated, runtime, (data) => ({
      type: 'shipment_created',
      shipment: {
        id: data.shipmentId,
        carrier: data.carrier,
        trackingNumber: data.trackingNumber,
        estimatedDelivery: data.estimatedDelivery,
        shippedAt: data.shippedAt,
        deliveredAt: null,
      },
    })),
    sagaHandler(ShipmentDelivered, runtime, (data) => ({
      type: 'shipment_delivered',
      shipmentId: data.shipmentId,
      deliveredAt: data.deliveredAt,
    })),
  ];
}

export function paymentReplyHandlers(runtime: SagaRuntime) {
  return [
    sagaHandler(ChargeSucceeded, runtime, (data) => ({
      type: 'charge_succeeded',
      attemptId: data.attemptId,
      paymentId: data.paymentId,
      amount: data.amount,
    })),
    sagaHandler(ChargeDeclined, runtime, (data) => ({
      type: 'charge_declined',
      attemptId: data.attemptId,
      code: data.declineCode,
    })),
    sagaHandler(ChargeFailed, runtime, (data) => ({
      type: 'charge_failed',
      attemptId: data.attemptId,
      code: data.errorCode,
    })),
    sagaHandler(RefundSucceeded, runtime, (data) => ({
      type: 'refund_succeeded',
      refundId: data.refundId,
      paymentId: data.paymentId,
    })),
    sagaHandler(RefundFailed, runtime, (data) => ({
      type: 'refund_failed',
      refundId: data.refundId,
      paymentId: data.paymentId,
      code: data.errorCode,
      retryable: data.retryable,
    })),
  ];
}
