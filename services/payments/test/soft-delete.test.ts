import { randomUUID } from 'node:crypto';
import { ChargePayment, OrderCancelled, RefundPayment } from '@shop/contracts';
import type { TestService } from '@shop/service-kit/testing';
import { describe, expect, it } from 'vitest';
import { softDeletePaymentsOfOrder } from '../src/application/soft-delete.js';
import { paymentsRepository } from '../src/db/repositories/payments.js';
import { refundsRepository } from '../src/db/repositories/refunds.js';
import {
  chargeCommand,
  eventsOf,
  paymentRows,
  paymentsWithSandbox,
  publish,
  replyTo,
  waitFor,
} from './support.js';

describe("soft-deleting an order's payments (an operator erasing them)", () => {
  let service: TestService;
  const operator = { userId: randomUUID() };
  const customerId = randomUUID();
  let tokens: Record<'owner' | 'employee' | 'manager', string>;

  const call = (method: string, path: string, token: string) =>
    fetch(`${service.url}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
  const softDelete = (orderId: string) =>
    softDeletePaymentsOfOrder(service.infrastructure.dataSource, orderId, operator);
  const listed = async (orderId: string, token: string) => {
    const response = await call('GET', `/v1/payments?orderId=${orderId}`, token);
    expect(response.status).toBe(200);
    return ((await response.json()) as { items: Array<{ id: string }> }).items.map(
      (item) => item.id,
    );
  };

  /** An order with a declined attempt and then a kept charge; the attempts' ids. */
  async function paidOrder(): Promise<{ orderId: string; failedId: string; paidId: string }> {
    const orderId = randomUUID();
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
    return {
      orderId,
      failedId: rows.find((row) => row.status === 'failed')!.id,
      paidId: rows.find((row) => row.status === 'succeeded')!.id,
    };
  }

  paymentsWithSandbox('payments_soft_delete', async (running) => {
    ({ service } = running);
    tokens = {
      owner: await service.tokenFor({ userId: customerId, role: 'customer' }),
      employee: await service.tokenFor({ userId: randomUUID(), role: 'employee' }),
      manager: await service.tokenFor({ userId: randomUUID(), role: 'manager' }),
    };
  });

  it("has the validated CHECK and the design's index", async () => {
    const [row] = (await service.infrastructure.dataSource.query(
      `SELECT
         (SELECT convalidated FROM pg_constraint
           WHERE conname = 'payments_deleted_only_when_settled') AS validated,
         (SELECT indisvalid FROM pg_index
           WHERE indexrelid = 'payments_id_order_id_deleted_at_idx'::regclass) AS index_valid,
         (SELECT pg_get_indexdef('payments_id_order_id_deleted_at_idx'::regclass)) AS index_def`,
    )) as Array<{ validated: boolean; index_valid: boolean; index_def: string }>;
    expect(row).toMatchObject({ validated: true, index_valid: true });
    expect(row!.index_def).toContain('(id, order_id, deleted_at)');
  });

  it('hides them from the API; the rows stay, and the handlers still answer for them', async () => {
    const gone = await paidOrder();
    const kept = await paidOrder();
    expect(await listed(gone.orderId, tokens.owner)).toEqual([gone.paidId, gone.failedId]);

    const result = await softDelete(gone.orderId);
    expect(result).toEqual({ outcome: 'deleted', ids: expect.any(Array) });
    expect(result.outcome === 'deleted' && [...result.ids].sort()).toEqual(
      [gone.paidId, gone.failedId].sort(),
    );

    for (const token of [tokens.owner, tokens.employee]) {
      expect(await listed(gone.orderId, token)).toEqual([]);
      expect(await listed(kept.orderId, token)).toEqual([kept.paidId, kept.failedId]);
    }
    const refund = await call('POST', `/v1/payments/${gone.paidId}/refund`, tokens.manager);
    expect(refund.status).toBe(404);
    // Once only: nothing is left to delete.
    expect(await softDelete(gone.orderId)).toEqual({ outcome: 'deleted', ids: [] });

    // Nothing physically deleted, and each payment's erasure is audited.
    const rows = (await service.infrastructure.dataSource.query(
      'SELECT id, status, deleted_at FROM payments WHERE order_id = $1',
      [gone.orderId],
    )) as Array<{ status: string; deleted_at: Date | null }>;
    expect(rows).toHaveLength(2);
    expect(rows.every((row) => row.deleted_at instanceof Date)).toBe(true);
    const audit = (await service.infrastructure.dataSource.query(
      `SELECT entity_id, user_id FROM audit_logs WHERE action = 'delete' AND entity_id = ANY($1::uuid[])`,
      [[gone.paidId, gone.failedId]],
    )) as Array<{ user_id: string }>;
    expect(audit).toHaveLength(2);
    expect(audit.every((entry) => entry.user_id === operator.userId)).toBe(true);

    // The saga's refund of an erased order's charge is still carried out.
    const refundId = randomUUID();
    await publish(service, RefundPayment, {
      orderId: gone.orderId,
      refundId,
      paymentId: gone.paidId,
      amount: 2599,
      currency: 'USD',
      reason: 'duplicate_payment',
    });
    await waitFor(
      async () =>
        (await eventsOf(service, 'payments.events.refund.succeeded')).some(
          (event) => (event.data as { refundId: string }).refundId === refundId,
        ),
      'the refund answered',
    );
    expect((await paymentRows(service, gone.orderId)).map((row) => row.status).sort()).toEqual([
      'failed',
      'refunded',
    ]);
  });

  it('is refused while money is still in motion for the order', async () => {
    const { dataSource } = service.infrastructure;
    // An attempt whose outcome is not known yet.
    const pendingOrder = randomUUID();
    const pending = await paymentsRepository(dataSource.manager).insertAttempt(
      chargeCommand({ orderId: pendingOrder, customerId }),
      'sandbox',
    );
    expect(await softDelete(pendingOrder)).toEqual({
      outcome: 'unsettled',
      reason: 'payment_pending',
    });
    // The database refuses it too, whoever writes.
    await expect(
      dataSource.query('UPDATE payments SET deleted_at = now() WHERE id = $1', [pending!.id]),
    ).rejects.toThrow(/payments_deleted_only_when_settled/);

    // A refund asked for and not through yet.
    const refunding = await paidOrder();
    const payment = await paymentsRepository(dataSource.manager).lockById(refunding.paidId);
    await refundsRepository(dataSource.manager).findOrCreate(payment!, {
      refundId: randomUUID(),
      reason: 'staff_request',
      requestedBy: null,
    });
    expect(await softDelete(refunding.orderId)).toEqual({
      outcome: 'unsettled',
      reason: 'refund_not_succeeded',
    });
    expect(await listed(refunding.orderId, tokens.owner)).toHaveLength(2);

    // A cancelled order's kept charge, not refunded yet, then refunded.
    const order = await paidOrder();
    await publish(service, OrderCancelled, {
      orderId: order.orderId,
      orderNumber: 'ORD-2026-000003',
      customerId,
      cancellationReason: 'customer_request',
      refunded: false,
      cancelledAt: new Date().toISOString(),
    });
    await waitFor(
      async () =>
        (
          (await dataSource.query('SELECT 1 FROM cancelled_orders WHERE order_id = $1', [
            order.orderId,
          ])) as unknown[]
        ).length === 1,
      'the cancellation recorded',
    );
    expect(await softDelete(order.orderId)).toEqual({
      outcome: 'unsettled',
      reason: 'cancelled_order_not_refunded',
    });
    expect((await call('POST', `/v1/payments/${order.paidId}/refund`, tokens.manager)).status).toBe(
      202,
    );
    await waitFor(
      async () =>
        (await paymentRows(service, order.orderId)).some((row) => row.status === 'refunded'),
      'the charge refunded',
    );
    expect(await softDelete(order.orderId)).toMatchObject({ outcome: 'deleted' });
    expect(await listed(order.orderId, tokens.owner)).toEqual([]);
  });
});
