import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connectNats, createLogger } from '@shop/service-kit';
import { waitFor } from '@shop/service-kit/testing';
import { query } from './accounts.js';
import { expectCall, type Product, type Shop } from './shop.js';
import type { SystemUnderTest } from './system.js';

/**
 * Fault injection for whole-system tests: duplicates put straight on NATS, the durable
 * consumers' backlog, the services' duplicate counters, a snapshot of every table, the sandbox
 * provider's ledger, and the end-state invariants of a set of orders (nothing oversold,
 * nothing charged twice, nothing left reserved) read from the database.
 */

const natsLogger = createLogger({ service: 'faults-test', level: 'warn' });

/** A fresh ledger file for the sandbox provider, so it is read by this test only. */
export function providerLedgerFile(label: string): string {
  return path.join(tmpdir(), `shop-faults-${label}-${randomUUID()}`, 'ledger.jsonl');
}

// ── NATS ──────────────────────────────────────────────────────────────────────────────────

export interface StoredMessage {
  stream: string;
  seq: number;
  subject: string;
  data: Uint8Array;
  /** The envelope's id and type, as published. */
  id: string;
  type: string;
}

export interface ConsumerBacklog {
  stream: string;
  durable: string;
  pending: number;
  ackPending: number;
  redelivered: number;
}

