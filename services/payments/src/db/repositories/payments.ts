import { returnedRows } from '@shop/service-kit';
import type { ChargePayment } from '@shop/contracts';
import type { EntityManager } from 'typeorm';
import type { PaymentStatus } from '../../domain/payment-status.js';

/** A payment row as the code uses it; timestamps keep Postgres' microseconds for cursors. */
export interface PaymentRecord {
  id: string;
  attemptId: string;
  attempt: number;
  orderId: string;
  orderNumber: string;
  customerId: string;
  paymentMethodId: string;
  providerPaymentMethodId: string;
  amount: number;
  currency: string;
  status: PaymentStatus;
  failureReason: string | null;
  failureMessage: string | null;
  provider: string;
  providerChargeId: string | null;
  attemptedAt: string;
  settledAt: string | null;
  createdAt: string;
}

const ISO = (column: string) =>
  `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

const COLUMNS = `
  id, attempt_id AS "attemptId", attempt, order_id AS "orderId", order_number AS "orderNumber",
  customer_id AS "customerId", payment_method_id AS "paymentMethodId",
  provider_payment_method_id AS "providerPaymentMethodId", amount, currency, status,
  failure_reason AS "failureReason", failure_message AS "failureMessage", provider,
  provider_charge_id AS "providerChargeId", ${ISO('attempted_at')} AS "attemptedAt",
  ${ISO('settled_at')} AS "settledAt", ${ISO('created_at')} AS "createdAt"`;

/** Why payments gives a charge back on its own (also the reply's error code for it). */
export const UNWANTED_REASONS = [
  'order_cancelled',
  'attempt_superseded',
  'order_already_paid',
] as const;
export type UnwantedReason = (typeof UNWANTED_REASONS)[number];

export interface Settlement {
  status: Exclude<PaymentStatus, 'pending'>;
  providerChargeId: string | null;
  failureReason?: string | null;
  failureMessage?: string | null;
}

/** What an operator's soft delete of an order's payments did. */
export type PaymentsSoftDeleteOutcome =
  /** The payments soft-deleted now (none when the order has none left visible). */
  | { outcome: 'deleted'; ids: string[] }
  /** Money is still in motion for the order: nothing was changed. */
  | {
      outcome: 'unsettled';
      reason: 'payment_pending' | 'refund_not_succeeded' | 'cancelled_order_not_refunded';
    };

/**
 * Payments' SQL, run with the EntityManager of the transaction in progress. Soft-deleted rows
 * (erased orders) are hidden only from what the API reads: `listForOrder` and
 * `lockById(id, { visibleOnly: true })`. The handlers and the reconciler see every row, since
 * money owed on an erased order must still be settled.
 */
export function paymentsRepository(manager: EntityManager) {
  const rows = async (sql: string, params: unknown[]) =>
    returnedRows<PaymentRecord>(await manager.query(sql, params));

  return {
    /** Inserts the attempt unless its attempt id is known; says whether it did. */
    async insertAttempt(data: ChargePayment, provider: string): Promise<PaymentRecord | null> {
      const inserted = await rows(
        `INSERT INTO payments (attempt_id, attempt, order_id, order_number, customer_id,
           payment_method_id, provider_payment_method_id, amount, currency, provider)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (attempt_id) DO NOTHING
         RETURNING ${COLUMNS}`,
        [
          data.attemptId,
          data.attempt,
          data.orderId,
          data.orderNumber,
          data.customerId,
          data.paymentMethodId,
          data.providerPaymentMethodId,
          data.amount,
          data.currency,
          provider,
        ],
      );
      return inserted[0] ?? null;
    },

    async lockByAttemptId(attemptId: string): Promise<PaymentRecord | null> {
      const found = await rows(`SELECT ${COLUMNS} FROM payments WHERE attempt_id = $1 FOR UPDATE`, [
        attemptId,
      ]);
      return found[0] ?? null;
    },

    /** `visibleOnly`: null for a soft-deleted payment too (the API's reads). */
    async lockById(
      id: string,
      options: { skipLocked?: boolean; visibleOnly?: boolean } = {},
    ): Promise<PaymentRecord | null> {
      const found = await rows(
        `SELECT ${COLUMNS} FROM payments
          WHERE id = $1${options.visibleOnly ? ' AND deleted_at IS NULL' : ''}
          FOR UPDATE${options.skipLocked ? ' SKIP LOCKED' : ''}`,
        [id],
      );
      return found[0] ?? null;
    },

    async settle(id: string, settlement: Settlement): Promise<PaymentRecord> {
      const updated = await rows(
        `UPDATE payments
            SET status = $2, provider_charge_id = COALESCE($3, provider_charge_id),
                failure_reason = $4, failure_message = $5,
                settled_at = COALESCE(settled_at, clock_timestamp()), updated_at = clock_timestamp()
          WHERE id = $1
          RETURNING ${COLUMNS}`,
        [
          id,
          settlement.status,
          settlement.providerChargeId,
          settlement.failureReason ?? null,
          settlement.failureMessage ?? null,
        ],
      );
      const row = updated[0];
      if (!row) throw new Error(`payment ${id} vanished while settling`);
      return row;
    },

    async markRefunded(id: string): Promise<PaymentRecord> {
      const updated = await rows(
        `UPDATE payments SET status = 'refunded', updated_at = clock_timestamp() WHERE id = $1 RETURNING ${COLUMNS}`,
        [id],
      );
      const row = updated[0];
      if (!row) throw new Error(`payment ${id} vanished while refunding`);
      return row;
    },

    /**
     * Whether the order no longer wants this attempt's money, checked before charging it and
     * again once charged (a cancellation or a later attempt may arrive in between):
     * - the order was cancelled;
     * - a later attempt exists: only an order's latest attempt may pay for it (the saga gives an
     *   attempt up for good when it issues the next one, and ignores its success from then on);
     * - another attempt that is not an earlier one already paid (an earlier one's charge is
     *   the one to give back: see `lockEarlierKept`).
     */
    async isUnwanted(payment: PaymentRecord): Promise<UnwantedReason | null> {
      const [row] = (await manager.query(
        `SELECT
           EXISTS (SELECT 1 FROM cancelled_orders WHERE order_id = $1) AS cancelled,
           EXISTS (SELECT 1 FROM payments WHERE order_id = $1 AND attempt > $3) AS superseded,
           EXISTS (SELECT 1 FROM payments WHERE order_id = $1 AND id <> $2 AND attempt >= $3
                     AND status = 'succeeded') AS paid`,
        [payment.orderId, payment.id, payment.attempt],
      )) as Array<{ cancelled: boolean; paid: boolean; superseded: boolean }>;
      if (row?.cancelled) return 'order_cancelled';
      if (row?.superseded) return 'attempt_superseded';
      if (row?.paid) return 'order_already_paid';
      return null;
    },

    /**
     * Locks the order's attempts earlier than `payment` and returns those holding a kept charge:
     * superseded by `payment`, so theirs is the money to give back before `payment` may keep
     * its own. Locked newest first, as every writer that locks several of an order's attempts
     * does (each holds its own, later, row already), so two handlers never wait on each other;
     * a pending one being settled by its handler is waited for and read as it ends.
     */
    async lockEarlierKept(payment: PaymentRecord): Promise<PaymentRecord[]> {
      const earlier = await rows(
        `SELECT ${COLUMNS} FROM payments
          WHERE order_id = $1 AND attempt < $2
          ORDER BY attempt DESC, id
          FOR UPDATE`,
        [payment.orderId, payment.attempt],
      );
      return earlier.filter((row) => row.status === 'succeeded');
    },

    /** Attempts pending longer than `olderThanMs`: their handler died or gave up asking. */
    async stalePendingIds(olderThanMs: number, limit: number): Promise<string[]> {
      const found = (await manager.query(
        `SELECT id FROM payments
          WHERE status = 'pending' AND attempted_at < now() - make_interval(secs => $1 / 1000.0)
          ORDER BY attempted_at LIMIT $2`,
        [olderThanMs, limit],
      )) as Array<{ id: string }>;
      return found.map((row) => row.id);
    },

    /**
     * Kept charges of orders cancelled at least `olderThanMs` ago with no live refund: none yet,
     * or only refused ones (a refused refund is history; the next one is a new refund).
     */
    async unrefundedCancelledIds(olderThanMs: number, limit: number): Promise<string[]> {
      const found = (await manager.query(
        `SELECT p.id FROM payments p
           JOIN cancelled_orders c ON c.order_id = p.order_id
          WHERE p.status = 'succeeded'
            AND c.created_at < now() - make_interval(secs => $1 / 1000.0)
            AND NOT EXISTS (SELECT 1 FROM refunds r WHERE r.payment_id = p.id
                              AND r.status IN ('pending', 'succeeded'))
          LIMIT $2`,
        [olderThanMs, limit],
      )) as Array<{ id: string }>;
      return found.map((row) => row.id);
    },

    /**
     * Unwanted charges payments settled as refunded at once whose refund the provider refused
     * (`refundUnwantedCharge`), last refused at least `olderThanMs` ago, with no live refund:
     * the money is still at the provider. Each with the reason it was unwanted.
     */
    async unrefundedUnwanted(
      olderThanMs: number,
      limit: number,
    ): Promise<Array<{ id: string; reason: string }>> {
      return (await manager.query(
        `SELECT p.id, (SELECT r.reason FROM refunds r WHERE r.payment_id = p.id
                         ORDER BY r.created_at DESC LIMIT 1) AS reason
           FROM payments p
          WHERE p.status = 'refunded'
            AND EXISTS (SELECT 1 FROM refunds r WHERE r.payment_id = p.id AND r.status = 'failed')
            AND (SELECT max(r.updated_at) FROM refunds r WHERE r.payment_id = p.id)
                  < now() - make_interval(secs => $1 / 1000.0)
            AND NOT EXISTS (SELECT 1 FROM refunds r WHERE r.payment_id = p.id
                              AND r.status IN ('pending', 'succeeded'))
          LIMIT $2`,
        [olderThanMs, limit],
      )) as Array<{ id: string; reason: string }>;
    },

    /** Newest first, keyset on (created_at, id); `customerId` null means staff (all). */
    async listForOrder(query: {
      orderId: string;
      customerId: string | null;
      limit: number;
      after: { createdAt: string; id: string } | null;
    }): Promise<PaymentRecord[]> {
      return rows(
        `SELECT ${COLUMNS} FROM payments
          WHERE order_id = $1 AND deleted_at IS NULL
            AND ($2::uuid IS NULL OR customer_id = $2)
            AND ($3::timestamptz IS NULL OR (created_at, id) < ($3::timestamptz, $4::uuid))
          ORDER BY created_at DESC, id DESC
          LIMIT $5`,
        [
          query.orderId,
          query.customerId,
          query.after?.createdAt ?? null,
          query.after?.id ?? null,
          query.limit,
        ],
      );
    },

    /**
     * Soft-deletes every payment of an order, for an erasure request: an operator's act, after
     * the order itself was soft-deleted in orders (no route does it). Refused while money is
     * still in motion for the order: an attempt pending (a CHECK refuses that too), a refund
     * not through, or a kept charge of a cancelled order that the reconciler has yet to refund.
     * Runs in the caller's transaction; the order's rows are locked first, so a handler or
     * the reconciler working on one finishes before the check.
     */
    async softDeleteForOrder(orderId: string): Promise<PaymentsSoftDeleteOutcome> {
      const locked = (await manager.query(
        'SELECT id, status FROM payments WHERE order_id = $1 ORDER BY id FOR UPDATE',
        [orderId],
      )) as Array<{ id: string; status: PaymentStatus }>;
      if (locked.some((row) => row.status === 'pending')) {
        return { outcome: 'unsettled', reason: 'payment_pending' };
      }
      const [state] = (await manager.query(
        `SELECT
           EXISTS (
             -- A refused refund is history once a later refund of the same payment went through.
             SELECT 1 FROM refunds r WHERE r.order_id = $1 AND r.status <> 'succeeded'
                AND NOT EXISTS (SELECT 1 FROM refunds s
                                 WHERE s.payment_id = r.payment_id AND s.status = 'succeeded')
           ) AS refund_open,
           EXISTS (
             SELECT 1 FROM payments p JOIN cancelled_orders c ON c.order_id = p.order_id
              WHERE p.order_id = $1 AND p.status = 'succeeded'
                AND NOT EXISTS (SELECT 1 FROM refunds r WHERE r.payment_id = p.id
                                  AND r.status IN ('pending', 'succeeded'))
           ) AS unrefunded`,
        [orderId],
      )) as Array<{ refund_open: boolean; unrefunded: boolean }>;
      if (state?.refund_open) return { outcome: 'unsettled', reason: 'refund_not_succeeded' };
      if (state?.unrefunded) {
        return { outcome: 'unsettled', reason: 'cancelled_order_not_refunded' };
      }
      const deleted = returnedRows<{ id: string }>(
        await manager.query(
          `UPDATE payments SET deleted_at = now(), updated_at = now()
            WHERE order_id = $1 AND deleted_at IS NULL RETURNING id`,
          [orderId],
        ),
      );
      return { outcome: 'deleted', ids: deleted.map((row) => row.id) };
    },
  };
}
export type PaymentsRepository = ReturnType<typeof paymentsRepository>;
