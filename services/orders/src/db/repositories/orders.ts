import type { EntityManager } from 'typeorm';
import type { OrderPatch, TimelineEntry } from '../../domain/saga/types.js';
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

    /** Only the columns the event changed, plus updated_at; nothing when nothing changed. */
    async applyPatch(orderId: string, patch: OrderPatch): Promise<void> {
      const { sql, values } = patchAssignments(patch);
      if (sql.length === 0) return;
      await manager.query(`UPDATE orders SET ${sql.join(', ')}, updated_at = now() WHERE id = $1`, [
        orderId,
        ...values,
      ]);
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

    findById(id: string): Promise<Order | null> {
      return manager.getRepository(Order).findOneBy({ id });
    },

    findByNumber(orderNumber: string): Promise<Order | null> {
      return manager.getRepository(Order).findOneBy({ orderNumber });
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
      const where: string[] = [];
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
          ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
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
