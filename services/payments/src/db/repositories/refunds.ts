import { returnedRows } from '@shop/service-kit';
import type { EntityManager } from 'typeorm';
import type { RefundStatus } from '../../domain/payment-status.js';
import type { PaymentRecord } from './payments.js';

export interface RefundRecord {
  id: string;
  refundId: string;
  paymentId: string;
  orderId: string;
  amount: number;
  currency: string;
  status: RefundStatus;
  reason: string;
  requestedBy: string | null;
  providerRefundId: string | null;
  failureReason: string | null;
  updatedAt: string;
}

const COLUMNS = `
  id, refund_id AS "refundId", payment_id AS "paymentId", order_id AS "orderId", amount,
  currency, status, reason, requested_by AS "requestedBy", provider_refund_id AS "providerRefundId",
  failure_reason AS "failureReason",
  to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "updatedAt"`;

/** A refund id already names a refund of another payment: the request is not this one's. */
export class RefundIdReusedError extends Error {
  constructor(refundId: string) {
    super(`refund id ${refundId} already names a refund of another payment`);
    this.name = 'RefundIdReusedError';
  }
}

/** Refunds' SQL, run with the EntityManager of the transaction in progress. */
export function refundsRepository(manager: EntityManager) {
  const rows = async (sql: string, params: unknown[]) =>
    returnedRows<RefundRecord>(await manager.query(sql, params));

  return {
    /**
     * The payment's live refund: pending or succeeded, at most one (a partial unique index).
     * Failed refunds are history: a new request after one is a new refund with a new key.
     */
    async forPayment(paymentId: string): Promise<RefundRecord | null> {
      const found = await rows(
        `SELECT ${COLUMNS} FROM refunds
          WHERE payment_id = $1 AND status IN ('pending', 'succeeded')`,
        [paymentId],
      );
      return found[0] ?? null;
    },

    async byRefundId(refundId: string): Promise<RefundRecord | null> {
      const found = await rows(`SELECT ${COLUMNS} FROM refunds WHERE refund_id = $1`, [refundId]);
      return found[0] ?? null;
    },

    /** How many refunds of the payment the provider refused (found through the order's index). */
    async failedCount(payment: PaymentRecord): Promise<number> {
      const [row] = (await manager.query(
        `SELECT count(*)::int AS failed FROM refunds
          WHERE order_id = $1 AND payment_id = $2 AND status = 'failed'`,
        [payment.orderId, payment.id],
      )) as Array<{ failed: number }>;
      return row?.failed ?? 0;
    },

    /**
     * The refund that answers a request under `refundId`:
     * - the request's own refund when its id is known (a duplicate, whatever its status): one
     *   refund id is one refund, and a failed one is not tried again under the same key;
     * - else the payment's live refund, whoever asked first: a payment is refunded once;
     * - else a new pending refund under `refundId`, a new key at the provider (a retry after a
     *   refused refund lands here).
     * The caller holds the payment's row lock, so two requests cannot both insert; the partial
     * unique index would refuse a second live refund anyway.
     */
    async findOrCreate(
      payment: PaymentRecord,
      request: { refundId: string; reason: string; requestedBy: string | null },
    ): Promise<{ refund: RefundRecord; created: boolean }> {
      const own = await this.byRefundId(request.refundId);
      if (own) {
        if (own.paymentId !== payment.id) {
          throw new RefundIdReusedError(request.refundId);
        }
        return { refund: own, created: false };
      }
      const live = await this.forPayment(payment.id);
      if (live) return { refund: live, created: false };
      const inserted = await rows(
        `INSERT INTO refunds (refund_id, payment_id, order_id, amount, currency, reason, requested_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         RETURNING ${COLUMNS}`,
        [
          request.refundId,
          payment.id,
          payment.orderId,
          payment.amount,
          payment.currency,
          request.reason,
          request.requestedBy,
        ],
      );
      const refund = inserted[0];
      if (!refund) throw new Error('refund insert returned nothing');
      return { refund, created: true };
    },

    /** Why the payment's succeeded refund was made (null if it has none). */
    async succeededReason(paymentId: string): Promise<string | null> {
      const found = await rows(
        `SELECT ${COLUMNS} FROM refunds WHERE payment_id = $1 AND status = 'succeeded'`,
        [paymentId],
      );
      return found[0]?.reason ?? null;
    },

    async markSucceeded(id: string, providerRefundId: string): Promise<RefundRecord> {
      const updated = await rows(
        `UPDATE refunds SET status = 'succeeded', provider_refund_id = $2, failure_reason = NULL,
                updated_at = clock_timestamp()
          WHERE id = $1 RETURNING ${COLUMNS}`,
        [id, providerRefundId],
      );
      if (!updated[0]) throw new Error(`refund ${id} vanished`);
      return updated[0];
    },

    async markFailed(id: string, reason: string): Promise<RefundRecord> {
      const updated = await rows(
        `UPDATE refunds SET status = 'failed', failure_reason = $2, updated_at = clock_timestamp()
          WHERE id = $1 RETURNING ${COLUMNS}`,
        [id, reason],
      );
      if (!updated[0]) throw new Error(`refund ${id} vanished`);
      return updated[0];
    },

    /** Refunds still pending after `olderThanMs`: the last try's answer was lost. */
    async stalePendingPaymentIds(olderThanMs: number, limit: number): Promise<string[]> {
      const found = (await manager.query(
        `SELECT payment_id FROM refunds
          WHERE status = 'pending' AND updated_at < now() - make_interval(secs => $1 / 1000.0)
          ORDER BY updated_at LIMIT $2`,
        [olderThanMs, limit],
      )) as Array<{ payment_id: string }>;
      return found.map((row) => row.payment_id);
    },
  };
}
