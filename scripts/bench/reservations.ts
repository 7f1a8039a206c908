import { randomUUID } from 'node:crypto';
import { ReserveStock, StockReserved, type MessageData } from '@shop/contracts';
import {
  buildEnvelope,
  createLogger,
  openDataSource,
  prepareDatabase,
  type Logger,
} from '@shop/service-kit';
import { createTestDatabase } from '@shop/service-kit/testing';
import type { DataSource } from 'typeorm';
import { inventoryDatabase } from '../../services/inventory/src/db/index.js';
import { reservationsRepository } from '../../services/inventory/src/db/repositories/reservations.js';
import { stockRepository } from '../../services/inventory/src/db/repositories/stock.js';
import { normalizeLines } from '../../services/inventory/src/domain/reservation.js';
import { reserveStockHandler } from '../../services/inventory/src/messaging/reserve-stock.js';
import type { BenchResult } from './report.js';
import {
  alternateRounds,
  dropWhenIdle,
  explainStatements,
  seededRandom,
  timeConcurrently,
} from './timing.js';

const PRODUCTS = 200;
const LINES_PER_ORDER = 3;
const ON_HAND = 1_000_000;
const WARMUP_ORDERS = 40;

type Order = MessageData<typeof ReserveStock>;

function makeOrders(count: number, productIds: readonly string[], random: () => number): Order[] {
  return Array.from({ length: count }, () => {
    const picked = new Set<string>();
    while (picked.size < LINES_PER_ORDER) {
      picked.add(productIds[Math.floor(random() * productIds.length)]!);
    }
    return {
      orderId: randomUUID(),
      customerId: randomUUID(),
      items: [...picked].map((productId) => ({
        productId,
        quantity: 1 + Math.floor(random() * 3),
      })),
    };
  });
}

/**
 * Inventory's reservation, the real handler body (per-order lock, outcome lookup, active check,
 * conditional updates under a savepoint, reservation rows, StockChanged per line, the recorded
 * answer and StockReserved in the outbox), called inside a transaction as the inbox would call
 * it, against the least a correct reservation could write in the same transaction shape: one
 * plain increment per line, in product order. No NATS: the figure is the database's cost.
 */
export async function benchReservations(
  orders: number,
  concurrency: number,
  options: { explain: boolean },
): Promise<BenchResult[]> {
  const logger = createLogger({ service: 'bench', level: 'warn' });
  const database = await createTestDatabase('bench_reservations');
  let dataSource: DataSource | undefined;
  try {
    const { runtimeUrl } = await prepareDatabase({
      adminUrl: database.url,
      schema: inventoryDatabase.schema,
      role: inventoryDatabase.role,
      migrations: inventoryDatabase.migrations,
      logger,
    });
    dataSource = await openDataSource({
      url: runtimeUrl,
      schema: inventoryDatabase.schema,
      entities: inventoryDatabase.entities,
      logger,
      poolSize: concurrency + 2,
      applicationName: 'bench-reservations',
    });
    const productIds = await seedStock(dataSource);
    const random = seededRandom(42);
    const baselineOrders = makeOrders(orders + WARMUP_ORDERS, productIds, random);
    const measuredOrders = makeOrders(orders + WARMUP_ORDERS, productIds, random);

    const handler = reserveStockHandler({ ttlSeconds: 3600 });
    const source = dataSource;
    const measured = (order: Order) =>
      source.transaction((manager) =>
        handler.handle(order, {
          manager,
          envelope: buildEnvelope(ReserveStock, order),
          deliveryCount: 1,
          logger,
        }),
      );
    const baseline = (order: Order) =>
      source.transaction(async (manager) => {
        for (const line of normalizeLines(order.items)) {
          await manager.query(
            'UPDATE inventory SET quantity_reserved = quantity_reserved + $1 WHERE product_id = $2',
            [line.quantity, line.productId],
          );
        }
      });

    await timeConcurrently(baselineOrders.slice(0, WARMUP_ORDERS), concurrency, baseline);
    await timeConcurrently(measuredOrders.slice(0, WARMUP_ORDERS), concurrency, measured);
    const timing = await alternateRounds({
      rounds: 4,
      concurrency,
      baselineItems: baselineOrders.slice(WARMUP_ORDERS),
      measuredItems: measuredOrders.slice(WARMUP_ORDERS),
      baseline,
      measured,
    });
    await checkEveryLineHeld(dataSource, baselineOrders, measuredOrders);

    if (options.explain) {
      await explainReservation(database.url, logger, productIds, random);
    }

    return [
      {
        name: `reservations, ${orders} × ${LINES_PER_ORDER} lines`,
        baseline: `plain UPDATE per line, ${concurrency} at once`,
        baselineMs: timing.baselineMs,
        measuredMs: timing.measuredMs,
      },
    ];
  } finally {
    await dataSource?.destroy();
    await dropWhenIdle(database);
  }
}

/** Active products with plenty on hand, written as the schema requires. */
async function seedStock(dataSource: DataSource): Promise<string[]> {
  const rows = (await dataSource.query(
    `INSERT INTO products (sku, name, category, price)
     SELECT 'BENCH-' || n, 'Bench product ' || n, 'bench', 1000
       FROM generate_series(1, $1) AS n
     RETURNING id`,
    [PRODUCTS],
  )) as Array<{ id: string }>;
  await dataSource.query(
    `INSERT INTO inventory (product_id, quantity_on_hand, reorder_point)
     SELECT id, $1, 1 FROM products`,
    [ON_HAND],
  );
  await dataSource.query('ANALYZE');
  return rows.map((row) => row.id);
}

/** Every line of every order was held: a rejected reservation would make the figure a lie. */
async function checkEveryLineHeld(
  dataSource: DataSource,
  baselineOrders: readonly Order[],
  measuredOrders: readonly Order[],
): Promise<void> {
  const units = [...baselineOrders, ...measuredOrders]
    .flatMap((order) => order.items)
    .reduce((sum, line) => sum + line.quantity, 0);
  const [row] = (await dataSource.query(
    `SELECT (SELECT sum(quantity_reserved)::int FROM inventory) AS reserved,
            (SELECT count(*)::int FROM reservations) AS lines,
            (SELECT count(*)::int FROM command_outcomes WHERE reply_type = $1) AS answered`,
    [StockReserved.type],
  )) as Array<{ reserved: number; lines: number; answered: number }>;
  const expected = {
    reserved: units,
    lines: measuredOrders.length * LINES_PER_ORDER,
    answered: measuredOrders.length,
  };
  if (JSON.stringify(row) !== JSON.stringify(expected)) {
    throw new Error(
      `reservation bench: expected ${JSON.stringify(expected)}, found ${JSON.stringify(row)}`,
    );
  }
}

/** The conditional UPDATE and the reservation-row INSERT, as the repositories run them. */
async function explainReservation(
  adminUrl: string,
  logger: Logger,
  productIds: readonly string[],
  random: () => number,
): Promise<void> {
  const admin = await openDataSource({ url: adminUrl, schema: inventoryDatabase.schema, logger });
  try {
    const plans = await explainStatements(admin, async (manager) => {
      const [order] = makeOrders(1, productIds, random);
      const lines = normalizeLines(order!.items);
      await stockRepository(manager).reserve(lines[0]!.productId, lines[0]!.quantity);
      await reservationsRepository(manager).insert(order!.orderId, lines, 3600, {
        correlationId: randomUUID(),
        causationId: randomUUID(),
      });
    });
    console.log(`\n-- reservation plans --\n${plans.join('\n\n')}\n`);
  } finally {
    await admin.destroy();
  }
}
