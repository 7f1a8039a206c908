import { randomUUID } from 'node:crypto';
import { waitFor } from '@shop/service-kit/testing';
import {
  call,
  describeAnswer,
  login,
  query,
  registerAndLogin,
  type Answer,
  type RequestOptions,
} from './accounts.js';
import { startSystem, type SystemUnderTest } from './system.js';

/**
 * Shop flows through the gateway only, for whole-system tests: a system with a logged-in
 * admin, products with stock, customers with an address and a card, orders and pollers.
 */

export const ADMIN_EMAIL = 'shop-admin@example.com';
export const ADMIN_PASSWORD = 'admin password for tests';

export interface Shop {
  system: SystemUnderTest;
  /** A bearer token of the bootstrap admin (staff: products, stock, deliveries). */
  adminToken: string;
}

/** Settings that keep a test short; any of them can be overridden. */
export const FAST_SAGA: NodeJS.ProcessEnv = {
  AUTH_RATE_LIMIT_PER_MINUTE: '0',
  RATE_LIMIT_PER_MINUTE: '0',
  SAGA_TIMER_INTERVAL_MS: '100',
  SAGA_STEP_TIMEOUT_SECONDS: '10',
  PAYMENT_RETRY_BACKOFF_MS: '100',
  PAYMENT_RETRY_BACKOFF_MAX_MS: '400',
  PAYMENT_RETRY_WINDOW_SECONDS: '60',
};

/** Starts the whole system with a bootstrap admin and logs that admin in. */
export async function startShop(label: string, overrides: NodeJS.ProcessEnv = {}): Promise<Shop> {
  const system = await startSystem(label, {
    ...FAST_SAGA,
    BOOTSTRAP_ADMIN_EMAIL: ADMIN_EMAIL,
    BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD,
    ...overrides,
  });
  try {
    return { system, adminToken: await login(system, ADMIN_EMAIL, ADMIN_PASSWORD) };
  } catch (error) {
    await system.stop();
    throw error;
  }
}

/** One gateway call that must answer `status`; its body otherwise, or a clear error. */
export async function expectCall<T>(
  shop: Shop,
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  path: string,
  status: number,
  options: RequestOptions = {},
): Promise<T> {
  const answer = await call<T>(shop.system, method, path, options);
  if (answer.status !== status) {
    throw new Error(`${method} ${path}: expected ${status}, got ${describeAnswer(answer)}`);
  }
  return answer.body;
}

export interface Product {
  id: string;
  sku: string;
  price: number;
}

export async function createProduct(
  shop: Shop,
  {
    price = 1000,
    stock = 10,
    name = 'Widget',
  }: { price?: number; stock?: number; name?: string } = {},
): Promise<Product> {
  const sku = `SKU-${randomUUID().slice(0, 8).toUpperCase()}`;
  return expectCall<Product>(shop, 'POST', '/v1/products', 201, {
    token: shop.adminToken,
    body: { sku, name, category: 'test', price, initialStock: stock, reorderPoint: 1 },
  });
}

export type SandboxCard =
  | 'pm_card_visa'
  | 'pm_card_mastercard'
  | 'pm_card_amex'
  | 'pm_card_chargeDeclined'
  | 'pm_card_chargeDeclinedInsufficientFunds'
  | 'pm_card_processingError';

export interface Customer {
  token: string;
  userId: string;
  email: string;
  addressId: string;
  paymentMethodId: string;
}

/** Adds a card to a customer's wallet; its id for orders and POST /pay. */
export async function addCard(
  shop: Shop,
  token: string,
  card: SandboxCard,
  last4 = '4242',
): Promise<string> {
  const method = await expectCall<{ id: string }>(
    shop,
    'POST',
    '/v1/users/me/payment-methods',
    201,
    {
      token,
      body: {
        providerPaymentMethodId: card,
        cardBrand: 'visa',
        cardLast4: last4,
        expMonth: 12,
        expYear: new Date().getUTCFullYear() + 3,
      },
    },
  );
  return method.id;
}

/** Registers a customer with a shipping address (state `state`) and one card. */
export async function newCustomer(
  shop: Shop,
  { card = 'pm_card_visa', state = 'OR' }: { card?: SandboxCard; state?: string } = {},
): Promise<Customer> {
  const account = await registerAndLogin(shop.system);
  const address = await expectCall<{ id: string }>(shop, 'POST', '/v1/users/me/addresses', 201, {
    token: account.token,
    body: {
      type: 'shipping',
      line1: '1 Main St',
      city: 'Portland',
      state,
      country: 'US',
      postalCode: '97201',
      isDefault: true,
    },
  });
  return {
    token: account.token,
    userId: account.user.id,
    email: account.email,
    addressId: address.id,
    paymentMethodId: await addCard(shop, account.token, card),
  };
}

export interface OrderItemView {
  productId: string;
  sku: string;
  quantity: number;
  unitPrice: number;
  lineTotal: number;
}

export interface ShipmentView {
  id: string;
  carrier: string;
  trackingNumber: string;
  estimatedDelivery: string | null;
  shippedAt: string | null;
  deliveredAt: string | null;
}

export type OrderStatus = 'pending' | 'confirmed' | 'shipped' | 'delivered' | 'cancelled';

