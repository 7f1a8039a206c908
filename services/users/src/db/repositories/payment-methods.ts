import { returnedRows } from '@shop/service-kit';
import type { EntityManager } from 'typeorm';
import { UserPaymentMethod } from '../entities/payment-method.entity.js';

export type NewPaymentMethod = Pick<
  UserPaymentMethod,
  | 'userId'
  | 'providerPaymentMethodId'
  | 'cardBrand'
  | 'cardLast4'
  | 'expMonth'
  | 'expYear'
  | 'isDefault'
>;

/** The partial unique index behind "one token per user among active methods". */
export const PROVIDER_ID_UNIQUE_INDEX = 'user_payment_methods_provider_id_key';

/** Payment methods of the transaction in progress; removed ones are invisible here. */
export function createPaymentMethodsRepository(manager: EntityManager) {
  const repository = manager.getRepository(UserPaymentMethod);

  return {
    async insert(fields: NewPaymentMethod): Promise<UserPaymentMethod> {
      return repository.save(repository.create(fields));
    },

    async listActive(userId: string): Promise<UserPaymentMethod[]> {
      return repository.find({ where: { userId }, order: { createdAt: 'DESC', id: 'DESC' } });
    },

    /** Null when unknown, removed, or someone else's: the caller cannot tell which. */
    async findOwned(userId: string, id: string): Promise<UserPaymentMethod | null> {
      return repository.findOne({ where: { id, userId } });
    },

    async findByProviderId(
      userId: string,
      providerPaymentMethodId: string,
    ): Promise<UserPaymentMethod | null> {
      return repository.findOne({ where: { userId, providerPaymentMethodId } });
    },

    async findDefault(userId: string): Promise<UserPaymentMethod | null> {
      return repository.findOne({ where: { userId, isDefault: true } });
    },

    async unsetDefault(id: string): Promise<void> {
      await repository.update({ id }, { isDefault: false });
    },

    async softDelete(id: string): Promise<Date | null> {
      const [row] = returnedRows<{ deleted_at: Date }>(
        await manager.query(
          `UPDATE user_payment_methods SET deleted_at = now(), updated_at = now()
           WHERE id = $1 AND deleted_at IS NULL RETURNING deleted_at`,
          [id],
        ),
      );
      return row?.deleted_at ?? null;
    },
  };
}
