import { returnedRows } from '@shop/service-kit';
import type { EntityManager } from 'typeorm';
import type { OrderPatch, OrderStatus, SagaState, TimelineEntry } from '../../domain/saga/types.js';
import { OrderItem } from '../entities/order-item.entity.js';
import { Order } from '../entities/order.entity.js';

export interface OrderListFilter {
  customerId?: string;
  status?: string;
  /** Keyset position: rows strictly older than it, newest first. */
  after?: { createdAt: string; id: string };
  limit: number;
}

export interface TimelineRow {
  at: Date;
  step: string;
  outcome: string;
  detail: string | null;
}

/** The order's summary as an audit row shows it, before or after a status change. */
export interface OrderSummary {
  status: OrderStatus;
  cancellationReason: string | null;
  cancelledAt: Date | null;
  paymentStatus: string | null;
  paymentId: string | null;
  shipmentId: string | null;
  shippedAt: Date | null;
  deliveredAt: Date | null;
}

/** What a patch that sets the status found and left, for the audit row. */
export interface OrderStatusChange {
  before: OrderSummary;
  after: OrderSummary;
}

const SUMMARY_COLUMNS: ReadonlyArray<[keyof OrderSummary, string]> = [
  ['status', 'status'],
  ['cancellationReason', 'cancellation_reason'],
  ['cancelledAt', 'cancelled_at'],
  ['paymentStatus', 'payment_status'],
  ['paymentId', 'payment_id'],
  ['shipmentId', 'shipment_id'],
  ['shippedAt', 'shipped_at'],
  ['deliveredAt', 'delivered_at'],
];

function summaryOf(row: Record<string, unknown>, prefix: string): OrderSummary {
  return Object.fromEntries(
    SUMMARY_COLUMNS.map(([key, column]) => [key, row[`${prefix}${column}`] ?? null]),
  ) as unknown as OrderSummary;
}

/** What an operator's soft delete of an order did. */
export type SoftDeleteOutcome =
  | { outcome: 'deleted'; deletedAt: Date }
  /** No such order, or already soft-deleted. */
  | { outcome: 'not_found' }
  /** Not at rest: the order is not cancelled or delivered, or its saga still has work. */
  | { outcome: 'not_final'; status: OrderStatus; sagaState: SagaState };

/** Where an order may be soft-deleted: its status and its saga's state, both at rest. */
const FINAL_STATES: readonly string[] = ['cancelled', 'delivered'];

/** The order's columns the saga may change, and how each is written. */
function patchAssignments(patch: OrderPatch): { sql: string[]; values: unknown[] } {
  const sql: string[] = [];
  const values: unknown[] = [];
  const set = (column: string, value: unknown) => {
    values.push(value);
    sql.push(`${column} = $${values.length + 1}`);
  };
  if (patch.status !== undefined) set('status', patch.status);
  if (patch.cancellationReason !== undefined) set('cancellation_reason', patch.cancellationReason);
  if (patch.cancelledAt !== undefined) set('cancelled_at', patch.cancelledAt);
  if (patch.paymentStatus !== undefined) set('payment_status', patch.paymentStatus);
  if (patch.paymentAttempts !== undefined) set('payment_attempts', patch.paymentAttempts);
  if (patch.paymentId !== undefined) set('payment_id', patch.paymentId);
  if (patch.paymentMethodId !== undefined) set('payment_method_id', patch.paymentMethodId);
  if (patch.shipment !== undefined) {
    set('shipment_id', patch.shipment.id);
    set('shipment_carrier', patch.shipment.carrier);
    set('shipment_tracking_number', patch.shipment.trackingNumber);
    set('shipment_estimated_delivery', patch.shipment.estimatedDelivery);
  }
  if (patch.shippedAt !== undefined) set('shipped_at', patch.shippedAt);
  if (patch.deliveredAt !== undefined) set('delivered_at', patch.deliveredAt);
  return { sql, values };
}

