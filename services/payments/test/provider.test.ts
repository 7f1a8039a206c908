import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type SandboxProcess } from './support.js';

// The sandbox provider process on its own: what payments relies on it to do.
describe('sandbox provider process', () => {
  let sandbox: SandboxProcess;
  beforeAll(async () => {
    sandbox = await startSandbox();
  });
  afterAll(async () => {
    await sandbox?.stop();
  });

  const charge = (key: string | null, body: Record<string, unknown>) =>
    fetch(`${sandbox.url}/v1/charges`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { 'idempotency-key': key } : {}) },
      body: JSON.stringify(body),
    });
  const visa = { amount: 1000, currency: 'USD', paymentMethod: 'pm_card_visa' };

  it.each([
    ['pm_card_visa', 201, 'succeeded', null],
    ['pm_card_mastercard', 201, 'succeeded', null],
    ['pm_card_amex', 201, 'succeeded', null],
    ['pm_card_chargeDeclined', 402, 'failed', 'card_declined'],
    ['pm_card_chargeDeclinedInsufficientFunds', 402, 'failed', 'insufficient_funds'],
    ['pm_card_processingError', 402, 'failed', 'processing_error'],
  ])('%s answers %i', async (paymentMethod, status, chargeStatus, code) => {
    const response = await charge(randomUUID(), { ...visa, paymentMethod });
    expect(response.status).toBe(status);
    const body = (await response.json()) as {
      status?: string;
      error?: { code: string; charge: { status: string } };
    };
    if (status === 201) expect(body.status).toBe(chargeStatus);
    else expect(body.error).toMatchObject({ code, charge: { status: chargeStatus } });
  });

  it('same key, same parameters: the same charge, replayed, never a second one', async () => {
    const key = randomUUID();
    const before = await sandbox.stats();
    const first = (await (await charge(key, visa)).json()) as { id: string };
    const again = await charge(key, visa);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(((await again.json()) as { id: string }).id).toBe(first.id);
    expect((await sandbox.stats()).charges).toBe(before.charges + 1);
  });

  it('same key, other parameters: 409, nothing charged', async () => {
    const key = randomUUID();
    await charge(key, visa);
    const before = await sandbox.stats();
    const response = await charge(key, { ...visa, amount: 2000 });
    expect(response.status).toBe(409);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
      'idempotency_key_reused',
    );
    expect(await sandbox.stats()).toEqual(before);
  });

  it('refuses a charge without a key or with a bad body', async () => {
    expect((await charge(null, visa)).status).toBe(400);
    expect((await charge(randomUUID(), { ...visa, amount: 0 })).status).toBe(400);
    expect((await charge(randomUUID(), { ...visa, extra: 1 })).status).toBe(400);
  });

  it('refunds once: a replayed key answers the same refund, another key is refused', async () => {
    const created = (await (await charge(randomUUID(), visa)).json()) as { id: string };
    const refund = (key: string) =>
      fetch(`${sandbox.url}/v1/refunds`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify({ charge: created.id }),
      });
    const key = randomUUID();
    const first = (await (await refund(key)).json()) as { id: string };
    expect(((await (await refund(key)).json()) as { id: string }).id).toBe(first.id);
    const other = await refund(randomUUID());
    expect(other.status).toBe(400);
    expect(((await other.json()) as { error: { code: string } }).error.code).toBe(
      'charge_already_refunded',
    );
  });

  it('remembers its charges across a crash and restart', async () => {
    const key = randomUUID();
    const created = (await (await charge(key, visa)).json()) as { id: string };
    await sandbox.kill();
    await sandbox.restart();
    const found = await fetch(`${sandbox.url}/v1/charges?idempotencyKey=${key}`);
    expect(found.status).toBe(200);
    expect(((await found.json()) as { id: string }).id).toBe(created.id);
    const replay = await charge(key, visa);
    expect(((await replay.json()) as { id: string }).id).toBe(created.id);
    expect((await fetch(`${sandbox.url}/v1/charges?idempotencyKey=${randomUUID()}`)).status).toBe(
      404,
    );
  });

  it('with a failure rate of 1 answers every call 503 and records nothing', async () => {
    await sandbox.stop();
    await sandbox.restart({ failureRate: 1 });
    const before = sandbox.entriesFor('"kind"').length;
    const response = await charge(randomUUID(), visa);
    expect(response.status).toBe(503);
    expect(sandbox.entriesFor('"kind"').length).toBe(before);
    await sandbox.stop();
    await sandbox.restart();
  });
});
