import { returnedRows } from '@shop/service-kit';
import type { EntityManager } from 'typeorm';
import type { Line } from '../../domain/reservation.js';

export interface HeldLine extends Line {
  reservedAt: Date;
}

/**
 * The trace of the reserve command that took the stock: its saga's correlation id and its own
 * message id. Kept with the rows so what happens to them later without a command (expiry) is
 * still part of the order's story.
 */
export interface ReservationTrace {
  correlationId: string;
  causationId: string;
}

/** An order the sweeper claimed, with the trace of its reservation (null on older rows). */
export interface ExpiredOrder {
  orderId: string;
  correlationId: string | null;
  causationId: string | null;
}

/** Reservation rows of orders; every statement touches one order's rows only. */
export function reservationsRepository(manager: EntityManager) {
  return {
    /**
     * Records the held lines, expiring `ttlSeconds` from now by the database's clock (the one
     * the sweeper compares with). Returns when they were taken and when they expire.
     */
    async insert(
      orderId: string,
      lines: readonly Line[],
      ttlSeconds: number,
      trace: ReservationTrace,
    ): Promise<{ reservedAt: Date; expiresAt: Date }> {
      const rows = (await manager.query(
        `INSERT INTO reservations
           (order_id, product_id, quantity, expires_at, correlation_id, causation_id)
         SELECT $1, line.product_id, line.quantity, now() + make_interval(secs => $4), $5, $6
           FROM unnest($2::uuid[], $3::int[]) AS line (product_id, quantity)
         RETURNING created_at AS "reservedAt", expires_at AS "expiresAt"`,
        [
          orderId,
          lines.map((line) => line.productId),
          lines.map((line) => line.quantity),
          ttlSeconds,
          trace.correlationId,
          trace.causationId,
        ],
      )) as Array<{ reservedAt: Date; expiresAt: Date }>;
      const first = rows[0];
      if (!first) throw new Error(`no reservation rows written for order ${orderId}`);
      return first;
    },

    /** Marks what the order still holds as released; returns those lines in product order. */
    async release(orderId: string, reason: string, onlyExpired = false): Promise<HeldLine[]> {
      const rows = returnedRows<HeldLine>(
        await manager.query(
          `UPDATE reservations
              SET status = 'released', released_at = now(), release_reason = $2, updated_at = now()
            WHERE order_id = $1 AND status = 'reserved' AND (NOT $3 OR expires_at <= now())
            RETURNING product_id AS "productId", quantity, created_at AS "reservedAt"`,
          [orderId, reason, onlyExpired],
        ),
      );
      return sortByProduct(rows);
    },

    /** Marks what the order holds as committed (it ships); returns those lines in product order. */
    async commit(orderId: string): Promise<HeldLine[]> {
      const rows = returnedRows<HeldLine>(
        await manager.query(
          `UPDATE reservations
              SET status = 'committed', committed_at = now(), updated_at = now()
            WHERE order_id = $1 AND status = 'reserved'
            RETURNING product_id AS "productId", quantity, created_at AS "reservedAt"`,
          [orderId],
        ),
      );
      return sortByProduct(rows);
    },

    /**
     * Claims the order of the oldest expired reservation that no other transaction holds
     * (FOR UPDATE SKIP LOCKED), so two sweepers never take the same one. `skip` lists orders
     * this sweep already found busy.
     */
    async claimExpiredOrder(skip: readonly string[]): Promise<ExpiredOrder | null> {
      const rows = (await manager.query(
        `SELECT order_id AS "orderId", correlation_id AS "correlationId",
                causation_id AS "causationId"
           FROM reservations
          WHERE status = 'reserved' AND expires_at <= now() AND order_id <> ALL($1::uuid[])
          ORDER BY expires_at
          LIMIT 1
          FOR UPDATE SKIP LOCKED`,
        [skip],
      )) as ExpiredOrder[];
      return rows[0] ?? null;
    },
  };
}

function sortByProduct<Row extends Line>(rows: Row[]): Row[] {
  return rows.sort((a, b) => (a.productId < b.productId ? -1 : a.productId > b.productId ? 1 : 0));
}
