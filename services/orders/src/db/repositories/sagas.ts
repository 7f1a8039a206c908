import { affectedRowCount, returnedRows } from '@shop/service-kit';
import type { EntityManager } from 'typeorm';
import type { Saga, SagaData, SagaState } from '../../domain/saga/types.js';

// The saga hot path in plain SQL: one row by primary key, only the columns the machine uses,
// and writes guarded by the version read, so two writers can never both apply an event.

export interface StoredSaga extends Saga {
  orderId: string;
  version: number;
  /** The placing request's id, which every step's messages carry; null on older sagas. */
  correlationId: string | null;
}

/** Where a postponed saga's deadline went, and how many failures in a row put it there. */
export interface PostponedDeadline {
  deadlineAt: Date;
  failures: number;
}

interface SagaRow {
  order_id: string;
  state: SagaState;
  version: number;
  step_resends: number;
  next_deadline_at: Date | null;
  correlation_id: string | null;
  data: SagaData;
}

const COLUMNS = 'order_id, state, version, step_resends, next_deadline_at, correlation_id, data';

function fromRow(row: SagaRow): StoredSaga {
  return {
    orderId: row.order_id,
    state: row.state,
    version: row.version,
    stepResends: row.step_resends,
    deadlineAt: row.next_deadline_at,
    correlationId: row.correlation_id,
    data: row.data,
  };
}

export function createSagasRepository(manager: EntityManager) {
  return {
    /** `correlationId`: the placing request's id, kept for every later step of the saga. */
    async insert(orderId: string, saga: Saga, correlationId: string | null = null): Promise<void> {
      await manager.query(
        `INSERT INTO order_sagas
           (order_id, state, version, payment_attempts, step_resends, next_deadline_at, data,
            correlation_id)
         VALUES ($1, $2, 1, $3, $4, $5, $6::jsonb, $7)`,
        [
          orderId,
          saga.state,
          saga.data.paymentAttempts,
          saga.stepResends,
          saga.deadlineAt,
          JSON.stringify(saga.data),
          correlationId,
        ],
      );
    },

    async load(orderId: string): Promise<StoredSaga | null> {
      const rows = (await manager.query(`SELECT ${COLUMNS} FROM order_sagas WHERE order_id = $1`, [
        orderId,
      ])) as SagaRow[];
      return rows[0] ? fromRow(rows[0]) : null;
    },

    /**
     * Writes the new state if nobody else did since `version` was read; false otherwise. The
     * machine handled an event, so a count of failed deadline handlings starts over.
     */
    async update(orderId: string, version: number, saga: Saga): Promise<boolean> {
      const rows = (await manager.query(
        `UPDATE order_sagas
            SET state = $3, version = version + 1, payment_attempts = $4, step_resends = $5,
                next_deadline_at = $6, last_error = $7, data = $8::jsonb, deadline_failures = 0,
                updated_at = now()
          WHERE order_id = $1 AND version = $2
          RETURNING 1`,
        [
          orderId,
          version,
          saga.state,
          saga.data.paymentAttempts,
          saga.stepResends,
          saga.deadlineAt,
          saga.data.lastError,
          JSON.stringify(saga.data),
        ],
      )) as unknown;
      return affectedRowCount(rows) === 1;
    },

    /**
     * One saga whose deadline is at or before `now`, locked for this transaction. `now` is the
     * clock the machine decides with, so a claimed deadline is one it will see as due: with the
     * database's clock ahead of the app's, the same row would be claimed and ignored again and
     * again. `skip`: sagas this tick already served. SKIP LOCKED lets every replica's timer run
     * at once: each takes a different saga and none waits on another.
     */
    async claimDue(now: Date, skip: readonly string[] = []): Promise<StoredSaga | null> {
      const rows = (await manager.query(
        `SELECT ${COLUMNS} FROM order_sagas
          WHERE next_deadline_at IS NOT NULL AND next_deadline_at <= $1
            AND order_id <> ALL($2::uuid[])
          ORDER BY next_deadline_at
          LIMIT 1
          FOR UPDATE SKIP LOCKED`,
        [now, skip],
      )) as SagaRow[];
      return rows[0] ? fromRow(rows[0]) : null;
    },

    /**
     * Pushes back the deadline of a saga whose deadline handling threw, by a delay doubling
     * with each failure in a row (`baseMs`, then twice that, … up to `maxMs`, from `now`), so
     * it stops being the first due saga every tick. Only if the saga is still at `version`
     * (a write since then decided afresh) and still waits on a clock; the version moves on,
     * so a writer that read the saga before cannot put the old deadline back. Null when
     * nothing was postponed.
     */
    async postponeDeadline(
      orderId: string,
      version: number,
      now: Date,
      delay: { baseMs: number; maxMs: number },
    ): Promise<PostponedDeadline | null> {
      const rows = returnedRows<{ next_deadline_at: Date; deadline_failures: number }>(
        await manager.query(
          `UPDATE order_sagas
              SET next_deadline_at = $3::timestamptz + make_interval(
                    secs => least($4 * power(2, least(deadline_failures, 30)), $5) / 1000.0),
                  deadline_failures = deadline_failures + 1,
                  version = version + 1,
                  updated_at = now()
            WHERE order_id = $1 AND version = $2 AND next_deadline_at IS NOT NULL
            RETURNING next_deadline_at, deadline_failures`,
          [orderId, version, now, delay.baseMs, delay.maxMs],
        ),
      );
      const row = rows[0];
      return row ? { deadlineAt: row.next_deadline_at, failures: row.deadline_failures } : null;
    },
  };
}

export type SagasRepository = ReturnType<typeof createSagasRepository>;

export interface SagaSummaryRow {
  order_id: string;
  order_number: string;
  state: SagaState;
  data: SagaData;
  payment_attempts: number;
  step_resends: number;
  next_deadline_at: Date | null;
  last_error: string | null;
  created_at: Date;
  updated_at: Date;
  cursor_at: string;
}

/**
 * Staff's view of sagas by state, newest first by (created_at, order_id). Sagas of
 * soft-deleted orders are left out like the orders; one that still needs attention is counted
 * by the metric and can be retried by its order id.
 */
export async function listSagas(
  manager: EntityManager,
  filter: { state?: SagaState; after?: { createdAt: string; id: string }; limit: number },
): Promise<SagaSummaryRow[]> {
  const where: string[] = [];
  const values: unknown[] = [];
  if (filter.state) {
    values.push(filter.state);
    where.push(`s.state = $${values.length}`);
  }
  if (filter.after) {
    values.push(filter.after.createdAt, filter.after.id);
    where.push(
      `(s.created_at, s.order_id) < ($${values.length - 1}::timestamptz, $${values.length}::uuid)`,
    );
  }
  values.push(filter.limit);
  return (await manager.query(
    `SELECT s.order_id, o.order_number, s.state, s.data, s.payment_attempts, s.step_resends,
            s.next_deadline_at, s.last_error, s.created_at, s.updated_at,
            to_char(s.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_at
       FROM order_sagas s JOIN orders o ON o.id = s.order_id AND o.deleted_at IS NULL
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY s.created_at DESC, s.order_id DESC
      LIMIT $${values.length}`,
    values,
  )) as SagaSummaryRow[];
}
