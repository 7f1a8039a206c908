import { returnedRows } from '@shop/service-kit';
import type { EntityManager } from 'typeorm';
import { UserAddress, type AddressType } from '../entities/address.entity.js';

export type NewAddress = Pick<
  UserAddress,
  'userId' | 'type' | 'line1' | 'line2' | 'city' | 'state' | 'country' | 'postalCode' | 'isDefault'
>;

/** Addresses of the transaction in progress; removed ones are invisible here. */
export function createAddressesRepository(manager: EntityManager) {
  const repository = manager.getRepository(UserAddress);

  return {
    async insert(fields: NewAddress): Promise<UserAddress> {
      return repository.save(repository.create(fields));
    },

    async listActive(userId: string): Promise<UserAddress[]> {
      return repository.find({ where: { userId }, order: { createdAt: 'DESC', id: 'DESC' } });
    },

    /** Null when unknown, removed, or someone else's: the caller cannot tell which. */
    async findOwned(userId: string, id: string): Promise<UserAddress | null> {
      return repository.findOne({ where: { id, userId } });
    },

    async findDefault(userId: string, type: AddressType): Promise<UserAddress | null> {
      return repository.findOne({ where: { userId, type, isDefault: true } });
    },

    async unsetDefault(id: string): Promise<void> {
      await repository.update({ id }, { isDefault: false });
    },

    async softDelete(id: string): Promise<Date | null> {
      const [row] = returnedRows<{ deleted_at: Date }>(
        await manager.query(
          `UPDATE user_addresses SET deleted_at = now(), updated_at = now()
           WHERE id = $1 AND deleted_at IS NULL RETURNING deleted_at`,
          [id],
        ),
      );
      return row?.deleted_at ?? null;
    },
  };
}