export interface NatsProbe {
  /** Namespaced stream names of the services' streams (dead letters apart). */
  serviceStreams(): Promise<string[]>;
  /** Messages in the dead-letter stream. */
  deadLetters(): Promise<number>;
  /** Every message stored in the given streams, in stream order. */
  readAll(streams: string[]): Promise<StoredMessage[]>;
  /**
   * Publishes each message again to its subject without a msgID, so JetStream stores it as a
   * new message. `freshId` gives the envelope a new id (what a saga resend looks like).
   */
  republish(messages: StoredMessage[], options?: { freshId?: boolean }): Promise<void>;
  /** Every durable consumer in the namespace and what it still has to do. */
  backlog(): Promise<ConsumerBacklog[]>;
  /** Polls until every durable has nothing pending and nothing unacknowledged. */
  waitCaughtUp(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function openNatsProbe(system: SystemUnderTest): Promise<NatsProbe> {
  const namespace = system.env.NATS_NAMESPACE ?? '';
  if (!namespace) throw new Error('the system has no NATS namespace');
  const nc = await connectNats({
    servers: system.env.NATS_URL ?? 'nats://127.0.0.1:4222',
    name: 'faults-test',
    logger: natsLogger,
    maxAttempts: 3,
  });
  const jsm: JetStreamManager = await jetstreamManager(nc);
  const js = jetstream(nc);
  const deadLetterStream = `${namespace}_DEAD_LETTERS`;

  const streamNames = async (): Promise<string[]> => {
    const names: string[] = [];
    for await (const name of jsm.streams.names()) {
      if (name.startsWith(`${namespace}_`)) names.push(name);
    }
    return names.sort();
  };

  const backlog = async (): Promise<ConsumerBacklog[]> => {
    const rows: ConsumerBacklog[] = [];
    for (const stream of await streamNames()) {
      for await (const info of jsm.consumers.list(stream)) {
        rows.push({
          stream,
          durable: info.name,
          pending: info.num_pending,
          ackPending: info.num_ack_pending,
          redelivered: info.num_redelivered,
        });
      }
    }
    return rows;
  };

  return {
    async serviceStreams() {
      return (await streamNames()).filter((name) => name !== deadLetterStream);
    },
    async deadLetters() {
      const names = await streamNames();
      if (!names.includes(deadLetterStream)) return 0;
      return (await jsm.streams.info(deadLetterStream)).state.messages;
    },
    async readAll(streams) {
      const messages: StoredMessage[] = [];
      for (const stream of streams) {
        const { state } = await jsm.streams.info(stream);
        if (state.messages === 0) continue;
        for (let seq = state.first_seq; seq <= state.last_seq; seq += 1) {
          const stored = await jsm.streams.getMessage(stream, { seq });
          if (!stored) continue;
          const envelope = JSON.parse(new TextDecoder().decode(stored.data)) as {
            id: string;
            type: string;
          };
          messages.push({
            stream,
            seq,
            subject: stored.subject,
            data: stored.data,
            id: envelope.id,
            type: envelope.type,
          });
        }
      }
      return messages;
    },
    async republish(messages, options = {}) {
      for (const message of messages) {
        let data = message.data;
        if (options.freshId) {
          const envelope = JSON.parse(new TextDecoder().decode(message.data)) as Record<
            string,
            unknown
          >;
          data = new TextEncoder().encode(JSON.stringify({ ...envelope, id: randomUUID() }));
        }
        // No msgID: the stream's duplicate window must not swallow it.
        await js.publish(message.subject, data);
      }
    },
    backlog,
    async waitCaughtUp(timeoutMs = 60_000) {
      await waitFor(
        async () => {
          const rows = await backlog();
          if (rows.length > 0 && rows.every((row) => row.pending === 0 && row.ackPending === 0)) {
            return true;
          }
          throw new Error(`last: ${JSON.stringify(rows)}`);
        },
        `the consumers to catch up within ${timeoutMs} ms`,
        { timeoutMs, intervalMs: 200 },
      );
    },
    async close() {
      await nc.close();
    },
  };
}

// ── metrics ───────────────────────────────────────────────────────────────────────────────

export const MESSAGING_SERVICES = ['users', 'inventory', 'payments', 'orders'] as const;

/** Sum of one counter over its labels, per service, read from each service's /metrics. */
export async function counterByService(
  system: SystemUnderTest,
  metric: string,
): Promise<Record<string, number>> {
  const totals: Record<string, number> = {};
  for (const service of MESSAGING_SERVICES) {
    const response = await fetch(`${system.url(service)}/metrics`);
    const text = await response.text();
    let total = 0;
    for (const line of text.split('\n')) {
      if (line.startsWith(`${metric}{`) || line.startsWith(`${metric} `)) {
        total += Number(line.slice(line.lastIndexOf(' ') + 1));
      }
    }
    totals[service] = total;
  }
  return totals;
}

// ── database ──────────────────────────────────────────────────────────────────────────────

export const SERVICE_SCHEMAS = ['users', 'inventory', 'payments', 'orders'] as const;

/** Every row of every table of the services' schemas, as text, sorted: for before/after diffs. */
export async function snapshotTables(
  system: SystemUnderTest,
  { exclude = [] }: { exclude?: string[] } = {},
): Promise<Record<string, string[]>> {
  const tables = await query<{ schema: string; name: string }>(
    system,
    `SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
      WHERE table_schema = ANY($1) AND table_type = 'BASE TABLE'
      ORDER BY 1, 2`,
    [[...SERVICE_SCHEMAS]],
  );
  const snapshot: Record<string, string[]> = {};
  for (const { schema, name } of tables) {
    if (exclude.includes(name) || exclude.includes(`${schema}.${name}`)) continue;
    const rows = await query<{ row: string }>(
      system,
      `SELECT t::text AS row FROM "${schema}"."${name}" t ORDER BY 1`,
    );
    snapshot[`${schema}.${name}`] = rows.map((row) => row.row);
  }
  return snapshot;
}

/** Tables whose rows differ between two snapshots, with the rows added and removed. */
export function diffSnapshots(
  before: Record<string, string[]>,
  after: Record<string, string[]>,
): Record<string, { added: string[]; removed: string[] }> {
  const diff: Record<string, { added: string[]; removed: string[] }> = {};
  for (const table of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const was = new Set(before[table] ?? []);
    const now = new Set(after[table] ?? []);
    const added = [...now].filter((row) => !was.has(row));
    const removed = [...was].filter((row) => !now.has(row));
    if (added.length > 0 || removed.length > 0) diff[table] = { added, removed };
  }
  return diff;
}

/** Inbox rows (consumer, message) that name one of the given message ids, over every service. */
export async function inboxRowsFor(system: SystemUnderTest, ids: string[]): Promise<number> {
  let total = 0;
  for (const schema of SERVICE_SCHEMAS) {
    const [exists] = await query<{ found: boolean }>(
      system,
      `SELECT to_regclass($1) IS NOT NULL AS found`,
      [`${schema}.inbox`],
    );
    if (!exists?.found) continue;
    const [row] = await query<{ count: number }>(
      system,
      `SELECT count(*)::int AS count FROM "${schema}".inbox WHERE message_id = ANY($1::uuid[])`,
      [ids],
    );
    total += row?.count ?? 0;
  }
  return total;
}

/** Polls until no service has an outbox row still to publish. */
export async function waitOutboxesDrained(system: SystemUnderTest, timeoutMs = 30_000) {
  await waitFor(
    async () => {
      let unsent = 0;
      for (const schema of SERVICE_SCHEMAS) {
        const [row] = await query<{ count: number }>(
          system,
          `SELECT count(*)::int AS count FROM "${schema}".outbox WHERE published_at IS NULL`,
        );
        unsent += row?.count ?? 0;
      }
      if (unsent === 0) return true;
      throw new Error(`${unsent} outbox rows unsent`);
    },
    `the outboxes to drain within ${timeoutMs} ms`,
    { timeoutMs, intervalMs: 200 },
  );
}

// ── the sandbox provider's ledger ─────────────────────────────────────────────────────────

export interface ProviderCharge {
  id: string;
  key: string;
  amount: number;
  status: 'succeeded' | 'failed';
  refunded: number;
}

/** Every charge the sandbox provider recorded in its ledger file, with the amount refunded. */
export function readProviderLedger(file: string): ProviderCharge[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const charges = new Map<string, ProviderCharge>();
  const refunds: Array<{ charge: string; amount: number }> = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let entry: {
      kind: string;
      key: string;
      charge?: { id: string; amount: number; status: 'succeeded' | 'failed' };
      refund?: { charge: string; amount: number };
    };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      continue; // a torn last line: a write the provider never acknowledged
    }
    if (entry.kind === 'charge' && entry.charge) {
      charges.set(entry.charge.id, {
        id: entry.charge.id,
        key: entry.key,
        amount: entry.charge.amount,
        status: entry.charge.status,
        refunded: 0,
      });
    } else if (entry.kind === 'refund' && entry.refund) {
      refunds.push(entry.refund);
    }
  }
  for (const refund of refunds) {
    const charge = charges.get(refund.charge);
    if (charge) charge.refunded += refund.amount;
  }
  return [...charges.values()];
}