export function createOrdersRepository(manager: EntityManager) {
  return {
    async nextOrderNumberValue(): Promise<string> {
      const rows = (await manager.query(`SELECT nextval('order_number_seq')::text AS value`)) as {
        value: string;
      }[];
      return rows[0]!.value;
    },

    async insert(order: Partial<Order>, items: Partial<OrderItem>[]): Promise<Order> {
      const result = await manager.getRepository(Order).insert(order);
      const id = (result.identifiers[0] as { id: string }).id;
      await manager
        .getRepository(OrderItem)
        .insert(items.map((item) => ({ ...item, orderId: id })));
      return manager.getRepository(Order).findOneByOrFail({ id });
    },

    /**
     * Only the columns the event changed, plus updated_at; nothing when nothing changed. By id
     * alone, soft-deleted or not: the saga of an erased order still finishes what it owes
     * (a late charge refunded), and such an order's status never moves again. A patch that
     * sets the status returns the order's summary before and after it, for the audit row.
     */
    async applyPatch(orderId: string, patch: OrderPatch): Promise<OrderStatusChange | null> {
      const { sql, values } = patchAssignments(patch);
      if (sql.length === 0) return null;
      if (patch.status === undefined) {
        await manager.query(
          `UPDATE orders SET ${sql.join(', ')}, updated_at = now() WHERE id = $1`,
          [orderId, ...values],
        );
        return null;
      }
      // A status change is audited: the same statement also returns the summary as it was
      // (the statement's snapshot) and as it is now. Every writer of an order holds its saga's
      // row first (the runtime's version-checked update, soft delete), so nothing can change
      // the order between that snapshot and this update.
      const returned = SUMMARY_COLUMNS.flatMap(([, column]) => [
        `previous.${column} AS before_${column}`,
        `o.${column} AS after_${column}`,
      ]);
      const rows = (await manager.query(
        `UPDATE orders o SET ${sql.join(', ')}, updated_at = now()
           FROM (SELECT id, ${SUMMARY_COLUMNS.map(([, column]) => column).join(', ')}
                   FROM orders WHERE id = $1) previous
          WHERE o.id = previous.id
          RETURNING ${returned.join(', ')}`,
        [orderId, ...values],
      )) as unknown;
      const row = (
        Array.isArray(rows) && rows.length === 2 && Array.isArray(rows[0]) ? rows[0] : rows
      ) as Record<string, unknown>[];
      if (!row[0]) return null;
      return { before: summaryOf(row[0], 'before_'), after: summaryOf(row[0], 'after_') };
    },

    async appendTimeline(orderId: string, at: Date, entries: TimelineEntry[]): Promise<void> {
      if (entries.length === 0) return;
      await manager.query(
        `INSERT INTO saga_steps (order_id, at, step, outcome, detail)
         SELECT $1, $2, step, outcome, detail
           FROM unnest($3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS t(step, outcome, detail, n)
          ORDER BY n`,
        [
          orderId,
          at,
          entries.map((entry) => entry.step),
          entries.map((entry) => entry.outcome),
          entries.map((entry) => entry.detail),
        ],
      );
    },

    // The finds and query builders below leave soft-deleted orders out on their own
    // (Order.deletedAt is a @DeleteDateColumn); raw SQL says `deleted_at IS NULL` itself.

    findById(id: string): Promise<Order | null> {
      return manager.getRepository(Order).findOneBy({ id });
    },

    findByNumber(orderNumber: string): Promise<Order | null> {
      return manager.getRepository(Order).findOneBy({ orderNumber });
    },

    /**
     * Soft-deletes an order for an erasure request: an operator's act, no route does it. Only
     * an order at rest may go: cancelled or delivered (a CHECK refuses anything else too) with
     * its saga resting in the same state, so no compensation is under way (a late charge of a
     * cancelled order puts its saga back to compensating until the refund is through). Its
     * lines, saga and timeline stay as they are. Runs in the caller's transaction: the saga
     * row is locked first, as the saga itself does, so it cannot move between the check and
     * the write.
     */
    async softDelete(orderId: string): Promise<SoftDeleteOutcome> {
      const sagas = (await manager.query(
        'SELECT state FROM order_sagas WHERE order_id = $1 FOR UPDATE',
        [orderId],
      )) as { state: SagaState }[];
      const orders = (await manager.query(
        'SELECT status FROM orders WHERE id = $1 AND deleted_at IS NULL FOR UPDATE',
        [orderId],
      )) as { status: OrderStatus }[];
      const sagaState = sagas[0]?.state;
      const status = orders[0]?.status;
      if (!sagaState || !status) return { outcome: 'not_found' };
      if (!FINAL_STATES.includes(status) || sagaState !== status) {
        return { outcome: 'not_final', status, sagaState };
      }
      const [updated] = returnedRows<{ deleted_at: Date }>(
        await manager.query(
          `UPDATE orders SET deleted_at = now(), updated_at = now()
            WHERE id = $1 AND deleted_at IS NULL RETURNING deleted_at`,
          [orderId],
        ),
      );
      return { outcome: 'deleted', deletedAt: updated!.deleted_at };
    },

    itemsOf(orderIds: string[]): Promise<OrderItem[]> {
      if (orderIds.length === 0) return Promise.resolve([]);
      return manager
        .getRepository(OrderItem)
        .createQueryBuilder('item')
        .where('item.order_id IN (:...orderIds)', { orderIds })
        .orderBy('item.position', 'ASC')
        .getMany();
    },

    /**
     * A page newest first by (created_at, id). `cursorAt` is created_at with its microseconds,
     * which a JS Date would lose, so a cursor never skips rows sharing a millisecond.
     */
    async list(filter: OrderListFilter): Promise<{ ids: string[]; cursors: string[] }> {
      const where: string[] = ['deleted_at IS NULL'];
      const values: unknown[] = [];
      const add = (clause: (placeholder: string) => string, value: unknown) => {
        values.push(value);
        where.push(clause(`$${values.length}`));
      };
      if (filter.customerId) add((p) => `customer_id = ${p}`, filter.customerId);
      if (filter.status) add((p) => `status = ${p}`, filter.status);
      if (filter.after) {
        values.push(filter.after.createdAt, filter.after.id);
        where.push(
          `(created_at, id) < ($${values.length - 1}::timestamptz, $${values.length}::uuid)`,
        );
      }
      values.push(filter.limit);
      const rows = (await manager.query(
        `SELECT id, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_at
           FROM orders
          WHERE ${where.join(' AND ')}
          ORDER BY created_at DESC, id DESC
          LIMIT $${values.length}`,
        values,
      )) as { id: string; cursor_at: string }[];
      return { ids: rows.map((row) => row.id), cursors: rows.map((row) => row.cursor_at) };
    },

    async findManyById(ids: string[]): Promise<Order[]> {
      if (ids.length === 0) return [];
      const rows = await manager
        .getRepository(Order)
        .createQueryBuilder('o')
        .where('o.id IN (:...ids)', { ids })
        .getMany();
      const byId = new Map(rows.map((row) => [row.id, row]));
      return ids.map((id) => byId.get(id)).filter((row): row is Order => row !== undefined);
    },

    async timeline(orderId: string): Promise<TimelineRow[]> {
      return (await manager.query(
        `SELECT at, step, outcome, detail FROM saga_steps WHERE order_id = $1 ORDER BY seq`,
        [orderId],
      )) as TimelineRow[];
    },
  };
}

export type OrdersRepository = ReturnType<typeof createOrdersRepository>;
