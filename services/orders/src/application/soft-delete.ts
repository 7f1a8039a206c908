import { recordAudit, withTransaction } from '@shop/service-kit';
import type { DataSource } from 'typeorm';
import { createOrdersRepository, type SoftDeleteOutcome } from '../db/repositories/orders.js';

/**
 * An operator's soft delete of an order, for an erasure request (there is no route: financial
 * records are kept, and API.md deletes no order). Only a cancelled or delivered order whose
 * saga is at rest goes (`OrdersRepository.softDelete`); it then reads as 404 and leaves every
 * list. Its payments live in the payments service: erase them there too
 * (`softDeletePaymentsOfOrder`). Audited in the same transaction, as a `delete` by the operator.
 */
export async function softDeleteOrder(
  dataSource: DataSource,
  orderId: string,
  operator: { userId: string },
): Promise<SoftDeleteOutcome> {
  return withTransaction(dataSource, async (manager) => {
    const result = await createOrdersRepository(manager).softDelete(orderId);
    if (result.outcome === 'deleted') {
      await recordAudit(manager, {
        entityType: 'order',
        entityId: orderId,
        action: 'delete',
        userId: operator.userId,
        // Nothing of the order itself: an erasure must not copy its personal data (the
        // shipping address) into the append-only log. The row's created_at says when.
        before: { deletedAt: null },
      });
    }
    return result;
  });
}
