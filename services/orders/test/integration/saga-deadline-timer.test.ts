import { randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { ReleaseStock, ReserveStock, OrderCancelled, StockReleased } from '@shop/contracts';
import { createLogger, parseConfig } from '@shop/service-kit';
import { waitFor } from '@shop/service-kit/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OrdersConfig, sagaSettings } from '../../src/config.js';
import { startDeadlineTimer, type DeadlineTimer } from '../../src/saga/deadline-timer.js';
import type { SagaRuntime } from '../../src/saga/runtime.js';
import { startHarness, type Customer, type Harness } from './harness.js';
import { ordersClient } from './orders-client.js';

// The service's own timer ticks once a minute here, so these tests drive the deadlines with a
// timer of their own: its clock, its runtime, its log.
let harness: Harness;
let client: ReturnType<typeof ordersClient>;
const timers: DeadlineTimer[] = [];

beforeAll(async () => {
  harness = await startHarness('orders-saga-deadline-timer', {
    SAGA_TIMER_INTERVAL_MS: '60000',
    RESERVATION_TTL_SECONDS: '7200',
  });
  client = ordersClient(harness);
});
afterEach(async () => {
  await Promise.all(timers.splice(0).map((timer) => timer.stop()));
});
afterAll(() => harness.stop());

const db = () => harness.service.infrastructure.dataSource;

/** A timer of the test's own, on a clock it moves, logging into `lines`. */
function testTimer(clock: { now: number }) {
  const stream = new PassThrough();
  const lines: Record<string, unknown>[] = [];
  stream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    }
  });
  let clockReads = 0;
  const runtime: SagaRuntime = {
    settings: sagaSettings(
      parseConfig(OrdersConfig, {
        USERS_URL: 'http://127.0.0.1:1',
        INVENTORY_URL: 'http://127.0.0.1:1',
      }),
    ),
    onNeedsAttention: () => undefined,
    now: () => {
      clockReads += 1;
      return new Date(clock.now);
    },
  };
  const postponed: string[] = [];
  const timer = startDeadlineTimer({
    dataSource: db(),
    runtime,
    logger: createLogger({ service: 'orders', level: 'info', destination: stream }),
    intervalMs: 3_600_000,
    onPostponed: (orderId) => postponed.push(orderId),
    postpone: { baseMs: 1_000, maxMs: 4_000 },
  });
  timers.push(timer);
  return {
    timer,
    lines,
    postponed,
    get clockReads() {
      return clockReads;
    },
  };
}

/** Places an order as `requestId`; the order waits on its reservation. */
async function place(customer: Customer, requestId = `place-${randomUUID()}`) {
  const response = await client.request({
    method: 'POST',
    url: '/v1/orders',
    headers: { ...client.auth(customer.token), 'x-request-id': requestId },
    payload: { ...client.body(customer, harness.product(900)) },
  });
  expect(response.statusCode).toBe(202);
  return { id: response.json<{ id: string }>().id, requestId };
}

interface SagaRow {
  version: number;
  step_resends: number;
  next_deadline_at: Date | null;
  deadline_failures: number;
  correlation_id: string | null;
}

async function sagaRow(orderId: string): Promise<SagaRow> {
  const [row] = (await db().query(
    `SELECT version, step_resends, next_deadline_at, deadline_failures, correlation_id
       FROM order_sagas WHERE order_id = $1`,
    [orderId],
  )) as SagaRow[];
  return row!;
}

const dueSince = (orderId: string, interval: string) =>
  db().query(`UPDATE order_sagas SET next_deadline_at = now() - $2::interval WHERE order_id = $1`, [
    orderId,
    interval,
  ]);

