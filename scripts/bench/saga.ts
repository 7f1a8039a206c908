import { randomUUID } from 'node:crypto';
import {
  createLogger,
  openDataSource,
  parseConfig,
  prepareDatabase,
  type Logger,
} from '@shop/service-kit';
import { createTestDatabase } from '@shop/service-kit/testing';
import type { DataSource } from 'typeorm';
import { OrdersConfig, sagaSettings } from '../../services/orders/src/config.js';
import { ordersDatabase } from '../../services/orders/src/db/index.js';
import { createOrdersRepository } from '../../services/orders/src/db/repositories/orders.js';
import { createSagasRepository } from '../../services/orders/src/db/repositories/sagas.js';
import { formatOrderNumber } from '../../services/orders/src/domain/order-number.js';
import { newSagaData, startSaga } from '../../services/orders/src/domain/saga/index.js';
import {
  applySagaEvent,
  sagaContext,
  type SagaRuntime,
} from '../../services/orders/src/saga/runtime.js';
import type { BenchResult } from './report.js';
import { alternateRounds, dropWhenIdle, explainStatements, timeConcurrently } from './timing.js';

const WARMUP_SAGAS = 40;
const SETUP_BATCH = 100;

/**
 * One saga step through the orders runtime: `stock_reserved` on a saga in `reserving` (load the
 * row, decide, version-checked saga write, the order's payment summary, two timeline rows,
 * ChargePayment in the outbox), one transaction per saga, against the same number of
 * transactions each writing the least a step must: one single-row UPDATE and one INSERT.
 */
export async function benchSaga(sagas: number, concurrency: number, options: { explain: boolean }) {
  const logger = createLogger({ service: 'bench', level: 'warn' });
  const database = await createTestDatabase('bench_saga');
  let dataSource: DataSource | undefined;
  try {
    const { runtimeUrl } = await prepareDatabase({
      adminUrl: database.url,
      schema: ordersDatabase.schema,
      role: ordersDatabase.role,
      migrations: ordersDatabase.migrations,
      logger,
    });
    dataSource = await openDataSource({
      url: runtimeUrl,
      schema: ordersDatabase.schema,
      entities: ordersDatabase.entities,
      logger,
      poolSize: concurrency + 2,
      applicationName: 'bench-saga',
    });
    const runtime: SagaRuntime = {
      settings: sagaSettings(
        parseConfig(OrdersConfig, {
          USERS_URL: 'http://127.0.0.1:1',
          INVENTORY_URL: 'http://127.0.0.1:1',
        }),
      ),
      onNeedsAttention: () => undefined,
    };
    const baselineIds = await placeSagas(dataSource, runtime, sagas + WARMUP_SAGAS);
    const measuredIds = await placeSagas(dataSource, runtime, sagas + WARMUP_SAGAS);
    await dataSource.query('ANALYZE');

    const source = dataSource;
    const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
    const measured = (orderId: string) =>
      source.transaction(async (manager) => {
        const decision = await applySagaEvent(
          manager,
          orderId,
          { type: 'stock_reserved', expiresAt },
          runtime,
          logger,
        );
        if (decision.outcome !== 'applied') {
          throw new Error(`saga bench: ${orderId} ignored the event (${decision.reason})`);
        }
      });
    const baseline = (orderId: string) =>
      source.transaction(async (manager) => {
        await manager.query(
          `UPDATE order_sagas SET state = 'charging', version = version + 1, updated_at = now()
            WHERE order_id = $1`,
          [orderId],
        );
        await manager.query(
          `INSERT INTO saga_steps (order_id, at, step, outcome) VALUES ($1, now(), 'bench', 'done')`,
          [orderId],
        );
      });

    await timeConcurrently(baselineIds.slice(0, WARMUP_SAGAS), concurrency, baseline);
    await timeConcurrently(measuredIds.slice(0, WARMUP_SAGAS), concurrency, measured);
    const timing = await alternateRounds({
      rounds: 4,
      concurrency,
      baselineItems: baselineIds.slice(WARMUP_SAGAS),
      measuredItems: measuredIds.slice(WARMUP_SAGAS),
      baseline,
      measured,
    });

    const [charging] = (await dataSource.query(
      `SELECT count(*)::int AS n FROM order_sagas WHERE state = 'charging' AND version = 2`,
    )) as Array<{ n: number }>;
    if (charging!.n !== baselineIds.length + measuredIds.length) {
      throw new Error(`saga bench: ${charging!.n} sagas moved, expected ${2 * baselineIds.length}`);
    }

    if (options.explain) await explainStep(database.url, logger, runtime, expiresAt);

    return [
      {
        name: `saga step, ${sagas} sagas`,
        baseline: `1 UPDATE by key + 1 INSERT per tx, ${concurrency} at once`,
        baselineMs: timing.baselineMs,
        measuredMs: timing.measuredMs,
      },
    ] satisfies BenchResult[];
  } finally {
    await dataSource?.destroy();
    await dropWhenIdle(database);
  }
}

