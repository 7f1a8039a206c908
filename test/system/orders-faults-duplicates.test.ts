import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { query } from '../support/accounts.js';
import {
  checkInvariants,
  counterByService,
  diffSnapshots,
  inboxRowsFor,
  openNatsProbe,
  providerLedgerFile,
  readProviderLedger,
  snapshotTables,
  stockedProduct,
  waitAllSettled,
  waitOutboxesDrained,
  waitReadModels,
  type NatsProbe,
} from '../support/faults.js';
import {
  expectCall,
  newCustomer,
  placeAcceptedOrder,
  startShop,
  stopShop,
  timelineOf,
  waitForOrder,
  type Customer,
  type OrderView,
  type Product,
  type Shop,
} from '../support/shop.js';

// A duplicate of every command and event of finished orders, put straight on NATS (a new
// stream message carrying the same envelope, as a redelivery or a relay replay would), must
// change nothing anywhere: the inboxes absorb them and count them. Then every command sent
// again with a new message id (what a saga resend looks like) must not act twice either.

const LEDGER = providerLedgerFile('duplicates');
let shop: Shop;
let probe: NatsProbe;

beforeAll(async () => {
  shop = await startShop('orders_faults_duplicates', {
    // Short enough that a decline ends within the test; latency so a cancel can land mid-charge.
    PAYMENT_RETRY_WINDOW_SECONDS: '3',
    PAYMENT_PROVIDER_LATENCY_MS: '1500',
    PAYMENT_PROVIDER_DATA_FILE: LEDGER,
  });
  probe = await openNatsProbe(shop.system);
}, 180_000);

afterAll(async () => {
  await probe?.close();
  await stopShop(shop);
}, 60_000);

interface Finished {
  orders: Record<string, OrderView>;
  token: Record<string, string>;
  products: Product[];
  initial: Record<string, number>;
}

let finishing: Promise<Finished> | undefined;

/** Once per file: the orders of finishOrders, shared by the tests below. */
function finishOrders(): Promise<Finished> {
  finishing ??= runOrdersToTheirEnds();
  return finishing;
}

/** Runs one order to each end state the saga has, and waits until everything is quiet. */
async function runOrdersToTheirEnds(): Promise<Finished> {
  const p1 = await stockedProduct(shop, { price: 2000, stock: 5 });
  const p2 = await stockedProduct(shop, { price: 1500, stock: 2 });
  const p3 = await stockedProduct(shop, { price: 700, stock: 5 });
  const good = await newCustomer(shop, { card: 'pm_card_visa' });
  const declined = await newCustomer(shop, { card: 'pm_card_chargeDeclined' });
  const failing = await newCustomer(shop, { card: 'pm_card_processingError' });
  const customers = [good, declined, failing];
  await waitReadModels(shop, {
    productIds: [p1.id, p2.id, p3.id],
    addressIds: customers.map((customer) => customer.addressId),
    paymentMethodIds: customers.map((customer) => customer.paymentMethodId),
  });

  const place = (customer: Customer, productId: string, quantity: number) =>
    placeAcceptedOrder(shop, customer, [{ productId, quantity }]);
  const settle = (customer: Customer, order: OrderView, accept: (o: OrderView) => boolean) =>
    waitForOrder(shop, customer.token, order.id, accept, { timeoutMs: 90_000 });

  const [delivered, shipped, shortOfStock, declinedOrder, failedOrder, cancelledPaid] =
    await Promise.all([
      (async () => {
        const order = await place(good, p1.id, 2);
        const done = await settle(good, order, (o) => o.status === 'shipped');
        await expectCall(shop, 'POST', `/v1/shipments/${done.shipment?.id}/deliver`, 202, {
          token: shop.adminToken,
        });
        return settle(good, order, (o) => o.status === 'delivered');
      })(),
      (async () => {
        const order = await place(good, p3.id, 1);
        return settle(good, order, (o) => o.status === 'shipped');
      })(),
      (async () => {
        const order = await place(good, p2.id, 3);
        return settle(good, order, (o) => o.status === 'cancelled');
      })(),
      (async () => {
        const order = await place(declined, p1.id, 1);
        return settle(declined, order, (o) => o.status === 'cancelled');
      })(),
      (async () => {
        const order = await place(failing, p3.id, 1);
        return settle(failing, order, (o) => o.status === 'cancelled');
      })(),
      (async () => {
        // Cancelled while the provider is still charging: the charge lands late and is refunded.
        const order = await place(good, p1.id, 1);
        await settle(
          good,
          order,
          (o) => o.payment?.status === 'pending' && o.payment.attempts >= 1,
        );
        // ... charging for real: payments holds the attempt while the provider takes its time.
        // (A charge command that reaches payments only after the cancellation is not charged
        // at all, and there would be no late charge to refund.)
        await waitUntilCharging(order.id);
        await expectCall(shop, 'POST', `/v1/orders/${order.id}/cancel`, 202, { token: good.token });
        return settle(good, order, (o) => o.status === 'cancelled');
      })(),
    ]);

  const orders = { delivered, shipped, shortOfStock, declinedOrder, failedOrder, cancelledPaid };
  const token: Record<string, string> = {
    delivered: good.token,
    shipped: good.token,
    shortOfStock: good.token,
    declinedOrder: declined.token,
    failedOrder: failing.token,
    cancelledPaid: good.token,
  };
  const ids = Object.values(orders).map((order) => order.id);
  await waitAllSettled(shop.system, ids, 120_000);
  await waitOutboxesDrained(shop.system);
  await probe.waitCaughtUp();
  return {
    orders,
    token,
    products: [p1, p2, p3],
    initial: { [p1.id]: 5, [p2.id]: 2, [p3.id]: 5 },
  };
}

