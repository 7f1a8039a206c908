import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ChargePayment, OrderCancelled, RefundPayment } from '@shop/contracts';
import { createLogger } from '@shop/service-kit';
import type { TestService } from '@shop/service-kit/testing';
import { describe, expect, it } from 'vitest';
import { createReconciler } from '../src/application/reconciler.js';
import { ownRefundId } from '../src/domain/own-refund-id.js';
import { guardProvider } from '../src/payment-provider/guarded.js';
import { createSandboxProvider } from '../src/payment-provider/sandbox.js';
import {
  chargeCommand,
  eventsOf,
  paymentRows,
  paymentsWithSandbox,
  publish,
  replyTo,
  type SandboxProcess,
  waitFor,
} from './support.js';

type Data = Record<string, unknown>;

/** Every reply on `type` naming `attemptId`. */
async function repliesFor(service: TestService, type: string, attemptId: string) {
  return (await eventsOf(service, type))
    .map((event) => event.data as Data)
    .filter((data) => data.attemptId === attemptId);
}

/** The refund answer (either kind) naming `refundId`, once there is one. */
async function refundAnswer(service: TestService, refundId: string, count = 1) {
  return waitFor(async () => {
    const all: Data[] = [
      ...(await eventsOf(service, 'payments.events.refund.succeeded')).map((event) => ({
        type: 'succeeded',
        ...(event.data as Data),
      })),
      ...(await eventsOf(service, 'payments.events.refund.failed')).map((event) => ({
        type: 'failed',
        ...(event.data as Data),
      })),
    ];
    const answers = all.filter((answer) => answer.refundId === refundId);
    return answers.length >= count ? answers : null;
  }, `${count} answer(s) to refund ${refundId}`);
}