// ── end states of a set of orders ─────────────────────────────────────────────────────────

export interface OrderEnd {
  id: string;
  status: string;
  cancellationReason: string | null;
  sagaState: string | null;
  payments: Array<{ attemptId: string; status: string }>;
  refunds: Array<{ status: string }>;
  openReservations: number;
}

export async function orderEnds(system: SystemUnderTest, orderIds: string[]): Promise<OrderEnd[]> {
  const orders = await query<{
    id: string;
    status: string;
    cancellation_reason: string | null;
    saga_state: string | null;
  }>(
    system,
    `SELECT o.id, o.status::text, o.cancellation_reason::text, s.state::text AS saga_state
       FROM orders.orders o LEFT JOIN orders.order_sagas s ON s.order_id = o.id
      WHERE o.id = ANY($1::uuid[])`,
    [orderIds],
  );
  const payments = await query<{ order_id: string; attempt_id: string; status: string }>(
    system,
    `SELECT order_id, attempt_id, status::text FROM payments.payments
      WHERE order_id = ANY($1::uuid[])`,
    [orderIds],
  );
  const refunds = await query<{ order_id: string; status: string }>(
    system,
    `SELECT order_id, status::text FROM payments.refunds WHERE order_id = ANY($1::uuid[])`,
    [orderIds],
  );
  const reservations = await query<{ order_id: string; count: number }>(
    system,
    `SELECT order_id, count(*)::int AS count FROM inventory.reservations
      WHERE order_id = ANY($1::uuid[]) AND status = 'reserved' GROUP BY order_id`,
    [orderIds],
  );
  return orders.map((order) => ({
    id: order.id,
    status: order.status,
    cancellationReason: order.cancellation_reason,
    sagaState: order.saga_state,
    payments: payments
      .filter((payment) => payment.order_id === order.id)
      .map((payment) => ({ attemptId: payment.attempt_id, status: payment.status })),
    refunds: refunds.filter((refund) => refund.order_id === order.id),
    openReservations: reservations.find((row) => row.order_id === order.id)?.count ?? 0,
  }));
}