/** Until payments has the order's attempt in hand (recorded pending, the provider called). */
async function waitUntilCharging(orderId: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const rows = await query<{ status: string }>(
      shop.system,
      'SELECT status::text FROM payments.payments WHERE order_id = $1',
      [orderId],
    );
    if (rows.some((row) => row.status === 'pending')) return;
    if (Date.now() > deadline) throw new Error(`order ${orderId} was never being charged`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function timelines(done: Finished) {
  const result: Record<string, unknown> = {};
  for (const [name, order] of Object.entries(done.orders)) {
    result[name] = await timelineOf(shop, done.token[name] ?? '', order.id);
  }
  return result;
}

async function invariants(done: Finished) {
  return checkInvariants(shop.system, {
    orderIds: Object.values(done.orders).map((order) => order.id),
    products: done.products.map((product) => ({
      productId: product.id,
      initial: done.initial[product.id] ?? 0,
    })),
    ledgerFile: LEDGER,
  });
}

describe('duplicates injected on NATS', () => {
  it('runs one order to each end state', async () => {
    const done = await finishOrders();
    const { orders } = done;
    expect(orders.delivered).toMatchObject({ status: 'delivered' });
    expect(orders.shipped).toMatchObject({ status: 'shipped' });
    expect(orders.shortOfStock).toMatchObject({
      status: 'cancelled',
      cancellationReason: 'insufficient_stock',
    });
    expect(orders.declinedOrder).toMatchObject({
      status: 'cancelled',
      cancellationReason: 'payment_declined',
    });
    expect(orders.failedOrder).toMatchObject({
      status: 'cancelled',
      cancellationReason: 'payment_failed',
    });
    expect(orders.cancelledPaid).toMatchObject({
      status: 'cancelled',
      cancellationReason: 'customer_request',
    });
    const report = await invariants(done);
    expect(report.breaches).toEqual([]);
    expect(report.shipped).toBe(2);
  }, 240_000);

  it('shows the refunded late charge on an order cancelled mid-charge', async () => {
    const done = await finishOrders();
    const order = done.orders.cancelledPaid;
    const payments = await query<{ status: string }>(
      shop.system,
      'SELECT status::text FROM payments.payments WHERE order_id = $1',
      [order?.id],
    );
    // payments charged it late and gave it back ...
    expect(payments).toEqual([{ status: 'refunded' }]);
    // ... and the order's own copy of its payment must say so, not `pending` for ever.
    const seen = await waitForOrder(
      shop,
      done.token.cancelledPaid ?? '',
      order?.id ?? '',
      (o) => o.payment?.status !== 'pending',
      { timeoutMs: 20_000, what: 'payment summary settled' },
    ).catch((error: Error) => error.message);
    expect(seen).toMatchObject({ status: 'cancelled', payment: { status: 'refunded' } });
  }, 240_000);

  it('a copy of every command and event changes nothing, and the inboxes count each copy', async () => {
    const done = await finishOrders();
    const streams = await probe.serviceStreams();
    expect(streams.map((name) => name.slice(name.lastIndexOf('_') + 1)).sort()).toEqual([
      'INVENTORY',
      'ORDERS',
      'PAYMENTS',
      'USERS',
    ]);
    const messages = await probe.readAll(streams);
    const types = new Set(messages.map((message) => message.type));
    // The copies cover every step of the saga, commands and events both.
    for (const type of [
      'inventory.commands.reserve',
      'inventory.commands.release',
      'inventory.commands.ship',
      'inventory.events.reservation.reserved',
      'inventory.events.reservation.rejected',
      'inventory.events.reservation.released',
      'inventory.events.shipment.created',
      'inventory.events.shipment.delivered',
      'payments.commands.charge',
      // (no payments.commands.refund when the charge that landed after the cancel was refunded
      // by payments itself, which answers charge.failed and refund.succeeded)
      'payments.events.charge.succeeded',
      'payments.events.charge.declined',
      'payments.events.charge.failed',
      'payments.events.refund.succeeded',
      'orders.events.order.created',
      'orders.events.order.confirmed',
      'orders.events.order.shipped',
      'orders.events.order.delivered',
      'orders.events.order.cancelled',
    ]) {
      expect(types, `a ${type} message to duplicate`).toContain(type);
    }

    const before = await snapshotTables(shop.system);
    const timelinesBefore = await timelines(done);
    const duplicatesBefore = await counterByService(shop.system, 'messaging_duplicates_total');
    const handledBefore = await counterByService(shop.system, 'messaging_handled_total');
    const deadLettersBefore = await probe.deadLetters();
    const ledgerBefore = readProviderLedger(LEDGER);

    await probe.republish(messages);
    await probe.waitCaughtUp(90_000);
    await waitOutboxesDrained(shop.system);
    await probe.waitCaughtUp(90_000);

    const after = await snapshotTables(shop.system);
    expect(diffSnapshots(before, after)).toEqual({});
    expect(await timelines(done)).toEqual(timelinesBefore);
    expect(readProviderLedger(LEDGER)).toEqual(ledgerBefore);
    expect(await probe.deadLetters()).toBe(deadLettersBefore);
    expect(await counterByService(shop.system, 'messaging_handled_total')).toEqual(handledBefore);

    // Each (consumer, message) pair the inbox recorded the first time is counted once more.
    const expected = await inboxRowsFor(
      shop.system,
      messages.map((message) => message.id),
    );
    expect(expected).toBeGreaterThan(messages.length / 2);
    const duplicatesAfter = await counterByService(shop.system, 'messaging_duplicates_total');
    const counted = Object.keys(duplicatesAfter).reduce(
      (sum, service) => sum + (duplicatesAfter[service] ?? 0) - (duplicatesBefore[service] ?? 0),
      0,
    );
    expect(counted).toBe(expected);

    const report = await invariants(done);
    expect(report.breaches).toEqual([]);
  }, 240_000);

  // Shared by the two tests below: one injection, two sets of checks.
  let resent: { before: Record<string, string[]>; after: Record<string, string[]> } | undefined;
  let timelinesBeforeResend: Record<string, unknown> = {};

  it('every command sent again under a new message id moves no stock and no money', async () => {
    const done = await finishOrders();
    const streams = await probe.serviceStreams();
    const commands = (await probe.readAll(streams)).filter((message) =>
      message.type.includes('.commands.'),
    );
    // Only the first copy of each: the previous test doubled them on the stream.
    const seen = new Set<string>();
    const unique = commands.filter((message) => !seen.has(message.id) && seen.add(message.id));
    expect(unique.length).toBeGreaterThan(5);

    // The receivers answer again (new replies in outbox and inbox); the state must not move.
    const exclude = ['inbox', 'outbox'];
    const before = await snapshotTables(shop.system, { exclude });
    timelinesBeforeResend = await timelines(done);
    const ledgerBefore = readProviderLedger(LEDGER);
    const deadLettersBefore = await probe.deadLetters();

    await probe.republish(unique, { freshId: true });
    await probe.waitCaughtUp(90_000);
    await waitOutboxesDrained(shop.system);
    await probe.waitCaughtUp(90_000);

    const after = await snapshotTables(shop.system, { exclude });
    resent = { before, after };
    const moved = diffSnapshots(before, after);
    // Stock, reservations, shipments, payments, refunds: not a row changed.
    expect(
      Object.keys(moved).filter((table) => !table.startsWith('orders.')),
      JSON.stringify(moved).slice(0, 4000),
    ).toEqual([]);
    expect(readProviderLedger(LEDGER)).toEqual(ledgerBefore);
    expect(await probe.deadLetters()).toBe(deadLettersBefore);
    const statuses = (rows: string[] | undefined) =>
      (rows ?? []).map((row) => row.split(',').slice(0, 5).join(',')).sort();
    // Every order keeps its status and cancellation reason.
    expect(statuses(after['orders.orders'])).toEqual(statuses(before['orders.orders']));
    const report = await invariants(done);
    expect(report.breaches).toEqual([]);
  }, 240_000);

  it('every command sent again under a new message id leaves the sagas and timelines as they were', async () => {
    const done = await finishOrders();
    expect(resent, 'the resend test ran first').toBeDefined();
    const { before, after } = resent ?? { before: {}, after: {} };
    const pick = (snapshot: Record<string, string[]>) =>
      Object.fromEntries(
        ['orders.orders', 'orders.order_sagas', 'orders.saga_steps'].map((table) => [
          table,
          snapshot[table] ?? [],
        ]),
      );
    expect(diffSnapshots(pick(before), pick(after))).toEqual({});
    expect(await timelines(done)).toEqual(timelinesBeforeResend);
  }, 60_000);
});
