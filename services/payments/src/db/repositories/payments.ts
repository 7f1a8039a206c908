import type { ChargePayment } from '@shop/contracts';
import type { EntityManager } from 'typeorm';
import { rowsOf } from './rows.js';
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

export interface Settlement {
  status: Exclude<PaymentStatus, 'pending'>;
  providerChargeId: string | null;
  failureReason?: string | null;
  failureMessage?: string | null;
}

/** Payments' SQL, run with the EntityManager of the transaction in progress. */
export function paymentsRepository(manager: EntityManager) {
  const rows = async (sql: string, params: unknown[]) =>
    rowsOf<PaymentRecord>(await manager.query(sql, params));

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

    async lockById(
      id: string,
      options: { skipLocked?: boolean } = {},
    ): Promise<PaymentRecord | null> {
      const found = await rows(
        `SELECT ${COLUMNS} FROM payments WHERE id = $1 FOR UPDATE${options.skipLocked ? ' SKIP LOCKED' : ''}`,
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
     * Whether the order no longer wants this charge's money: it was cancelled, a later attempt
     * replaced this one (the saga drops answers to attempts it gave up on), or another attempt
     * already paid for it.
     */
    async isUnwanted(payment: PaymentRecord): Promise<string | null> {
      const [row] = (await manager.query(
        `SELECT
           EXISTS (SELECT 1 FROM cancelled_orders WHERE order_id = $1) AS cancelled,
           EXISTS (SELECT 1 FROM payments WHERE order_id = $1 AND id <> $2 AND status = 'succeeded') AS paid,
           EXISTS (SELECT 1 FROM payments WHERE order_id = $1 AND attempt > $3) AS superseded`,
        [payment.orderId, payment.id, payment.attempt],
      )) as Array<{ cancelled: boolean; paid: boolean; superseded: boolean }>;
      if (row?.cancelled) return 'order_cancelled';
      if (row?.paid) return 'order_already_paid';
      if (row?.superseded) return 'attempt_superseded';
      return null;
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

    /** Kept charges of orders cancelled at least `olderThanMs` ago that nobody has refunded. */
    async unrefundedCancelledIds(olderThanMs: number, limit: number): Promise<string[]> {
      const found = (await manager.query(
        `SELECT p.id FROM payments p
           JOIN cancelled_orders c ON c.order_id = p.order_id
          WHERE p.status = 'succeeded'
            AND c.created_at < now() - make_interval(secs => $1 / 1000.0)
            AND NOT EXISTS (SELECT 1 FROM refunds r WHERE r.payment_id = p.id)
          LIMIT $2`,
        [olderThanMs, limit],
      )) as Array<{ id: string }>;
      return found.map((row) => row.id);
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
          WHERE order_id = $1
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
  };
}
export type PaymentsRepository = ReturnType<typeof paymentsRepository>;
