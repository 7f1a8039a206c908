import { recordAudit } from '@shop/service-kit';
import type { DataSource } from 'typeorm';
import { paymentsRepository, type PaymentsSoftDeleteOutcome } from '../db/repositories/payments.js';

/**
 * An operator's soft delete of an order's payments, for an erasure request, once the order
 * was soft-deleted in orders (`softDeleteOrder`). There is no route: financial records are
 * kept, and API.md deletes no payment. Refused while money is still in motion for the order
 * (`PaymentsRepository.softDeleteForOrder`). Each payment is audited in the same transaction,
 * as a `delete` by the operator.
 */
export async function softDeletePaymentsOfOrder(
  dataSource: DataSource,
  orderId: string,
  operator: { userId: string },
): Promise<PaymentsSoftDeleteOutcome> {
  return dataSource.transaction(async (manager) => {
    const result = await paymentsRepository(manager).softDeleteForOrder(orderId);
    if (result.outcome === 'deleted') {
      for (const id of result.ids) {
        await recordAudit(manager, {
          entityType: 'payment',
          entityId: id,
          action: 'delete',
          userId: operator.userId,
          // Nothing of the payment itself: an erasure must not copy it into the append-only
          // log. The row's created_at says when.
          before: { deletedAt: null },
        });
      }
    }
    return result;
  });
}
