import { waitFor } from '@shop/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProgramName } from '../../scripts/lib/system.js';
import { query } from '../support/accounts.js';
import {
  checkInvariants,
  orderEnds,
  providerLedgerFile,
  readProviderLedger,
  stockedProduct,
  waitAllSettled,
  waitReadModels,
} from '../support/faults.js';
import {
  newCustomer,
  placeAcceptedOrder,
  startShop,
  stopShop,
  type Customer,
  type Items,
  type SandboxCard,
  type Shop,
} from '../support/shop.js';

// Inventory, payments and the payment provider each killed (SIGKILL) in the middle of a burst
// of orders and started again: every order still ends shipped or cancelled, no unit oversold,
// no order charged twice, nothing left reserved, every cancelled order's money given back.

const LEDGER = providerLedgerFile('kills');
let shop: Shop;
let customers: Customer[] = [];

const CARDS: SandboxCard[] = [
  'pm_card_visa',
  'pm_card_visa',
  'pm_card_mastercard',
  'pm_card_amex',
  'pm_card_chargeDeclined',
  'pm_card_processingError',
];

beforeAll(async () => {
  shop = await startShop('orders_faults_kills', {
    PAYMENT_RETRY_WINDOW_SECONDS: '5',
    // Retries spread over a few seconds, so a provider restart fits inside one round.
    PAYMENT_RETRY_BACKOFF_MS: '2000',
    PAYMENT_RETRY_BACKOFF_MAX_MS: '8000',
    // Every provider call takes a while after it took effect: kills land inside charges.
    PAYMENT_PROVIDER_LATENCY_MS: '700',
    PAYMENT_PROVIDER_DATA_FILE: LEDGER,
    PAYMENT_PROVIDER_TIMEOUT_MS: '4000',
    PAYMENT_PROVIDER_BREAKER_RESET_MS: '1000',
    PAYMENTS_RECONCILE_INTERVAL_MS: '1000',
    PAYMENTS_RECONCILE_AFTER_MS: '5000',
    RESERVATION_SWEEP_INTERVAL_MS: '1000',
  });
  for (const card of CARDS) customers.push(await newCustomer(shop, { card }));
  await waitReadModels(shop, {
    addressIds: customers.map((customer) => customer.addressId),
    paymentMethodIds: customers.map((customer) => customer.paymentMethodId),
  });
}, 180_000);

afterAll(async () => {
  await stopShop(shop);
  customers = [];
}, 60_000);

const ORDERS = 24;
const STOCK = [8, 6, 4];

/** Pending payment attempts of these orders that the provider has already charged. */
async function chargedButUnanswered(orderIds: string[]): Promise<number> {
  if (orderIds.length === 0) return 0;
  const pending = await query<{ attempt_id: string }>(
    shop.system,
    `SELECT attempt_id FROM payments.payments WHERE status = 'pending' AND order_id = ANY($1::uuid[])`,
    [orderIds],
  );
  const charged = new Set(readProviderLedger(LEDGER).map((charge) => charge.key));
  return pending.filter((row) => charged.has(row.attempt_id)).length;
}

/**
 * Places a burst of orders over three products with little stock and a mix of cards, kills
 * `program` once `trigger` holds (while orders are still in flight), starts it again, and
 * waits for every order to settle; then checks every invariant.
 */
async function burstWithKill(
  program: ProgramName,
  trigger: (placed: string[], productIds: string[]) => Promise<boolean>,
) {
  const products = [];
  for (const stock of STOCK) products.push(await stockedProduct(shop, { price: 1200, stock }));
  const [p0, p1, p2] = products.map((product) => product.id) as [string, string, string];
  await waitReadModels(shop, { productIds: [p0, p1, p2] });
  const shapes: Items[] = [
    [{ productId: p0, quantity: 1 }],
    [{ productId: p1, quantity: 2 }],
    [
      { productId: p0, quantity: 1 },
      { productId: p2, quantity: 1 },
    ],
    [
      { productId: p2, quantity: 1 },
      { productId: p1, quantity: 1 },
    ],
    [{ productId: p0, quantity: 2 }],
  ];

  const placed: string[] = [];
  const placing = (async () => {
    let next = 0;
    const worker = async () => {
      while (next < ORDERS) {
        const index = next;
        next += 1;
        const customer = customers[index % customers.length] as Customer;
        const items = shapes[index % shapes.length] as Items;
        placed.push((await placeAcceptedOrder(shop, customer, items)).id);
      }
    };
    await Promise.all([worker(), worker()]);
  })();

  let unsettledAtKill = 0;
  const killing = (async () => {
    await waitFor(() => trigger(placed, [p0, p1, p2]), `trigger to kill ${program}`, {
      timeoutMs: 90_000,
      intervalMs: 150,
    });
    await shop.system.kill(program);
    const ends = await orderEnds(shop.system, [...placed]);
    unsettledAtKill = ends.filter(
      (end) => end.status !== 'shipped' && end.status !== 'cancelled',
    ).length;
    await shop.system.restart(program);
  })();
  await Promise.all([placing, killing]);
  expect(placed).toHaveLength(ORDERS);
  // The kill hit orders still on their way.
  expect(unsettledAtKill).toBeGreaterThan(0);

  await waitAllSettled(shop.system, placed, 240_000);
  const report = await checkInvariants(shop.system, {
    orderIds: placed,
    products: products.map((product, index) => ({
      productId: product.id,
      initial: STOCK[index] ?? 0,
    })),
    ledgerFile: LEDGER,
  });
  expect(report.breaches).toEqual([]);
  expect(report.shipped + report.cancelled).toBe(ORDERS);
  // The good cards got some orders through; the bad cards none.
  expect(report.shipped).toBeGreaterThan(0);
  return { report, unsettledAtKill };
}

describe('a process killed in the middle of a burst of orders', () => {
  it('inventory: every order ends shipped or cancelled, nothing oversold or left reserved', async ({
    annotate,
  }) => {
    const { report, unsettledAtKill } = await burstWithKill('inventory', async (placed, ids) => {
      const [row] = await query<{ count: number }>(
        shop.system,
        `SELECT count(*)::int AS count FROM inventory.reservations WHERE product_id = ANY($1::uuid[])`,
        [ids],
      );
      return placed.length >= 4 && (row?.count ?? 0) >= 3;
    });
    await annotate(`inventory kill: ${JSON.stringify({ unsettledAtKill, ...report })}`);
  }, 420_000);

  it('payments: killed with a charge made and unanswered, nobody is charged twice', async ({
    annotate,
  }) => {
    const { report, unsettledAtKill } = await burstWithKill(
      'payments',
      async (placed) => (await chargedButUnanswered([...placed])) > 0,
    );
    await annotate(`payments kill: ${JSON.stringify({ unsettledAtKill, ...report })}`);
  }, 420_000);

  it('payment provider: killed inside a charge, nobody is charged twice or left charged', async ({
    annotate,
  }) => {
    const { report, unsettledAtKill } = await burstWithKill(
      'payment-provider',
      async (placed) => (await chargedButUnanswered([...placed])) > 0,
    );
    await annotate(`provider kill: ${JSON.stringify({ unsettledAtKill, ...report })}`);
  }, 420_000);
});