const FINAL = new Set(['shipped', 'delivered', 'cancelled']);

/** Whether an order is done with every service: nothing in flight anywhere. */
function isSettled(end: OrderEnd): boolean {
  return (
    FINAL.has(end.status) &&
    end.sagaState !== null &&
    FINAL.has(end.sagaState) &&
    end.payments.every((payment) => payment.status !== 'pending') &&
    end.refunds.every((refund) => refund.status !== 'pending') &&
    end.openReservations === 0
  );
}

/**
 * Polls until every order is shipped (or delivered) or cancelled, its saga at rest, no payment
 * or refund pending and no reservation held; throws with the ones that are not.
 */
export async function waitAllSettled(
  system: SystemUnderTest,
  orderIds: string[],
  timeoutMs = 240_000,
): Promise<OrderEnd[]> {
  return waitFor(
    async () => {
      const ends = await orderEnds(system, orderIds);
      const unsettled = ends.filter((end) => !isSettled(end));
      if (ends.length === orderIds.length && unsettled.length === 0) return ends;
      throw new Error(
        `${unsettled.length} of ${orderIds.length} orders not settled: ` +
          JSON.stringify(unsettled.slice(0, 10)),
      );
    },
    `${orderIds.length} orders to settle within ${timeoutMs} ms`,
    { timeoutMs, intervalMs: 500 },
  );
}

export interface ProductStock {
  productId: string;
  initial: number;
}

export interface InvariantReport {
  /** Human-readable breaches; empty when every invariant holds. */
  breaches: string[];
  shipped: number;
  cancelled: number;
  byReason: Record<string, number>;
  shippedUnits: Record<string, number>;
}

/**
 * The end-state invariants of a burst, straight from each service's tables and the provider's
 * ledger: on-hand is the ledger's sum, nothing reserved, nothing oversold, what orders calls
 * shipped is what inventory shipped, at most one succeeded payment per order and at most one
 * net charge at the provider, shipped orders paid exactly once, cancelled orders owe nothing.
 */