/**
 * Orders waiting on their reservation, as placeOrder leaves them: the order row (direct SQL,
 * matching the schema), then the saga, its first timeline rows and its first command through
 * the orders code. Returns the order ids.
 */
async function placeSagas(
  dataSource: DataSource,
  runtime: SagaRuntime,
  count: number,
): Promise<string[]> {
  const ids: string[] = [];
  for (let offset = 0; offset < count; offset += SETUP_BATCH) {
    await dataSource.transaction(async (manager) => {
      const orders = createOrdersRepository(manager);
      for (let i = offset; i < Math.min(offset + SETUP_BATCH, count); i += 1) {
        const id = randomUUID();
        const context = sagaContext(runtime);
        const orderNumber = formatOrderNumber(
          context.now.getUTCFullYear(),
          await orders.nextOrderNumberValue(),
        );
        const customerId = randomUUID();
        const paymentMethodId = randomUUID();
        const shippingAddress = {
          addressId: randomUUID(),
          line1: '1 Main St',
          city: 'Springfield',
          state: 'IL',
          country: 'US',
          postalCode: '62701',
        };
        const items = [1, 2, 3].map((quantity) => ({ productId: randomUUID(), quantity }));
        const total = 6000;
        await manager.query(
          `INSERT INTO orders (id, order_number, customer_id, subtotal, total, shipping_address_id,
                               shipping_address, payment_method_id)
           VALUES ($1, $2, $3, $4, $4, $5, $6::jsonb, $7)`,
          [
            id,
            orderNumber,
            customerId,
            total,
            shippingAddress.addressId,
            JSON.stringify(shippingAddress),
            paymentMethodId,
          ],
        );
        const data = newSagaData({
          orderId: id,
          orderNumber,
          customerId,
          items,
          total,
          currency: 'USD',
          shippingAddress,
          paymentMethodId,
          providerPaymentMethodId: `pm_bench_${i}`,
        });
        const decision = startSaga(data, context);
        await createSagasRepository(manager).insert(id, decision.saga);
        await orders.appendTimeline(id, context.now, decision.timeline);
        ids.push(id);
      }
    });
  }
  return ids;
}

/** The step's statements on one fresh saga, as the runtime runs them. */
async function explainStep(
  adminUrl: string,
  logger: Logger,
  runtime: SagaRuntime,
  expiresAt: string,
): Promise<void> {
  const admin = await openDataSource({ url: adminUrl, schema: ordersDatabase.schema, logger });
  try {
    const [orderId] = await placeSagas(admin, runtime, 1);
    const plans = await explainStatements(admin, async (manager) => {
      await applySagaEvent(
        manager,
        orderId!,
        { type: 'stock_reserved', expiresAt },
        runtime,
        logger,
      );
    });
    console.log(`\n-- saga step plans --\n${plans.join('\n\n')}\n`);
  } finally {
    await admin.destroy();
  }
}