describe('the deadline timer', () => {
  it('postpones a saga whose deadline handling throws, alone, and serves the other deadlines', async () => {
    const customer = await harness.customer();
    const poisoned = await place(customer);
    const first = await place(customer);
    const second = await place(customer);
    const [{ data }] = (await db().query(`SELECT data FROM order_sagas WHERE order_id = $1`, [
      poisoned.id,
    ])) as [{ data: unknown }];
    // The poisoned saga is the earliest due: the claim takes it first on every tick.
    await db().query(
      `UPDATE order_sagas SET data = '"unreadable"'::jsonb, next_deadline_at = now() - interval '1 hour'
        WHERE order_id = $1`,
      [poisoned.id],
    );
    await dueSince(first.id, '1 minute');
    await dueSince(second.id, '1 minute');
    const before = await sagaRow(poisoned.id);
    const clock = { now: Date.now() };
    const sut = testTimer(clock);

    expect(await sut.timer.tick()).toBe(2);

    for (const order of [first, second]) {
      expect((await sagaRow(order.id)).step_resends).toBe(1);
      await waitFor(
        async () => (await harness.messages('INVENTORY', ReserveStock, order.id)).length === 2,
        'the reserve command resent',
      );
    }
    // Rolled back, then pushed back by the first delay in a transaction of its own.
    const after = await sagaRow(poisoned.id);
    expect(after.deadline_failures).toBe(1);
    expect(after.version).toBe(before.version + 1);
    expect(after.step_resends).toBe(0);
    expect(after.next_deadline_at!.getTime() - clock.now).toBe(1_000);
    expect(sut.postponed).toEqual([poisoned.id]);
    const logged = sut.lines.find((line) => line.orderId === poisoned.id && line.level === 50);
    expect(logged).toMatchObject({
      msg: 'saga deadline failed; saga postponed, other deadlines go on',
      failures: 1,
      correlationId: poisoned.requestId,
    });

    // Still failing: each postponement waits twice as long, up to the maximum.
    const delays: number[] = [];
    for (let failures = 2; failures <= 4; failures += 1) {
      clock.now = (await sagaRow(poisoned.id)).next_deadline_at!.getTime();
      expect(await sut.timer.tick()).toBe(0);
      const row = await sagaRow(poisoned.id);
      expect(row.deadline_failures).toBe(failures);
      delays.push(row.next_deadline_at!.getTime() - clock.now);
    }
    expect(delays).toEqual([2_000, 4_000, 4_000]);

    // The gauge shows it while it fails.
    const metrics = await client.request({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/orders_sagas_deadline_failing\{[^}]*\} [1-9]/);

    // Once its handling works again, the next deadline is served and the count starts over.
    await db().query(`UPDATE order_sagas SET data = $2::jsonb WHERE order_id = $1`, [
      poisoned.id,
      JSON.stringify(data),
    ]);
    clock.now = (await sagaRow(poisoned.id)).next_deadline_at!.getTime();
    expect(await sut.timer.tick()).toBe(1);
    expect(await sagaRow(poisoned.id)).toMatchObject({ deadline_failures: 0, step_resends: 1 });
  });

  it('claims with the clock it decides with: a database clock ahead does not spin a tick', async () => {
    const customer = await harness.customer();
    const order = await place(customer);
    // Due by the database's clock, an hour ahead of the app's.
    await dueSince(order.id, '1 minute');
    const before = await sagaRow(order.id);
    const behind = { now: Date.now() - 3_600_000 };
    const sut = testTimer(behind);

    expect(await sut.timer.tick()).toBe(0);
    expect(sut.clockReads).toBe(1);
    expect(await sagaRow(order.id)).toEqual(before);

    // And the app's clock decides the other way too: due for it, not yet for the database.
    await db().query(
      `UPDATE order_sagas SET next_deadline_at = now() + interval '30 minutes' WHERE order_id = $1`,
      [order.id],
    );
    const ahead = testTimer({ now: Date.now() + 3_600_000 });
    expect(await ahead.timer.tick()).toBeGreaterThanOrEqual(1);
    expect((await sagaRow(order.id)).step_resends).toBe(1);
  });
});

