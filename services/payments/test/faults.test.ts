import { ChargePayment } from '@shop/contracts';
import type { TestService } from '@shop/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  chargeCommand,
  eventsOf,
  paymentRows,
  publish,
  replyTo,
  startPayments,
  startSandbox,
  waitFor,
  type SandboxProcess,
} from './support.js';

async function breakerState(service: TestService): Promise<number | null> {
  const text = await (await fetch(`${service.url}/metrics`)).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith('circuit_breaker_state{') && l.includes('payment-provider'));
  return line ? Number(line.split(' ').at(-1)) : null;
}

async function rejectedCalls(service: TestService): Promise<number> {
  const text = await (await fetch(`${service.url}/metrics`)).text();
  const line = text
    .split('\n')
    .find(
      (l) =>
        l.startsWith('circuit_breaker_calls_total{') &&
        l.includes('payment-provider') &&
        l.includes('rejected'),
    );
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('provider faults', () => {
  let sandbox: SandboxProcess;
  let service: TestService;

  beforeAll(async () => {
    // Slow enough that a kill lands while the provider holds the charge but has not answered.
    sandbox = await startSandbox({ latencyMs: 1500 });
    service = await startPayments('payments_faults', sandbox.url);
  });
  afterAll(async () => {
    await service?.stop();
    await sandbox?.stop();
  });

  it('provider killed mid-charge and restarted: one charge at the provider, outcome resolved', async () => {
    const command = chargeCommand();
    await publish(service, ChargePayment, command);
    // The provider has written the charge and is now sleeping before it answers: kill it.
    await waitFor(
      () => sandbox.entriesFor(command.attemptId).length === 1,
      'the charge at the provider',
    );
    await sandbox.kill();
    // Payments cannot know whether it charged: the attempt stays pending, nothing is replied.
    const [pending] = await paymentRows(service, command.orderId);
    expect(pending?.status).toBe('pending');
    expect(
      (await eventsOf(service, 'payments.events.charge.failed')).some(
        (event) => (event.data as { attemptId: string }).attemptId === command.attemptId,
      ),
    ).toBe(false);

    await sandbox.restart({ latencyMs: 0 });
    // The redelivered command asks the provider by key, finds the charge and records it.
    const reply = await replyTo(service, 'payments.events.charge.succeeded', command.attemptId);
    const rows = await paymentRows(service, command.orderId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 'succeeded' });
    expect(reply.data.providerChargeId).toBe(rows[0]!.provider_charge_id);
    // Never a second charge under that key (a replay would show as a second ledger line).
    expect(sandbox.entriesFor(command.attemptId)).toHaveLength(1);
  });

  it('a dead provider opens the breaker (failed-transient, fast) and it closes when the provider returns', async () => {
    await sandbox.kill();
    const attempts = Array.from({ length: 5 }, () => chargeCommand());
    for (const command of attempts) {
      await publish(service, ChargePayment, command);
      const reply = await replyTo(service, 'payments.events.charge.failed', command.attemptId);
      expect(reply.data.errorCode).toBe('provider_unavailable');
    }
    expect(await breakerState(service)).toBe(2);
    // Later calls were refused by the open breaker without touching the network.
    expect(await rejectedCalls(service)).toBeGreaterThan(0);
    for (const command of attempts) {
      expect((await paymentRows(service, command.orderId))[0]).toMatchObject({
        status: 'failed',
        failure_reason: 'provider_unavailable',
      });
    }

    await sandbox.restart({ latencyMs: 0 });
    // After the reset timeout one trial call goes through, succeeds, and closes the breaker.
    const command = await waitFor(async () => {
      const next = chargeCommand();
      await publish(service, ChargePayment, next);
      const outcome = await waitFor(async () => {
        const ok = await eventsOf(service, 'payments.events.charge.succeeded');
        const failed = await eventsOf(service, 'payments.events.charge.failed');
        const mine = (events: typeof ok) =>
          events.some(
            (event) => (event.data as { attemptId: string }).attemptId === next.attemptId,
          );
        return mine(ok) ? 'succeeded' : mine(failed) ? 'failed' : null;
      }, 'an answer');
      return outcome === 'succeeded' ? next : null;
    }, 'a charge through the closed breaker');
    expect((await paymentRows(service, command.orderId))[0]?.status).toBe('succeeded');
    expect(await breakerState(service)).toBe(0);
  });
});
