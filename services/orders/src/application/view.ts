import type { EntityManager } from 'typeorm';
import type { OrderItem } from '../db/entities/order-item.entity.js';
import type { Order } from '../db/entities/order.entity.js';
import { createOrdersRepository } from '../db/repositories/orders.js';

/** The order object of API.md, exactly: what clients and black-box tests read. */
export function orderView(order: Order, items: OrderItem[]) {
  const iso = (value: Date | null) => (value ? value.toISOString() : null);
  return {
    id: order.id,
    orderNumber: order.orderNumber,
    customerId: order.customerId,
    status: order.status,
    cancellationReason: order.cancellationReason,
    items: items.map((item) => ({
      productId: item.productId,
      sku: item.sku,
      quantity: item.quantity,
      unitPrice: item.unitPrice,
      lineTotal: item.lineTotal,
    })),
    subtotal: order.subtotal,
    shippingCost: order.shippingCost,
    tax: order.tax,
    total: order.total,
    shippingAddress: { ...order.shippingAddress, line2: order.shippingAddress.line2 ?? null },
    paymentMethodId: order.paymentMethodId,
    payment: order.paymentStatus
      ? { status: order.paymentStatus, attempts: order.paymentAttempts }
      : null,
    shipment:
      order.shipmentId && order.shipmentCarrier && order.shipmentTrackingNumber && order.shippedAt
        ? {
            id: order.shipmentId,
            carrier: order.shipmentCarrier,
            trackingNumber: order.shipmentTrackingNumber,
            estimatedDelivery: iso(order.shipmentEstimatedDelivery),
            shippedAt: order.shippedAt.toISOString(),
            deliveredAt: iso(order.deliveredAt),
          }
        : null,
    createdAt: order.createdAt.toISOString(),
    updatedAt: order.updatedAt.toISOString(),
    shippedAt: iso(order.shippedAt),
    deliveredAt: iso(order.deliveredAt),
    cancelledAt: iso(order.cancelledAt),
  };
}

export type OrderView = ReturnType<typeof orderView>;

export async function loadOrderViews(
  manager: EntityManager,
  orders: Order[],
): Promise<OrderView[]> {
  const items = await createOrdersRepository(manager).itemsOf(orders.map((order) => order.id));
  return orders.map((order) =>
    orderView(
      order,
      items.filter((item) => item.orderId === order.id),
    ),
  );
}

export async function loadOrderView(manager: EntityManager, order: Order): Promise<OrderView> {
  const [view] = await loadOrderViews(manager, [order]);
  return view!;
}
