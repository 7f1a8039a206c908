import type { EntityManager } from 'typeorm';
import type { Saga, SagaData, SagaState } from '../../domain/saga/types.js';

// The saga hot path in plain SQL: one row by primary key, only the columns the machine uses,
// and writes guarded by the version read, so two writers can never both apply an event.

export interface StoredSaga extends Saga {
  orderId: string;
  version: number;
}

interface SagaRow {
  order_id: string;
  state: SagaState;
  version: number;
  step_resends: number;
  next_deadline_at: Date | null;
  data: SagaData;
}

/**
 * TypeORM's postgres driver answers an UPDATE with `[rows, rowCount]` rather than the rows, so
 * the count is read from whichever shape came back.
 */
function affectedRows(result: unknown): number {
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0])) {
    return Number(result[1]);
  }
  return Array.isArray(result) ? result.length : 0;
}

const COLUMNS = 'order_id, state, version, step_resends, next_deadline_at, data';

function fromRow(row: SagaRow): StoredSaga {
  return {
    orderId: row.order_id,
    state: row.state,
    version: row.version,
    stepResends: row.step_resends,
    deadlineAt: row.next_deadline_at,
    data: row.data,
  };
}

export function createSagasRepository(manager: EntityManager) {
  return {
    async insert(orderId: string, saga: Saga): Promise<void> {
      await manager.query(
        `INSERT INTO order_sagas
           (order_id, state, version, payment_attempts, step_resends, next_deadline_at, data)
         VALUES ($1, $2, 1, $3, $4, $5, $6::jsonb)`,
        [
          orderId,
          saga.state,
          saga.data.paymentAttempts,
          saga.stepResends,
          saga.deadlineAt,
          JSON.stringify(saga.data),
        ],
      );
    },

    async load(orderId: string): Promise<StoredSaga | null> {
      const rows = (await manager.query(`SELECT ${COLUMNS} FROM order_sagas WHERE order_id = $1`, [
        orderId,
      ])) as SagaRow[];
      return rows[0] ? fromRow(rows[0]) : null;
    },

    /** Writes the new state if nobody else did since `version` was read; false otherwise. */
    async update(orderId: string, version: number, saga: Saga): Promise<boolean> {
      const rows = (await manager.query(
        `UPDATE order_sagas
            SET state = $3, version = version + 1, payment_attempts = $4, step_resends = $5,
                next_deadline_at = $6, last_error = $7, data = $8::jsonb, updated_at = now()
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
      return affectedRows(rows) === 1;
    },

    /**
     * One saga whose deadline has passed, locked for this transaction. SKIP LOCKED lets every
     * replica's timer run at once: each takes a different saga and none waits on another.
     */
    async claimDue(): Promise<StoredSaga | null> {
      const rows = (await manager.query(
        `SELECT ${COLUMNS} FROM order_sagas
          WHERE next_deadline_at IS NOT NULL AND next_deadline_at <= now()
          ORDER BY next_deadline_at
          LIMIT 1
          FOR UPDATE SKIP LOCKED`,
      )) as SagaRow[];
      return rows[0] ? fromRow(rows[0]) : null;
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

/** Staff's view of sagas by state, newest first by (created_at, order_id). */
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
       FROM order_sagas s JOIN orders o ON o.id = s.order_id
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY s.created_at DESC, s.order_id DESC
      LIMIT $${values.length}`,
    values,
  )) as SagaSummaryRow[];
}
