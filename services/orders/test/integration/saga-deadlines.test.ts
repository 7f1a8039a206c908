import { ReleaseStock, ReserveStock, StockReleased } from '@shop/contracts';
import { waitFor } from '@shop/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, withTransaction } from '@shop/service-kit';
import { startHarness, type Harness } from './harness.js';
import { ordersClient } from './orders-client.js';
import { OrdersConfig, sagaSettings } from '../../src/config.js';
import { createSagasRepository } from '../../src/db/repositories/sagas.js';
import { applySagaEvent, type SagaRuntime } from '../../src/saga/runtime.js';

let harness: Harness;
let client: ReturnType<typeof ordersClient>;

beforeAll(async () => {
  harness = await startHarness('orders-saga-deadlines', {
    SAGA_STEP_TIMEOUT_SECONDS: '1',
    SAGA_STEP_MAX_RESENDS: '1',
  });
  client = ordersClient(harness);
});
afterAll(() => harness.stop());

describe('step deadlines', () => {
  it('resend the command once, then compensate and cancel', async () => {
    const customer = await harness.customer();
    const productId = harness.product(700);
    const order = (await client.place(customer.token, client.body(customer, productId))).json<{
      id: string;
    }>();
    // Nobody answers: the reserve command is resent, identical, once.
    const reserves = await waitFor(async () => {
      const found = await harness.messages('INVENTORY', ReserveStock, order.id);
      return found.length >= 2 && found;
    }, 'resent reserve');
    expect(reserves[1]!.data).toEqual(reserves[0]!.data);
    // Then the saga gives up, releasing in case the warehouse did reserve.
    await waitFor(
      async () => (await harness.messages('INVENTORY', ReleaseStock, order.id)).length === 1,
      'release',
    );
    expect(await harness.messages('INVENTORY', ReserveStock, order.id)).toHaveLength(2);
    await harness.publish(StockReleased, {
      orderId: order.id,
      items: [],
      reason: 'product_unavailable',
      releasedAt: new Date().toISOString(),
    });
    await waitFor(
      async () => (await client.get(customer.token, order.id)).status === 'cancelled',
      'cancelled',
    );
    const timeline = await client.timeline(customer.token, order.id);
    expect(timeline.items.map((item) => `${item.step}:${item.outcome}`)).toContain(
      'reserve_stock:timed_out',
    );
  });

  it('a due saga is claimed by one transaction at a time (SKIP LOCKED)', async () => {
    const customer = await harness.customer();
    const productId = harness.product(700);
    const order = (await client.place(customer.token, client.body(customer, productId))).json<{
      id: string;
    }>();
    const { dataSource } = harness.service.infrastructure;
    // The service's own timer may hold the row at any moment, so try until our claim wins.
    await waitFor(async () => {
      await dataSource.query(
        `UPDATE order_sagas SET next_deadline_at = now() - interval '1 minute' WHERE order_id = $1`,
        [order.id],
      );
      return withTransaction(dataSource, async (first) => {
        const claimed = await createSagasRepository(first).claimDue(new Date());
        if (claimed?.orderId !== order.id) return false;
        // While this transaction holds the claim, a second claimer skips it rather than waiting.
        const other = await withTransaction(dataSource, (second) =>
          createSagasRepository(second).claimDue(new Date()),
        );
        expect(other?.orderId).not.toBe(order.id);
        return true;
      });
    }, 'a claim of the due saga');
  });

  it('counts a saga entering needs_attention once it commits, never for a rolled-back try', async () => {
    const customer = await harness.customer();
    const productId = harness.product(700);
    const order = (await client.place(customer.token, client.body(customer, productId))).json<{
      id: string;
    }>();
    const { dataSource, logger } = harness.service.infrastructure;
    // Out of the service timer's reach: this test drives the deadlines with its own clock.
    await dataSource.query(
      `UPDATE order_sagas SET next_deadline_at = now() + interval '1 day', step_resends = 1
        WHERE order_id = $1`,
      [order.id],
    );
    const day = 24 * 3600 * 1000;
    let counted = 0;
    const runtimeAt = (days: number): SagaRuntime => ({
      settings: sagaSettings(
        parseConfig(OrdersConfig, {
          USERS_URL: 'http://127.0.0.1:1',
          INVENTORY_URL: 'http://127.0.0.1:1',
          SAGA_STEP_TIMEOUT_SECONDS: '1',
          SAGA_STEP_MAX_RESENDS: '1',
        }),
      ),
      onNeedsAttention: () => {
        counted += 1;
      },
      now: () => new Date(Date.now() + days * day),
    });
    const deadline = (days: number) =>
      withTransaction(dataSource, (manager) =>
        applySagaEvent(manager, order.id, { type: 'deadline_reached' }, runtimeAt(days), logger),
      );
    // Reserve unanswered → compensate; the release unanswered → resent once.
    await deadline(2);
    await deadline(3);
    expect((await createSagasRepository(dataSource.manager).load(order.id))?.state).toBe(
      'compensating',
    );

    // The next deadline flags it, but the transaction rolls back: nothing happened, nothing counts.
    await expect(
      withTransaction(dataSource, async (manager) => {
        const decision = await applySagaEvent(
          manager,
          order.id,
          { type: 'deadline_reached' },
          runtimeAt(4),
          logger,
        );
        expect(decision.outcome === 'applied' && decision.needsAttention).toBe(true);
        throw new Error('outbox write failed');
      }),
    ).rejects.toThrow('outbox write failed');
    expect(counted).toBe(0);

    await deadline(4);
    expect((await createSagasRepository(dataSource.manager).load(order.id))?.state).toBe(
      'needs_attention',
    );
    expect(counted).toBe(1);
  });

  it("a saga whose deadline keeps failing is postponed and counted; the service's timer goes on", async () => {
    const customer = await harness.customer();
    const place = async () =>
      (await client.place(customer.token, client.body(customer, harness.product(700)))).json<{
        id: string;
      }>().id;
    const poisoned = await place();
    const healthy = await place();
    const { dataSource } = harness.service.infrastructure;
    const [{ data }] = (await dataSource.query(`SELECT data FROM order_sagas WHERE order_id = $1`, [
      poisoned,
    ])) as [{ data: unknown }];
    // Unreadable data makes every deadline of it throw; it is the earliest due saga.
    await dataSource.query(
      `UPDATE order_sagas SET data = '"unreadable"'::jsonb, next_deadline_at = now() - interval '1 hour'
        WHERE order_id = $1`,
      [poisoned],
    );
    try {
      await waitFor(
        async () => (await harness.messages('INVENTORY', ReserveStock, healthy)).length >= 2,
        'the healthy saga served past the failing one',
      );
      const [row] = (await dataSource.query(
        `SELECT deadline_failures, next_deadline_at > now() AS later FROM order_sagas
          WHERE order_id = $1`,
        [poisoned],
      )) as { deadline_failures: number; later: boolean }[];
      expect(row!.deadline_failures).toBeGreaterThanOrEqual(1);
      expect(row!.later).toBe(true);
      const metrics = await client.request({ method: 'GET', url: '/metrics' });
      expect(metrics.body).toMatch(/orders_saga_deadline_failures_total\{[^}]*\} [1-9]/);
      expect(metrics.body).toMatch(/orders_sagas_deadline_failing\{[^}]*\} [1-9]/);
    } finally {
      await dataSource.query(`UPDATE order_sagas SET data = $2::jsonb WHERE order_id = $1`, [
        poisoned,
        JSON.stringify(data),
      ]);
    }
  });
});
