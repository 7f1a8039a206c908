import type { Harness, Customer } from './harness.js';

export interface OrderBody {
  items: { productId: string; quantity: number }[];
  shippingAddressId: string;
  paymentMethodId: string;
  billingAddressId?: string;
  customerId?: string;
}

export interface OrderJson {
  id: string;
  orderNumber: string;
  status: string;
  cancellationReason: string | null;
  total: number;
  subtotal: number;
  shippingCost: number;
  tax: number;
  payment: { status: string; attempts: number } | null;
  shipment: { id: string; trackingNumber: string; deliveredAt: string | null } | null;
  shippedAt: string | null;
  deliveredAt: string | null;
  cancelledAt: string | null;
  items: {
    productId: string;
    sku: string;
    quantity: number;
    unitPrice: number;
    lineTotal: number;
  }[];
  paymentMethodId: string;
}

/** HTTP calls through inject(), as a client of the orders routes would make them. */
export function ordersClient(harness: Harness) {
  const { app } = harness.service;
  const auth = (token: string) => ({ authorization: `Bearer ${token}` });
  return {
    body(customer: Customer, productId: string, quantity = 1): OrderBody {
      return {
        items: [{ productId, quantity }],
        shippingAddressId: customer.addressId,
        paymentMethodId: customer.paymentMethodId,
      };
    },
    place(token: string, body: unknown, key?: string) {
      return app.inject({
        method: 'POST',
        url: '/v1/orders',
        headers: { ...auth(token), ...(key === undefined ? {} : { 'idempotency-key': key }) },
        payload: body as Record<string, unknown>,
      });
    },
    async get(token: string, id: string): Promise<OrderJson> {
      return (
        await app.inject({ method: 'GET', url: `/v1/orders/${id}`, headers: auth(token) })
      ).json();
    },
    cancel(token: string, id: string) {
      return app.inject({ method: 'POST', url: `/v1/orders/${id}/cancel`, headers: auth(token) });
    },
    pay(token: string, id: string, paymentMethodId: string) {
      return app.inject({
        method: 'POST',
        url: `/v1/orders/${id}/pay`,
        headers: auth(token),
        payload: { paymentMethodId },
      });
    },
    async timeline(token: string, id: string) {
      return (
        await app.inject({ method: 'GET', url: `/v1/orders/${id}/timeline`, headers: auth(token) })
      ).json<{ items: { step: string; outcome: string; detail: string | null }[] }>();
    },
    request: app.inject.bind(app),
    auth,
  };
}