// Which charge may keep an order's money, and what the saga is told: only the order's latest
// attempt pays; payments gives back (and never reports as a success) any other charge.
describe('charges the order no longer wants', () => {
  let sandbox: SandboxProcess;
  let service: TestService;

  paymentsWithSandbox('payments_unwanted', (running) => void ({ service, sandbox } = running));

  const query = <T>(sql: string, params: unknown[]) =>
    service.infrastructure.dataSource.query(sql, params) as Promise<T[]>;

  async function cancel(orderId: string) {
    await publish(service, OrderCancelled, {
      orderId,
      orderNumber: 'ORD-2026-000009',
      customerId: randomUUID(),
      cancellationReason: 'customer_request',
      refunded: false,
      cancelledAt: new Date().toISOString(),
    });
    await waitFor(
      async () =>
        (await query('SELECT 1 FROM cancelled_orders WHERE order_id = $1', [orderId])).length === 1,
      'the cancellation recorded',
    );
  }

  it('a charge command for a cancelled order never reaches the provider', async () => {
    const command = chargeCommand();
    await cancel(command.orderId);
    await publish(service, ChargePayment, command);
    const reply = await replyTo(service, 'payments.events.charge.failed', command.attemptId);
    expect(reply.data.errorCode).toBe('order_cancelled');
    expect(await paymentRows(service, command.orderId)).toMatchObject([
      { status: 'failed', failure_reason: 'order_cancelled', provider_charge_id: null },
    ]);
    expect(sandbox.entriesFor(command.attemptId)).toEqual([]);
  });

  it('a late command of an attempt a later one replaced never reaches the provider', async () => {
    const later = chargeCommand({ attempt: 2 });
    await publish(service, ChargePayment, later);
    await replyTo(service, 'payments.events.charge.succeeded', later.attemptId);
    const late = chargeCommand({ orderId: later.orderId, attempt: 1 });
    await publish(service, ChargePayment, late);
    const reply = await replyTo(service, 'payments.events.charge.failed', late.attemptId);
    expect(reply.data.errorCode).toBe('attempt_superseded');
    expect(sandbox.entriesFor(late.attemptId)).toEqual([]);
    expect(await repliesFor(service, 'payments.events.charge.succeeded', late.attemptId)).toEqual(
      [],
    );
  });

  it('a superseded attempt charged late is refunded and never answered as a success, however often it is asked', async () => {
    // Attempt A was charged at the provider, but its handler died before recording it (the
    // provider was flaky); the saga gave up on A and the customer paid with another card (B).
    const orderId = randomUUID();
    const a = chargeCommand({ orderId, attempt: 1 });
    await query(
      `INSERT INTO payments (attempt_id, attempt, order_id, order_number, customer_id, payment_method_id,
         provider_payment_method_id, amount, currency, provider)
       VALUES ($1, 1, $2, $3, $4, $5, 'pm_card_visa', $6, 'USD', 'sandbox')`,
      [a.attemptId, orderId, a.orderNumber, a.customerId, a.paymentMethodId, a.amount],
    );
    const charged = await fetch(`${sandbox.url}/v1/charges`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': a.attemptId },
      body: JSON.stringify({ amount: a.amount, currency: 'USD', paymentMethod: 'pm_card_visa' }),
    });
    expect(charged.status).toBe(201);

    const b = chargeCommand({ orderId, attempt: 2, providerPaymentMethodId: 'pm_card_mastercard' });
    await publish(service, ChargePayment, b);
    await replyTo(service, 'payments.events.charge.succeeded', b.attemptId);

    // A's command comes again (a resend, a redelivery): its late charge is found and given back.
    await publish(service, ChargePayment, a);
    const first = await replyTo(service, 'payments.events.charge.failed', a.attemptId);
    expect(first.data.errorCode).toBe('attempt_superseded');
    await publish(service, ChargePayment, a);
    await waitFor(
      async () =>
        (await repliesFor(service, 'payments.events.charge.failed', a.attemptId)).length === 2,
      'a second answer to A',
    );
    expect(await repliesFor(service, 'payments.events.charge.succeeded', a.attemptId)).toEqual([]);

    const rows = await paymentRows(service, orderId);
    expect(rows.find((row) => row.attempt_id === a.attemptId)?.status).toBe('refunded');
    expect(rows.find((row) => row.attempt_id === b.attemptId)?.status).toBe('succeeded');
    // A charged once and refunded once; B charged once and kept.
    const [refundOfA] = await query<{ refund_id: string; reason: string }>(
      `SELECT refund_id, reason FROM refunds r JOIN payments p ON p.id = r.payment_id
        WHERE p.attempt_id = $1`,
      [a.attemptId],
    );
    expect(refundOfA?.reason).toBe('attempt_superseded');
    expect(sandbox.entriesFor(a.attemptId).map((entry) => entry.kind)).toEqual(['charge']);
    expect(sandbox.entriesFor(refundOfA!.refund_id).map((entry) => entry.kind)).toEqual(['refund']);
    expect(sandbox.entriesFor(b.attemptId).map((entry) => entry.kind)).toEqual(['charge']);
  });

  it('an earlier attempt that kept its charge is refunded before the later one is charged; the later one pays', async () => {
    // A succeeded and was reported, but the saga had already issued B (it accepts only its
    // latest attempt): payments sees B and gives A's money back, B's is the order's.
    const orderId = randomUUID();
    const a = chargeCommand({ orderId, attempt: 1 });
    await publish(service, ChargePayment, a);
    await replyTo(service, 'payments.events.charge.succeeded', a.attemptId);
    const b = chargeCommand({ orderId, attempt: 2, providerPaymentMethodId: 'pm_card_amex' });
    await publish(service, ChargePayment, b);
    const paid = await replyTo(service, 'payments.events.charge.succeeded', b.attemptId);

    const rows = await paymentRows(service, orderId);
    const rowA = rows.find((row) => row.attempt_id === a.attemptId)!;
    const rowB = rows.find((row) => row.attempt_id === b.attemptId)!;
    expect(rowA.status).toBe('refunded');
    expect(rowB.status).toBe('succeeded');
    expect(paid.data.paymentId).toBe(rowB.id);
    const refunds = await query<{ payment_id: string; status: string; reason: string }>(
      'SELECT payment_id, status, reason FROM refunds WHERE order_id = $1',
      [orderId],
    );
    expect(refunds).toEqual([
      { payment_id: rowA.id, status: 'succeeded', reason: 'attempt_superseded' },
    ]);
    // The refund came before B's charge at the provider.
    const ledger = sandbox.entriesFor(a.attemptId).length + sandbox.entriesFor(b.attemptId).length;
    expect(ledger).toBe(2);
    // A asked again: a failure naming why, never a success.
    await publish(service, ChargePayment, a);
    await waitFor(
      async () =>
        (await repliesFor(service, 'payments.events.charge.failed', a.attemptId)).some(
          (data) => data.errorCode === 'attempt_superseded',
        ),
      'A answered as superseded',
    );
    expect(await repliesFor(service, 'payments.events.charge.succeeded', b.attemptId)).toHaveLength(
      1,
    );
  });

  it('a redelivered charge command whose row exists refunds the earlier kept charge before charging', async () => {
    const orderId = randomUUID();
    const a = chargeCommand({ orderId, attempt: 1 });
    await publish(service, ChargePayment, a);
    await replyTo(service, 'payments.events.charge.succeeded', a.attemptId);
    // B's first delivery inserted its row and died before anything else.
    const b = chargeCommand({ orderId, attempt: 2, providerPaymentMethodId: 'pm_card_amex' });
    await query(
      `INSERT INTO payments (attempt_id, attempt, order_id, order_number, customer_id, payment_method_id,
         provider_payment_method_id, amount, currency, provider)
       VALUES ($1, 2, $2, $3, $4, $5, 'pm_card_amex', $6, 'USD', 'sandbox')`,
      [b.attemptId, orderId, b.orderNumber, b.customerId, b.paymentMethodId, b.amount],
    );
    await publish(service, ChargePayment, b);
    await replyTo(service, 'payments.events.charge.succeeded', b.attemptId);
    const [refundOfA] = await query<{ refund_id: string; status: string }>(
      `SELECT r.refund_id, r.status FROM refunds r JOIN payments p ON p.id = r.payment_id
        WHERE p.attempt_id = $1`,
      [a.attemptId],
    );
    expect(refundOfA?.status).toBe('succeeded');
    // A's money went back before B's charge was made: never both held at once.
    const ledger = readFileSync(sandbox.ledgerFile, 'utf8').split('\n');
    const refundedAt = ledger.findIndex((line) => line.includes(refundOfA!.refund_id));
    const chargedAt = ledger.findIndex(
      (line) => line.includes(b.attemptId) && line.includes('"charge"'),
    );
    expect(refundedAt).toBeGreaterThanOrEqual(0);
    expect(chargedAt).toBeGreaterThan(refundedAt);
  });

  it('a refused refund of an unwanted charge is recorded, answered, counted, and retried later under a new key', async () => {
    // A was charged at the provider for less than its row says (so the provider refuses to
    // refund the row's amount), its handler died, and the order was cancelled meanwhile.
    const orderId = randomUUID();
    const a = chargeCommand({ orderId, attempt: 1 });
    await query(
      `INSERT INTO payments (attempt_id, attempt, order_id, order_number, customer_id, payment_method_id,
         provider_payment_method_id, amount, currency, provider)
       VALUES ($1, 1, $2, $3, $4, $5, 'pm_card_visa', $6, 'USD', 'sandbox')`,
      [a.attemptId, orderId, a.orderNumber, a.customerId, a.paymentMethodId, a.amount],
    );
    const charged = await fetch(`${sandbox.url}/v1/charges`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': a.attemptId },
      body: JSON.stringify({ amount: 1000, currency: 'USD', paymentMethod: 'pm_card_visa' }),
    });
    expect(charged.status).toBe(201);
    await cancel(orderId);

    await publish(service, ChargePayment, a);
    const reply = await replyTo(service, 'payments.events.charge.failed', a.attemptId);
    expect(reply.data.attemptId).toBe(a.attemptId);
    const firstKey = ownRefundId(a.attemptId, 0);
    expect(await refundAnswer(service, firstKey)).toMatchObject([
      { type: 'failed', errorCode: 'charge_already_refunded' },
    ]);
    const [row] = await paymentRows(service, orderId);
    expect(row).toMatchObject({ status: 'refunded' });
    expect(
      await query('SELECT refund_id, status FROM refunds WHERE payment_id = $1', [row!.id]),
    ).toEqual([{ refund_id: firstKey, status: 'failed' }]);
    expect(
      await service.infrastructure.registry.getSingleMetricAsString(
        'payments_unwanted_refund_failures_total',
      ),
    ).toMatch(/reason="order_cancelled".*\} 1/);

    // Whatever refused it is fixed; the reconciler opens a new refund, under a new key.
    await query('UPDATE payments SET amount = 1000 WHERE id = $1', [row!.id]);
    const reconciler = createReconciler({
      dataSource: service.infrastructure.dataSource,
      provider: guardProvider(createSandboxProvider(sandbox.url), {
        timeoutMs: 3000,
        resetTimeoutMs: 1000,
      }),
      logger: createLogger({ service: 'test', level: 'silent' }),
      intervalMs: 60_000,
      afterMs: 0,
    });
    expect((await reconciler.runOnce()).refundsRequested).toBeGreaterThanOrEqual(1);
    const refunds = await waitFor(async () => {
      const found = await query<{ refund_id: string; status: string }>(
        'SELECT refund_id, status FROM refunds WHERE payment_id = $1 ORDER BY created_at',
        [row!.id],
      );
      return found[1]?.status === 'succeeded' ? found : null;
    }, 'the new refund through');
    expect(refunds[0]).toEqual({ refund_id: firstKey, status: 'failed' });
    expect(refunds[1]!.refund_id).not.toBe(firstKey);
    expect(sandbox.entriesFor(refunds[1]!.refund_id).map((entry) => entry.kind)).toEqual([
      'refund',
    ]);
    expect(sandbox.entriesFor(firstKey)).toEqual([]);
    // Money back: nothing more for the reconciler to do.
    expect((await reconciler.runOnce()).refundsRequested).toBe(0);
  });

  it('a kept charge of a cancelled order whose refund was refused gets a new refund from the reconciler', async () => {
    const orderId = randomUUID();
    const a = chargeCommand({ orderId, attempt: 1 });
    await publish(service, ChargePayment, a);
    await replyTo(service, 'payments.events.charge.succeeded', a.attemptId);
    const [paid] = await paymentRows(service, orderId);
    const chargeId = paid!.provider_charge_id!;
    await cancel(orderId);
    const reconciler = createReconciler({
      dataSource: service.infrastructure.dataSource,
      provider: guardProvider(createSandboxProvider(sandbox.url), {
        timeoutMs: 3000,
        resetTimeoutMs: 1000,
      }),
      logger: createLogger({ service: 'test', level: 'silent' }),
      intervalMs: 60_000,
      afterMs: 0,
    });
    const statuses = () =>
      query<{ status: string }>(
        'SELECT status FROM refunds WHERE payment_id = $1 ORDER BY created_at',
        [paid!.id],
      ).then((found) => found.map((refund) => refund.status));
    // The first refund is refused (the provider does not know the charge it names).
    await query(`UPDATE payments SET provider_charge_id = 'ch_gone_' || id WHERE id = $1`, [
      paid!.id,
    ]);
    await reconciler.runOnce();
    await waitFor(async () => (await statuses())[0] === 'failed', 'the first refund refused');
    await query('UPDATE payments SET provider_charge_id = $2 WHERE id = $1', [paid!.id, chargeId]);
    // The charge is still kept: the next pass opens a new refund, which goes through.
    await reconciler.runOnce();
    await waitFor(
      async () => (await statuses()).join() === 'failed,succeeded',
      'a second refund through',
    );
    expect((await paymentRows(service, orderId))[0]?.status).toBe('refunded');
  });

  it('when the earlier charge cannot be given back, the later attempt is not charged either', async () => {
    const orderId = randomUUID();
    const a = chargeCommand({ orderId, attempt: 1 });
    await publish(service, ChargePayment, a);
    await replyTo(service, 'payments.events.charge.succeeded', a.attemptId);
    // The provider will refuse its refund (it does not know the charge).
    await query(
      `UPDATE payments SET provider_charge_id = 'ch_unknown_' || id WHERE attempt_id = $1`,
      [a.attemptId],
    );
    const b = chargeCommand({ orderId, attempt: 2 });
    await publish(service, ChargePayment, b);
    const reply = await replyTo(service, 'payments.events.charge.failed', b.attemptId);
    expect(reply.data.errorCode).toBe('superseded_charge_not_refundable');
    expect(sandbox.entriesFor(b.attemptId)).toEqual([]);
    const rows = await paymentRows(service, orderId);
    expect(rows.find((row) => row.attempt_id === a.attemptId)?.status).toBe('succeeded');
    expect(rows.find((row) => row.attempt_id === b.attemptId)?.status).toBe('failed');
  });
});

