import { randomUUID } from 'node:crypto';
import { ChargePayment, RefundPayment } from '@shop/contracts';
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

describe('payments HTTP and refunds', () => {
  let sandbox: SandboxProcess;
  let service: TestService;
  const customerId = randomUUID();
  const orderId = randomUUID();
  let tokens: Record<'owner' | 'stranger' | 'employee' | 'manager' | 'admin', string>;
  let succeededId: string;
  let failedId: string;

  const call = (method: string, path: string, token?: string, body?: unknown) =>
    fetch(`${service.url}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined
        ? {}
        : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });

  paymentsWithSandbox('payments_http', async (running) => {
    ({ service, sandbox } = running);
    tokens = {
      owner: await service.tokenFor({ userId: customerId, role: 'customer' }),
      stranger: await service.tokenFor({ userId: randomUUID(), role: 'customer' }),
      employee: await service.tokenFor({ userId: randomUUID(), role: 'employee' }),
      manager: await service.tokenFor({ userId: randomUUID(), role: 'manager' }),
      admin: await service.tokenFor({ userId: randomUUID(), role: 'admin' }),
    };
    // A declined attempt, then a good one, for the same order.
    const declined = chargeCommand({
      orderId,
      customerId,
      providerPaymentMethodId: 'pm_card_chargeDeclined',
    });
    await publish(service, ChargePayment, declined);
    await replyTo(service, 'payments.events.charge.declined', declined.attemptId);
    const good = chargeCommand({ orderId, customerId, attempt: 2 });
    await publish(service, ChargePayment, good);
    await replyTo(service, 'payments.events.charge.succeeded', good.attemptId);
    const rows = await paymentRows(service, orderId);
    failedId = rows.find((row) => row.status === 'failed')!.id;
    succeededId = rows.find((row) => row.status === 'succeeded')!.id;
  });

  async function refundRows(): Promise<number> {
    const [row] = (await service.infrastructure.dataSource.query(
      'SELECT count(*)::int AS n FROM refunds',
    )) as Array<{ n: number }>;
    return row!.n;
  }

  it('lists every attempt, newest first, to the owner and staff', async () => {
    for (const who of ['owner', 'employee', 'admin'] as const) {
      const response = await call('GET', `/v1/payments?orderId=${orderId}`, tokens[who]);
      expect(response.status).toBe(200);
      const body = (await response.json()) as {
        items: Array<Record<string, unknown>>;
        nextCursor: string | null;
      };
      expect(body.items.map((item) => item.status)).toEqual(['succeeded', 'failed']);
      expect(body.items[1]).toMatchObject({
        id: failedId,
        orderId,
        amount: 2599,
        failureReason: 'card_declined',
        providerChargeId: expect.any(String),
      });
      expect(Object.keys(body.items[0]!).sort()).toEqual([
        'amount',
        'attemptedAt',
        'failureReason',
        'id',
        'orderId',
        'providerChargeId',
        'status',
      ]);
      // ISO 8601 in milliseconds, like every timestamp of the API.
      expect(body.items[0]!.attemptedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(body.nextCursor).toBeNull();
    }
  });

  it('answers anyone else, and an unknown order, with an empty list', async () => {
    for (const path of [
      `/v1/payments?orderId=${orderId}`,
      `/v1/payments?orderId=${randomUUID()}`,
    ]) {
      const response = await call(
        'GET',
        path,
        path.includes(orderId) ? tokens.stranger : tokens.owner,
      );
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ items: [], nextCursor: null });
    }
  });

  it('pages with an opaque cursor', async () => {
    const first = (await (
      await call('GET', `/v1/payments?orderId=${orderId}&limit=1`, tokens.owner)
    ).json()) as {
      items: Array<{ id: string }>;
      nextCursor: string;
    };
    expect(first.items.map((item) => item.id)).toEqual([succeededId]);
    const second = (await (
      await call(
        'GET',
        `/v1/payments?orderId=${orderId}&limit=1&cursor=${first.nextCursor}`,
        tokens.owner,
      )
    ).json()) as { items: Array<{ id: string }>; nextCursor: string | null };
    expect(second.items.map((item) => item.id)).toEqual([failedId]);
    expect(second.nextCursor).toBeNull();
  });

  it.each([
    ['no orderId', '/v1/payments', 400],
    ['orderId not a uuid', '/v1/payments?orderId=abc', 400],
    ['limit 0', `/v1/payments?orderId=${orderId}&limit=0`, 400],
    ['limit 101', `/v1/payments?orderId=${orderId}&limit=101`, 400],
    ['limit not a number', `/v1/payments?orderId=${orderId}&limit=ten`, 400],
    ['a cursor we never made', `/v1/payments?orderId=${orderId}&cursor=bm9wZQ`, 400],
    ['an unknown parameter', `/v1/payments?orderId=${orderId}&status=failed`, 400],
  ])('GET with %s is a 400 problem+json', async (_what, path, status) => {
    const response = await call('GET', path, tokens.owner);
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(((await response.json()) as { code: string }).code).toBe('validation_failed');
  });

  it('GET without a token is 401', async () => {
    const response = await call('GET', `/v1/payments?orderId=${orderId}`);
    expect(response.status).toBe(401);
  });

  it('refuses bad refund requests with a clear 4xx and changes nothing', async () => {
    const cases: Array<[string, number, string | undefined, unknown, string]> = [
      [`/v1/payments/${succeededId}/refund`, 401, undefined, undefined, 'unauthorized'],
      [`/v1/payments/${succeededId}/refund`, 403, tokens.owner, undefined, 'forbidden'],
      [`/v1/payments/${succeededId}/refund`, 403, tokens.employee, undefined, 'forbidden'],
      ['/v1/payments/not-a-uuid/refund', 400, tokens.manager, undefined, 'validation_failed'],
      [
        `/v1/payments/${succeededId}/refund`,
        400,
        tokens.manager,
        { amount: 5 },
        'validation_failed',
      ],
      [
        `/v1/payments/${succeededId}/refund`,
        400,
        tokens.manager,
        { reason: 7 },
        'validation_failed',
      ],
      [`/v1/payments/${succeededId}/refund`, 400, tokens.manager, '{"reason":', 'invalid_json'],
      [`/v1/payments/${randomUUID()}/refund`, 404, tokens.manager, undefined, 'not_found'],
      [
        `/v1/payments/${failedId}/refund`,
        409,
        tokens.manager,
        undefined,
        'invalid_state_transition',
      ],
    ];
    for (const [path, status, token, body, code] of cases) {
      const response = await call('POST', path, token, body);
      expect(response.status, `${path} ${JSON.stringify(body)}`).toBe(status);
      expect(((await response.json()) as { code: string }).code).toBe(code);
    }
    expect(await refundRows()).toBe(0);
    expect(
      (await paymentRows(service, orderId)).find((row) => row.id === succeededId)?.status,
    ).toBe('succeeded');
  });

  it('refunds once however often it is asked (staff twice, then the saga)', async () => {
    const first = await call('POST', `/v1/payments/${succeededId}/refund`, tokens.manager);
    expect(first.status).toBe(202);
    const accepted = (await first.json()) as { id: string; refund: { id: string } };
    expect(accepted.id).toBe(succeededId);
    const second = await call('POST', `/v1/payments/${succeededId}/refund`, tokens.admin, {
      reason: 'again',
    });
    expect(second.status).toBe(202);
    expect(((await second.json()) as { refund: { id: string } }).refund.id).toBe(
      accepted.refund.id,
    );

    await waitFor(
      async () =>
        (await paymentRows(service, orderId)).find((row) => row.id === succeededId)?.status ===
        'refunded',
      'the payment refunded',
    );
    // The saga's own refund command for the same payment answers the existing refund.
    const sagaRefundId = randomUUID();
    await publish(service, RefundPayment, {
      orderId,
      refundId: sagaRefundId,
      paymentId: succeededId,
      amount: 2599,
      currency: 'USD',
      reason: 'customer_request',
    });
    const answers = await waitFor(async () => {
      const events = await eventsOf(service, 'payments.events.refund.succeeded');
      return events.some((event) => (event.data as { refundId: string }).refundId === sagaRefundId)
        ? events
        : null;
    }, 'the refund answer to the saga');
    const providerRefundIds = new Set(
      answers.map((event) => (event.data as { providerRefundId: string }).providerRefundId),
    );
    expect(providerRefundIds.size).toBe(1);
    expect(await refundRows()).toBe(1);
    expect((await sandbox.stats()).refunds).toBe(1);
    const audit = (await service.infrastructure.dataSource.query(
      `SELECT entity_type, action FROM audit_logs WHERE entity_type = 'refund'`,
    )) as unknown[];
    expect(audit.length).toBeGreaterThanOrEqual(2);
  });
});
