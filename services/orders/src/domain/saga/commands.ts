import {
  ChargePayment,
  OrderCancelled,
  OrderConfirmed,
  OrderDelivered,
  OrderShipped,
  RefundPayment,
  ReleaseStock,
  ReserveStock,
  ShipOrder,
  type CancellationReason,
} from '@shop/contracts';
import {
  outgoing,
  type Outgoing,
  type PendingRefund,
  type SagaData,
  type ShipmentSummary,
} from './types.js';

// The messages the saga sends, built from its data alone: commands carry everything the
// receiver needs so it never asks back, and events name the order and its customer.

const identity = (data: SagaData) => ({
  orderId: data.orderId,
  orderNumber: data.orderNumber,
  customerId: data.customerId,
});

export const reserveStock = (data: SagaData): Outgoing =>
  outgoing(ReserveStock, { orderId: data.orderId, customerId: data.customerId, items: data.items });

export function chargePayment(data: SagaData): Outgoing {
  if (!data.attemptId) throw new Error('chargePayment needs an attempt id');
  return outgoing(ChargePayment, {
    ...identity(data),
    attemptId: data.attemptId,
    attempt: data.paymentAttempts,
    amount: data.total,
    currency: data.currency,
    paymentMethodId: data.paymentMethodId,
    providerPaymentMethodId: data.providerPaymentMethodId,
  });
}

export const releaseStock = (data: SagaData, reason: string): Outgoing =>
  outgoing(ReleaseStock, { orderId: data.orderId, reason });

export const refundPayment = (data: SagaData, refund: PendingRefund, reason: string): Outgoing =>
  outgoing(RefundPayment, {
    orderId: data.orderId,
    refundId: refund.refundId,
    paymentId: refund.paymentId,
    amount: refund.amount,
    currency: data.currency,
    reason,
  });

export const shipOrder = (data: SagaData): Outgoing =>
  outgoing(ShipOrder, {
    ...identity(data),
    items: data.items,
    shippingAddress: data.shippingAddress,
  });

export const orderConfirmed = (data: SagaData, paymentId: string, at: string): Outgoing =>
  outgoing(OrderConfirmed, {
    ...identity(data),
    paymentId,
    total: data.total,
    currency: data.currency,
    confirmedAt: at,
  });

export const orderShipped = (data: SagaData, shipment: ShipmentSummary): Outgoing =>
  outgoing(OrderShipped, {
    ...identity(data),
    shipmentId: shipment.id,
    carrier: shipment.carrier,
    trackingNumber: shipment.trackingNumber,
    estimatedDelivery: shipment.estimatedDelivery,
    shippedAt: shipment.shippedAt,
  });

export const orderDelivered = (data: SagaData, shipmentId: string, at: string): Outgoing =>
  outgoing(OrderDelivered, { ...identity(data), shipmentId, deliveredAt: at });

export const orderCancelled = (
  data: SagaData,
  reason: CancellationReason,
  refunded: boolean,
  at: string,
): Outgoing =>
  outgoing(OrderCancelled, {
    ...identity(data),
    cancellationReason: reason,
    refunded,
    cancelledAt: at,
  });