export interface OrderView {
  id: string;
  orderNumber: string;
  customerId: string;
  status: OrderStatus;
  cancellationReason: string | null;
  items: OrderItemView[];
  subtotal: number;
  shippingCost: number;
  tax: number;
  total: number;
  paymentMethodId: string;
  payment: { status: 'pending' | 'succeeded' | 'failed' | 'refunded'; attempts: number } | null;
  shipment: ShipmentView | null;
  createdAt: string;
  updatedAt: string;
  shippedAt: string | null;
  deliveredAt: string | null;
  cancelledAt: string | null;
}

export type Items = Array<{ productId: string; quantity: number }>;

/** POST /v1/orders as the customer; the raw answer (202 new, 200 replay, 4xx). */
export async function placeOrder(
  shop: Shop,
  customer: Customer,
  items: Items,
  {
    idempotencyKey,
    paymentMethodId = customer.paymentMethodId,
  }: { idempotencyKey?: string; paymentMethodId?: string } = {},
): Promise<Answer<OrderView>> {
  return call<OrderView>(shop.system, 'POST', '/v1/orders', {
    token: customer.token,
    body: { items, shippingAddressId: customer.addressId, paymentMethodId },
    ...(idempotencyKey ? { headers: { 'idempotency-key': idempotencyKey } } : {}),
  });
}

/** Places an order that must be accepted (202); the order. */
export async function placeAcceptedOrder(
  shop: Shop,
  customer: Customer,
  items: Items,
  options: { idempotencyKey?: string; paymentMethodId?: string } = {},
): Promise<OrderView> {
  const answer = await placeOrder(shop, customer, items, options);
  if (answer.status !== 202) throw new Error(`POST /v1/orders: ${describeAnswer(answer)}`);
  return answer.body;
}

export async function getOrder(shop: Shop, token: string, orderId: string): Promise<OrderView> {
  return expectCall<OrderView>(shop, 'GET', `/v1/orders/${orderId}`, 200, { token });
}

/** Polls GET /v1/orders/:id until `predicate` holds; the order then. No fixed waits. */
export async function waitForOrder(
  shop: Shop,
  token: string,
  orderId: string,
  predicate: (order: OrderView) => boolean,
  { timeoutMs = 60_000, what = 'order condition' }: { timeoutMs?: number; what?: string } = {},
): Promise<OrderView> {
  return waitFor(
    async () => {
      const order = await getOrder(shop, token, orderId);
      if (predicate(order)) return order;
      throw new Error(
        `last: ${order.status}/${order.cancellationReason ?? '-'} ` +
          `payment ${JSON.stringify(order.payment)}`,
      );
    },
    `${what} for order ${orderId}`,
    { timeoutMs, intervalMs: 150 },
  );
}

/** Waits for a status (and, for `cancelled`, optionally checks nothing else). */
export const waitForStatus = (
  shop: Shop,
  token: string,
  orderId: string,
  status: OrderStatus,
  timeoutMs?: number,
) =>
  waitForOrder(shop, token, orderId, (order) => order.status === status, {
    what: `status ${status}`,
    ...(timeoutMs ? { timeoutMs } : {}),
  });

export interface StockView {
  productId: string;
  quantityOnHand: number;
  quantityReserved: number;
  quantityAvailable: number;
}

/** GET /v1/inventory/:productId as the admin (Postgres, never a cache). */
export async function stockOf(shop: Shop, productId: string): Promise<StockView> {
  return expectCall<StockView>(shop, 'GET', `/v1/inventory/${productId}`, 200, {
    token: shop.adminToken,
  });
}

export interface PaymentView {
  id: string;
  orderId: string;
  amount: number;
  status: 'pending' | 'succeeded' | 'failed' | 'refunded';
  failureReason: string | null;
  providerChargeId: string | null;
  attemptedAt: string;
}

/** Every payment attempt of an order, GET /v1/payments?orderId= (first 100). */
export async function paymentsOf(shop: Shop, token: string, orderId: string) {
  const page = await expectCall<{ items: PaymentView[] }>(
    shop,
    'GET',
    `/v1/payments?orderId=${orderId}&limit=100`,
    200,
    { token },
  );
  return page.items;
}

export interface TimelineItem {
  at: string;
  step: string;
  outcome: string;
  detail: string | null;
}

export async function timelineOf(shop: Shop, token: string, orderId: string) {
  const page = await expectCall<{ items: TimelineItem[] }>(
    shop,
    'GET',
    `/v1/orders/${orderId}/timeline`,
    200,
    { token },
  );
  return page.items;
}

/** Invariants straight from the database: units still held by live reservations of a product. */
export async function openReservations(shop: Shop, productId: string): Promise<number> {
  const [row] = await query<{ held: number }>(
    shop.system,
    `SELECT coalesce(sum(quantity), 0)::int AS held
       FROM inventory.reservations
      WHERE product_id = $1 AND status = 'reserved'`,
    [productId],
  );
  return row?.held ?? 0;
}

/** Payment rows of the given orders by status, straight from the payments schema. */
export async function paymentRows(
  shop: Shop,
  orderIds: string[],
): Promise<Array<{ orderId: string; status: string }>> {
  return query<{ orderId: string; status: string }>(
    shop.system,
    `SELECT order_id::text AS "orderId", status::text AS status
       FROM payments.payments WHERE order_id = ANY($1::uuid[])`,
    [orderIds],
  );
}

export async function stopShop(shop: Shop | undefined): Promise<void> {
  await shop?.system.stop();
}
