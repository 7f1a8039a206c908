import { returnedRows } from '@shop/service-kit';
import type { EntityManager } from 'typeorm';
import { Shipment } from '../entities/shipment.entity.js';

export function shipmentsRepository(manager: EntityManager) {
  const repository = manager.getRepository(Shipment);
  return {
    findById: (id: string) => repository.findOneBy({ id }),

    insert: (values: Omit<Shipment, 'id' | 'createdAt' | 'updatedAt' | 'deliveredAt'>) =>
      repository.save(repository.create({ ...values, deliveredAt: null })),

    /**
     * Records delivery once: true when this call recorded it, false when it already was. The
     * condition in the statement makes two concurrent calls record (and announce) it once.
     */
    async markDelivered(id: string): Promise<boolean> {
      const rows = returnedRows<{ id: string }>(
        await manager.query(
          `UPDATE shipments SET delivered_at = greatest(now(), shipped_at), updated_at = now()
            WHERE id = $1 AND delivered_at IS NULL RETURNING id`,
          [id],
        ),
      );
      return rows.length > 0;
    },
  };
}