describe("the order's correlation id", () => {
  it('is kept with the saga and carried by a deadline resend and by a cancel', async () => {
    const customer = await harness.customer();
    const order = await place(customer);
    expect((await sagaRow(order.id)).correlation_id).toBe(order.requestId);
    const [reserve] = await waitFor(
      () => harness.messages('INVENTORY', ReserveStock, order.id).then((m) => m.length && m),
      'reserve command',
    );
    expect(reserve!.correlationId).toBe(order.requestId);

    // The timer resends: no request or message causes it, the order's story goes on.
    await dueSince(order.id, '1 second');
    const sut = testTimer({ now: Date.now() });
    expect(await sut.timer.tick()).toBeGreaterThanOrEqual(1);
    const reserves = await waitFor(async () => {
      const found = await harness.messages('INVENTORY', ReserveStock, order.id);
      return found.length === 2 && found;
    }, 'resent reserve');
    expect(reserves[1]).toMatchObject({ correlationId: order.requestId });
    expect(reserves[1]!.causationId).toMatch(new RegExp(`^saga-deadline:${order.id}:`));

    // A later request acts on the order: its messages keep the order's correlation id and
    // name the request as their cause.
    const cancelId = `cancel-${randomUUID()}`;
    const cancel = await client.request({
      method: 'POST',
      url: `/v1/orders/${order.id}/cancel`,
      headers: { ...client.auth(customer.token), 'x-request-id': cancelId },
    });
    expect(cancel.statusCode).toBe(202);
    const [release] = await waitFor(
      () => harness.messages('INVENTORY', ReleaseStock, order.id).then((m) => m.length && m),
      'release command',
    );
    expect(release).toMatchObject({ correlationId: order.requestId, causationId: cancelId });

    // A reply that arrives with a correlation id of its own still continues the order's story.
    const released = await harness.publish(StockReleased, {
      orderId: order.id,
      items: [],
      reason: 'customer_request',
      releasedAt: new Date().toISOString(),
    });
    expect(released.correlationId).not.toBe(order.requestId);
    const [cancelled] = await waitFor(
      () => harness.messages('ORDERS', OrderCancelled, order.id).then((m) => m.length && m),
      'cancelled event',
    );
    expect(cancelled).toMatchObject({ correlationId: order.requestId, causationId: released.id });

    // Audit rows: the request's (by the customer, with its request id) and the system's
    // status change, both in the order's story.
    const audit = (await db().query(
      `SELECT action, user_id, request_id, correlation_id, old_values, new_values
         FROM audit_logs WHERE entity_id = $1 ORDER BY created_at, id`,
      [order.id],
    )) as Record<string, unknown>[];
    expect(audit).toEqual([
      expect.objectContaining({
        action: 'create',
        user_id: customer.id,
        request_id: order.requestId,
        correlation_id: order.requestId,
      }),
      expect.objectContaining({
        action: 'update',
        user_id: customer.id,
        request_id: cancelId,
        correlation_id: order.requestId,
      }),
      expect.objectContaining({
        action: 'update',
        user_id: null,
        request_id: null,
        correlation_id: order.requestId,
        old_values: { status: 'pending', cancellationReason: null, cancelledAt: null },
        new_values: {
          status: 'cancelled',
          cancellationReason: 'customer_request',
          cancelledAt: expect.any(String) as unknown,
        },
      }),
    ]);
  });

  it('falls back to the order id for a saga stored before it was kept', async () => {
    const customer = await harness.customer();
    const order = await place(customer);
    await db().query(`UPDATE order_sagas SET correlation_id = NULL WHERE order_id = $1`, [
      order.id,
    ]);
    await dueSince(order.id, '1 second');
    expect(await testTimer({ now: Date.now() }).timer.tick()).toBeGreaterThanOrEqual(1);
    const reserves = await waitFor(async () => {
      const found = await harness.messages('INVENTORY', ReserveStock, order.id);
      return found.length === 2 && found;
    }, 'resent reserve');
    expect(reserves[1]!.correlationId).toBe(order.id);
  });
});

describe('audit of status changes', () => {
  it("names the customer when the customer's own request changes the status", async () => {
    const customer = await harness.customer();
    const order = await place(customer);
    // Waiting for another card, holding nothing and charged nothing: cancelling completes at once.
    await db().query(
      `UPDATE order_sagas
          SET state = 'awaiting_payment_method', next_deadline_at = now() + interval '1 hour',
              data = data || '{"holdsStock": false, "paymentFailure": "payment_declined"}'::jsonb
        WHERE order_id = $1`,
      [order.id],
    );
    const cancelId = `cancel-${randomUUID()}`;
    const cancel = await client.request({
      method: 'POST',
      url: `/v1/orders/${order.id}/cancel`,
      headers: { ...client.auth(customer.token), 'x-request-id': cancelId },
    });
    expect(cancel.statusCode).toBe(202);
    expect(cancel.json<{ status: string }>().status).toBe('cancelled');
    const rows = (await db().query(
      `SELECT user_id, request_id, correlation_id, new_values FROM audit_logs
        WHERE entity_id = $1 AND new_values ? 'status'`,
      [order.id],
    )) as Record<string, unknown>[];
    expect(rows).toEqual([
      {
        user_id: customer.id,
        request_id: cancelId,
        correlation_id: order.requestId,
        new_values: expect.objectContaining({ status: 'cancelled' }) as unknown,
      },
    ]);
    expect(await harness.messages('INVENTORY', ReleaseStock, order.id)).toHaveLength(0);
  });
});
