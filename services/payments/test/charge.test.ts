import { ChargePayment } from '@shop/contracts';
import type { TestService } from '@shop/service-kit/testing';
import { describe, expect, it } from 'vitest';
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

// The charge command end to end: the real service in-process, the sandbox provider as its own
// process, real Postgres and NATS.
describe('charge command', () => {
  let sandbox: SandboxProcess;
  let service: TestService;

  paymentsWithSandbox('payments_charge', (running) => void ({ service, sandbox } = running));

  it('charges a good card once and replies succeeded', async () => {
    const command = chargeCommand();
    await publish(service, ChargePayment, command);
    const reply = await replyTo(service, 'payments.events.charge.succeeded', command.attemptId);
    const [row] = await paymentRows(service, command.orderId);
    expect(row).toMatchObject({ status: 'succeeded', attempt_id: command.attemptId });
    expect(reply.data).toMatchObject({
      orderId: command.orderId,
      paymentId: row!.id,
      amount: 2599,
      providerChargeId: row!.provider_charge_id,
    });
    expect(sandbox.entriesFor(command.attemptId)).toHaveLength(1);
  });

  it.each([
    ['pm_card_chargeDeclined', 'card_declined'],
    ['pm_card_chargeDeclinedInsufficientFunds', 'insufficient_funds'],
  ])('replies declined (hard) for %s', async (method, code) => {
    const command = chargeCommand({ providerPaymentMethodId: method });
    await publish(service, ChargePayment, command);
    const reply = await replyTo(service, 'payments.events.charge.declined', command.attemptId);
    expect(reply.data.declineCode).toBe(code);
    const [row] = await paymentRows(service, command.orderId);
    expect(row).toMatchObject({ status: 'failed', failure_reason: code });
  });

  it('replies failed (transient) for a processing error, so the saga retries', async () => {
    const command = chargeCommand({ providerPaymentMethodId: 'pm_card_processingError' });
    await publish(service, ChargePayment, command);
    const reply = await replyTo(service, 'payments.events.charge.failed', command.attemptId);
    expect(reply.data.errorCode).toBe('processing_error');
    const [row] = await paymentRows(service, command.orderId);
    expect(row).toMatchObject({ status: 'failed', failure_reason: 'processing_error' });
  });

  it('a duplicate command (new message id, same attempt) makes one attempt and one charge', async () => {
    const command = chargeCommand();
    // Three at once: two replicas or a resend racing the first delivery.
    await Promise.all([1, 2, 3].map(() => publish(service, ChargePayment, command)));
    await waitFor(
      async () =>
        (await eventsOf(service, 'payments.events.charge.succeeded')).filter(
          (event) => (event.data as { attemptId: string }).attemptId === command.attemptId,
        ).length === 3,
      'an answer to each of the three commands',
    );
    const rows = await paymentRows(service, command.orderId);
    expect(rows).toHaveLength(1);
    expect(sandbox.entriesFor(command.attemptId)).toHaveLength(1);
    // Every answer names the same charge.
    const answers = (await eventsOf(service, 'payments.events.charge.succeeded')).filter(
      (event) => (event.data as { attemptId: string }).attemptId === command.attemptId,
    );
    expect(
      new Set(answers.map((event) => (event.data as { providerChargeId: string }).providerChargeId))
        .size,
    ).toBe(1);
  });

  it('refuses a second succeeded payment for the same order at the database', async () => {
    const command = chargeCommand();
    await publish(service, ChargePayment, command);
    await replyTo(service, 'payments.events.charge.succeeded', command.attemptId);
    const [row] = await paymentRows(service, command.orderId);
    await expect(
      service.infrastructure.dataSource.query(
        `INSERT INTO payments (attempt_id, attempt, order_id, order_number, customer_id, payment_method_id,
           provider_payment_method_id, amount, currency, provider, status, provider_charge_id, settled_at)
         VALUES (gen_random_uuid(), 2, $1, 'x', $2, $2, 'pm', 1, 'USD', 'sandbox', 'succeeded', 'ch_other', now())`,
        [command.orderId, row!.id],
      ),
    ).rejects.toThrow(/payments_one_success_per_order/);
    await expect(
      service.infrastructure.dataSource.query(
        `UPDATE payments SET status = 'pending' WHERE id = $1`,
        [row!.id],
      ),
    ).rejects.toThrow(/cannot go from succeeded to pending/);
  });
});