export async function checkInvariants(
  system: SystemUnderTest,
  {
    orderIds,
    products,
    ledgerFile,
  }: { orderIds: string[]; products: ProductStock[]; ledgerFile: string },
): Promise<InvariantReport> {
  const breaches: string[] = [];
  const ends = await orderEnds(system, orderIds);
  const productIds = products.map((product) => product.productId);

  if (ends.length !== orderIds.length) {
    breaches.push(`${orderIds.length - ends.length} orders missing from orders.orders`);
  }
  const byReason: Record<string, number> = {};
  for (const end of ends) {
    if (!FINAL.has(end.status)) breaches.push(`order ${end.id} ended ${end.status}`);
    if (end.sagaState !== null && !FINAL.has(end.sagaState)) {
      breaches.push(`order ${end.id} saga rests in ${end.sagaState}`);
    }
    if (end.status === 'cancelled') {
      const reason = end.cancellationReason ?? 'none';
      byReason[reason] = (byReason[reason] ?? 0) + 1;
    }
  }

  // Stock: on-hand = ledger, nothing reserved, nothing oversold, orders and inventory agree.
  const stock = await query<{
    product_id: string;
    on_hand: number;
    reserved: number;
    ledger: number;
    sold: number;
  }>(
    system,
    `SELECT i.product_id, i.quantity_on_hand AS on_hand, i.quantity_reserved AS reserved,
            (SELECT coalesce(sum(t.quantity_change), 0)::int FROM inventory.inventory_transactions t
              WHERE t.product_id = i.product_id) AS ledger,
            (SELECT coalesce(-sum(t.quantity_change), 0)::int FROM inventory.inventory_transactions t
              WHERE t.product_id = i.product_id AND t.type = 'sale') AS sold
       FROM inventory.inventory i WHERE i.product_id = ANY($1::uuid[])`,
    [productIds],
  );
  const orderedShipped = await query<{ product_id: string; units: number }>(
    system,
    `SELECT it.product_id, sum(it.quantity)::int AS units
       FROM orders.order_items it JOIN orders.orders o ON o.id = it.order_id
      WHERE o.id = ANY($1::uuid[]) AND o.status IN ('shipped', 'delivered')
      GROUP BY it.product_id`,
    [orderIds],
  );
  const openReservations = await query<{ product_id: string; count: number }>(
    system,
    `SELECT product_id, count(*)::int AS count FROM inventory.reservations
      WHERE product_id = ANY($1::uuid[]) AND status = 'reserved' GROUP BY product_id`,
    [productIds],
  );
  const shippedUnits: Record<string, number> = {};
  for (const product of products) {
    const row = stock.find((candidate) => candidate.product_id === product.productId);
    if (!row) {
      breaches.push(`product ${product.productId} has no inventory row`);
      continue;
    }
    const shipped = orderedShipped.find((r) => r.product_id === product.productId)?.units ?? 0;
    shippedUnits[product.productId] = shipped;
    if (row.on_hand !== row.ledger) {
      breaches.push(`product ${product.productId}: on-hand ${row.on_hand} ≠ ledger ${row.ledger}`);
    }
    if (row.reserved !== 0) {
      breaches.push(`product ${product.productId}: ${row.reserved} still reserved`);
    }
    if (row.sold > product.initial) {
      breaches.push(
        `product ${product.productId}: ${row.sold} sold of ${product.initial} (oversold)`,
      );
    }
    if (row.on_hand !== product.initial - row.sold) {
      breaches.push(
        `product ${product.productId}: on-hand ${row.on_hand} ≠ ${product.initial} - ${row.sold} sold`,
      );
    }
    if (shipped !== row.sold) {
      breaches.push(
        `product ${product.productId}: orders shipped ${shipped} units, inventory sold ${row.sold}`,
      );
    }
    const open = openReservations.find((r) => r.product_id === product.productId)?.count ?? 0;
    if (open !== 0)
      breaches.push(`product ${product.productId}: ${open} reservation rows still reserved`);
  }

  // Shipments: one per shipped order, none for a cancelled one.
  const shipments = await query<{ order_id: string }>(
    system,
    `SELECT order_id FROM inventory.shipments WHERE order_id = ANY($1::uuid[])`,
    [orderIds],
  );
  const shippedOrders = new Set(shipments.map((row) => row.order_id));
  for (const end of ends) {
    const isShipped = end.status === 'shipped' || end.status === 'delivered';
    if (isShipped !== shippedOrders.has(end.id)) {
      breaches.push(`order ${end.id} is ${end.status} but has ${isShipped ? 'no' : 'a'} shipment`);
    }
  }

  // Money: payments rows, and what the provider actually charged and refunded.
  const charges = readProviderLedger(ledgerFile);
  const attemptOrder = new Map<string, string>();
  for (const end of ends) {
    for (const payment of end.payments) attemptOrder.set(payment.attemptId, end.id);
  }
  const netCharges = new Map<string, number>();
  for (const charge of charges) {
    const orderId = attemptOrder.get(charge.key);
    if (!orderId) continue; // another test's charge in a shared ledger
    if (charge.status === 'succeeded' && charge.refunded < charge.amount) {
      netCharges.set(orderId, (netCharges.get(orderId) ?? 0) + 1);
    }
    if (charge.refunded > charge.amount) {
      breaches.push(`charge ${charge.id} refunded ${charge.refunded} of ${charge.amount}`);
    }
  }
  for (const end of ends) {
    const succeeded = end.payments.filter((payment) => payment.status === 'succeeded').length;
    const charged = end.payments.filter(
      (payment) => payment.status === 'succeeded' || payment.status === 'refunded',
    ).length;
    const net = netCharges.get(end.id) ?? 0;
    if (succeeded > 1) breaches.push(`order ${end.id} has ${succeeded} succeeded payments`);
    if (net > 1) breaches.push(`order ${end.id} has ${net} net charges at the provider`);
    if (charged > 1) {
      // More than one attempt took money: allowed only if all but one were given back.
      const kept = end.payments.filter((payment) => payment.status === 'succeeded').length;
      if (kept > 1) breaches.push(`order ${end.id} kept ${kept} charges`);
    }
    if (end.status === 'shipped' || end.status === 'delivered') {
      if (succeeded !== 1)
        breaches.push(`order ${end.id} shipped with ${succeeded} succeeded payments`);
      if (net !== 1) breaches.push(`order ${end.id} shipped with ${net} net provider charges`);
    }
    if (end.status === 'cancelled') {
      if (succeeded !== 0) {
        breaches.push(`cancelled order ${end.id} has a succeeded payment not refunded`);
      }
      if (net !== 0) breaches.push(`cancelled order ${end.id} keeps ${net} provider charge(s)`);
    }
  }
  // Every charge payments knows of as charged is one the provider made.
  const chargedKeys = new Set(
    charges.filter((charge) => charge.status === 'succeeded').map((charge) => charge.key),
  );
  for (const end of ends) {
    for (const payment of end.payments) {
      if (
        (payment.status === 'succeeded' || payment.status === 'refunded') &&
        !chargedKeys.has(payment.attemptId)
      ) {
        breaches.push(
          `payment attempt ${payment.attemptId} is ${payment.status} unknown to the provider`,
        );
      }
    }
  }

  return {
    breaches,
    shipped: ends.filter((end) => end.status === 'shipped' || end.status === 'delivered').length,
    cancelled: ends.filter((end) => end.status === 'cancelled').length,
    byReason,
    shippedUnits,
  };
}