// A refund the provider refused, then asked again under a new refund id, is a new refund.
describe('refund retries', () => {
  let sandbox: SandboxProcess;
  let service: TestService;

  paymentsWithSandbox(
    'payments_refund_retries',
    (running) => void ({ service, sandbox } = running),
  );

  const query = <T>(sql: string, params: unknown[]) =>
    service.infrastructure.dataSource.query(sql, params) as Promise<T[]>;

  async function paidCharge() {
    const command = chargeCommand();
    await publish(service, ChargePayment, command);
    const reply = await replyTo(service, 'payments.events.charge.succeeded', command.attemptId);
    return { command, paymentId: reply.data.paymentId as string };
  }

  const refundCommand = (command: ReturnType<typeof chargeCommand>, paymentId: string) => ({
    orderId: command.orderId,
    refundId: randomUUID(),
    paymentId,
    amount: command.amount,
    currency: command.currency,
    reason: 'customer_request',
  });

  it('a retry under a new refund id after a refusal is a new refund with a new key; the same id stays one refund', async () => {
    const { command, paymentId } = await paidCharge();
    const [charged] = await query<{ provider_charge_id: string }>(
      'SELECT provider_charge_id FROM payments WHERE id = $1',
      [paymentId],
    );
    const chargeId = charged!.provider_charge_id;
    // The first refund is refused: the provider does not know the charge it names.
    await query(`UPDATE payments SET provider_charge_id = 'ch_gone_' || id WHERE id = $1`, [
      paymentId,
    ]);
    const first = refundCommand(command, paymentId);
    await publish(service, RefundPayment, first);
    expect(await refundAnswer(service, first.refundId)).toMatchObject([
      { type: 'failed', errorCode: 'resource_missing', retryable: false },
    ]);
    await query('UPDATE payments SET provider_charge_id = $2 WHERE id = $1', [paymentId, chargeId]);

    // The same refund id again: the same (failed) refund, not asked again under its key.
    await publish(service, RefundPayment, first);
    const again = await refundAnswer(service, first.refundId, 2);
    expect(again.map((answer) => answer.type)).toEqual(['failed', 'failed']);
    expect(sandbox.entriesFor(first.refundId)).toEqual([]);

    // A retry under a new id: a new refund, carried out under its own key.
    const retry = refundCommand(command, paymentId);
    await publish(service, RefundPayment, retry);
    expect(await refundAnswer(service, retry.refundId)).toMatchObject([{ type: 'succeeded' }]);
    expect(sandbox.entriesFor(retry.refundId).map((entry) => entry.kind)).toEqual(['refund']);
    const rows = await query<{ refund_id: string; status: string }>(
      'SELECT refund_id, status FROM refunds WHERE payment_id = $1 ORDER BY created_at',
      [paymentId],
    );
    expect(rows).toEqual([
      { refund_id: first.refundId, status: 'failed' },
      { refund_id: retry.refundId, status: 'succeeded' },
    ]);
    expect((await paymentRows(service, command.orderId))[0]?.status).toBe('refunded');

    // Refunded once in total: yet another id answers the refund that went through.
    const third = refundCommand(command, paymentId);
    await publish(service, RefundPayment, third);
    const [answer] = await refundAnswer(service, third.refundId);
    expect(answer).toMatchObject({ type: 'succeeded' });
    expect((await query('SELECT 1 FROM refunds WHERE payment_id = $1', [paymentId])).length).toBe(
      2,
    );
    const refundsAtProvider = [first, retry, third].flatMap((r) => sandbox.entriesFor(r.refundId));
    expect(refundsAtProvider).toHaveLength(1);

    // The charge asked again after the refund: a failure, never a success for a refunded one.
    await publish(service, ChargePayment, command);
    await waitFor(
      async () =>
        (await eventsOf(service, 'payments.events.charge.failed')).some(
          (event) =>
            (event.data as Data).attemptId === command.attemptId &&
            (event.data as Data).errorCode === 'refunded',
        ),
      'the refunded charge answered as failed',
    );
  });

  it('the database refuses a second live refund of one payment, and keeps refused ones beside it', async () => {
    const { command, paymentId } = await paidCharge();
    const insert = (status: string) =>
      query(
        `INSERT INTO refunds (refund_id, payment_id, order_id, amount, currency, reason, status)
         VALUES (gen_random_uuid(), $1, $2, $3, 'USD', 'test', $4)`,
        [paymentId, command.orderId, command.amount, status],
      );
    await insert('failed');
    await insert('failed');
    await insert('pending');
    await expect(insert('pending')).rejects.toThrow(/refunds_one_live_refund_per_payment/);
  });
});
