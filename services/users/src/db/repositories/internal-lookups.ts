import type { EntityManager } from 'typeorm';
import type { AddressType } from '../entities/address.entity.js';

/**
 * What other services ask when their read models miss: does this address or payment method
 * belong to this (active) user? One indexed query each, only the columns they answer with.
 */

export interface OwnedAddress {
  id: string;
  userId: string;
  type: AddressType;
  line1: string;
  line2: string | null;
  city: string;
  state: string;
  country: string;
  postalCode: string;
  isDefault: boolean;
}

export interface OwnedPaymentMethod {
  id: string;
  userId: string;
  providerPaymentMethodId: string;
  cardBrand: string;
  cardLast4: string;
  expMonth: number;
  expYear: number;
  isDefault: boolean;
}

export function createInternalLookups(manager: EntityManager) {
  return {
    async address(userId: string, addressId: string): Promise<OwnedAddress | null> {
      const rows = (await manager.query(
        `SELECT a.id, a.user_id AS "userId", a.type, a.line1, a.line2, a.city, a.state,
                a.country, a.postal_code AS "postalCode", a.is_default AS "isDefault"
         FROM user_addresses a JOIN users u ON u.id = a.user_id AND u.deleted_at IS NULL
         WHERE a.id = $1 AND a.user_id = $2 AND a.deleted_at IS NULL`,
        [addressId, userId],
      )) as OwnedAddress[];
      return rows[0] ?? null;
    },

    async paymentMethod(
      userId: string,
      paymentMethodId: string,
    ): Promise<OwnedPaymentMethod | null> {
      const rows = (await manager.query(
        `SELECT m.id, m.user_id AS "userId",
                m.provider_payment_method_id AS "providerPaymentMethodId",
                m.card_brand AS "cardBrand", m.card_last4 AS "cardLast4",
                m.exp_month AS "expMonth", m.exp_year AS "expYear", m.is_default AS "isDefault"
         FROM user_payment_methods m JOIN users u ON u.id = m.user_id AND u.deleted_at IS NULL
         WHERE m.id = $1 AND m.user_id = $2 AND m.deleted_at IS NULL`,
        [paymentMethodId, userId],
      )) as OwnedPaymentMethod[];
      return rows[0] ?? null;
    },
  };
}