// ── catalog ───────────────────────────────────────────────────────────────────────────────

/** A product with opening stock (a valid reorder point: the API requires one of at least 1). */
export async function stockedProduct(
  shop: Shop,
  { price = 1000, stock = 10 }: { price?: number; stock?: number } = {},
): Promise<Product> {
  const sku = `FLT-${randomUUID().slice(0, 8).toUpperCase()}`;
  return expectCall<Product>(shop, 'POST', '/v1/products', 201, {
    token: shop.adminToken,
    body: {
      sku,
      name: 'Fault widget',
      category: 'test',
      price,
      initialStock: stock,
      reorderPoint: 1,
    },
  });
}

// ── read models ───────────────────────────────────────────────────────────────────────────

/** Polls until orders' read models know the products, addresses and payment methods. */
export async function waitReadModels(
  shop: Shop,
  {
    productIds = [],
    addressIds = [],
    paymentMethodIds = [],
  }: { productIds?: string[]; addressIds?: string[]; paymentMethodIds?: string[] },
  timeoutMs = 30_000,
): Promise<void> {
  await waitFor(
    async () => {
      const [row] = await query<{ products: number; addresses: number; methods: number }>(
        shop.system,
        `SELECT (SELECT count(*)::int FROM orders.product_prices WHERE product_id = ANY($1::uuid[])) AS products,
                (SELECT count(*)::int FROM orders.customer_addresses WHERE address_id = ANY($2::uuid[])) AS addresses,
                (SELECT count(*)::int FROM orders.customer_payment_methods
                  WHERE payment_method_id = ANY($3::uuid[])) AS methods`,
        [productIds, addressIds, paymentMethodIds],
      );
      if (
        row?.products === productIds.length &&
        row.addresses === addressIds.length &&
        row.methods === paymentMethodIds.length
      ) {
        return true;
      }
      throw new Error(`last: ${JSON.stringify(row)}`);
    },
    `the read models within ${timeoutMs} ms`,
    { timeoutMs, intervalMs: 200 },
  );
}
