import { randomUUID } from 'node:crypto';
import { OrderCancelled } from '@shop/contracts';
import { createLogger } from '@shop/service-kit';
import type { TestService } from '@shop/service-kit/testing';
import { describe, expect, it } from 'vitest';
import { createReconciler } from '../src/application/reconciler.js';
import { createSandboxProvider } from '../src/payment-provider/sandbox.js';
import { guardProvider } from '../src/payment-provider/guarded.js';
import {
  chargeCommand,
  eventsOf,
  paymentRows,
  paymentsWithSandbox,
  publish,
  type SandboxProcess,
  waitFor,
} from './support.js';

/**
 * "Payments crashed between the charge and its record": the attempt row is committed pending,
 * the provider holds a charge under its key, and the command will never come again.
 */
async function orphanedCharge(
  service: TestService,
  sandbox: SandboxProcess,
  orderId = randomUUID(),
) {
  const command = chargeCommand({ orderId });
  await service.infrastructure.dataSource.query(
    `INSERT INTO payments (attempt_id, attempt, order_id, order_number, customer_id, payment_method_id,
       provider_payment_method_id, amount, currency, provider, attempted_at)
     VALUES ($1, 1, $2, $3, $4, $5, 'pm_card_visa', $6, 'USD', 'sandbox', now() - interval '10 minutes')`,
    [
      command.attemptId,
      orderId,
      command.orderNumber,
      command.customerId,
      command.paymentMethodId,
      command.amount,
    ],
  );
  const response = await fetch(`${sandbox.url}/v1/charges`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': command.attemptId },
    body: JSON.stringify({
      amount: command.amount,
      currency: 'USD',
      paymentMethod: 'pm_card_visa',
    }),
  });
  expect(response.status).toBe(201);
  return command;
}

describe('reconciler', () => {
  let sandbox: SandboxProcess;
  let service: TestService;
  let reconciler: ReturnType<typeof createReconciler>;

  paymentsWithSandbox('payments_reconcile', async (running) => {
    ({ service, sandbox } = running);
    // A second reconciler, as a second replica would run, driven by hand.
    reconciler = createReconciler({
      dataSource: service.infrastructure.dataSource,
      provider: guardProvider(createSandboxProvider(sandbox.url), {
        timeoutMs: 3000,
        resetTimeoutMs: 1000,
      }),
      logger: createLogger({ service: 'test', level: 'silent' }),
      intervalMs: 60_000,
      afterMs: 1_000,
    });
  });

  it('records an orphaned charge the order still wants, and tells the saga', async () => {
    const command = await orphanedCharge(service, sandbox);
    const report = await reconciler.runOnce();
    expect(report.settled).toBeGreaterThanOrEqual(1);
    const [row] = await paymentRows(service, command.orderId);
    expect(row).toMatchObject({
      status: 'succeeded',
      provider_charge_id: expect.stringMatching(/^ch_/),
    });
    await waitFor(
      async () =>
        (await eventsOf(service, 'payments.events.charge.succeeded')).some(
          (event) => (event.data as { attemptId: string }).attemptId === command.attemptId,
        ),
      'ChargeSucceeded for the orphan',
    );
  });

  it('refunds an orphaned charge of a cancelled order, with an audit row, once', async () => {
    const orderId = randomUUID();
    await publish(service, OrderCancelled, {
      orderId,
      orderNumber: 'ORD-2026-000002',
      customerId: randomUUID(),
      cancellationReason: 'payment_failed',
      refunded: false,
      cancelledAt: new Date().toISOString(),
    });
    await waitFor(
      async () =>
        (
          (await service.infrastructure.dataSource.query(
            'SELECT 1 FROM cancelled_orders WHERE order_id = $1',
            [orderId],
          )) as unknown[]
        ).length === 1,
      'the cancellation recorded',
    );
    const command = await orphanedCharge(service, sandbox, orderId);
    // Two replicas at once: SKIP LOCKED lets only one of them settle the row.
    await Promise.all([reconciler.runOnce(), reconciler.runOnce()]);
    const [row] = await paymentRows(service, orderId);
    expect(row).toMatchObject({ status: 'refunded' });
    const refunds = (await service.infrastructure.dataSource.query(
      'SELECT status, reason, refund_id FROM refunds WHERE payment_id = $1',
      [row!.id],
    )) as Array<{ status: string; reason: string; refund_id: string }>;
    expect(refunds).toEqual([
      { status: 'succeeded', reason: 'order_cancelled', refund_id: expect.any(String) },
    ]);
    // One charge under the attempt's key, one refund under the refund's (never the same key).
    expect(sandbox.entriesFor(command.attemptId).map((entry) => entry.kind)).toEqual(['charge']);
    expect(sandbox.entriesFor(refunds[0]!.refund_id).map((entry) => entry.kind)).toEqual([
      'refund',
    ]);
    const audit = (await service.infrastructure.dataSource.query(
      `SELECT entity_type, action, new_values FROM audit_logs WHERE entity_id = $1 AND action = 'update'`,
      [row!.id],
    )) as Array<{ new_values: Record<string, unknown> }>;
    expect(audit.some((entry) => entry.new_values.refundReason === 'order_cancelled')).toBe(true);
    // Nothing left to do on another pass.
    expect(await reconciler.runOnce()).toEqual({
      settled: 0,
      refundsRequested: 0,
      refundsRetried: 0,
    });
  });

  it('refunds a kept charge of an order cancelled without a refund from the saga', async () => {
    const orderId = randomUUID();
    const command = await orphanedCharge(service, sandbox, orderId);
    await reconciler.runOnce(); // recorded as succeeded: the order still wanted it then
    expect((await paymentRows(service, orderId))[0]?.status).toBe('succeeded');
    await service.infrastructure.dataSource.query(
      `INSERT INTO cancelled_orders (order_id, reason, cancelled_at, created_at)
       VALUES ($1, 'customer_request', now(), now() - interval '1 minute')`,
      [orderId],
    );
    expect((await reconciler.runOnce()).refundsRequested).toBe(1);
    // The refund goes through payments' own refund command.
    await waitFor(
      async () => (await paymentRows(service, orderId))[0]?.status === 'refunded',
      'the refund',
    );
    expect(sandbox.entriesFor(command.attemptId).map((entry) => entry.kind)).toEqual(['charge']);
    expect((await sandbox.stats()).refunds).toBeGreaterThanOrEqual(2);
  });

  it('settles a stuck attempt the provider never charged as failed, without charging it', async () => {
    const command = chargeCommand();
    await service.infrastructure.dataSource.query(
      `INSERT INTO payments (attempt_id, attempt, order_id, order_number, customer_id, payment_method_id,
         provider_payment_method_id, amount, currency, provider, attempted_at)
       VALUES ($1, 1, $2, 'x', $3, $3, 'pm_card_visa', 100, 'USD', 'sandbox', now() - interval '10 minutes')`,
      [command.attemptId, command.orderId, command.customerId],
    );
    await reconciler.runOnce();
    expect((await paymentRows(service, command.orderId))[0]).toMatchObject({
      status: 'failed',
      failure_reason: 'not_charged',
    });
    expect(sandbox.entriesFor(command.attemptId)).toEqual([]);
  });
});
