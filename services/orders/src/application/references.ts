import { ServiceUnavailableError, UpstreamHttpError, type ServiceClient } from '@shop/service-kit';
import type { EntityManager } from 'typeorm';
import { createReadModelsRepository, type KnownProduct } from '../db/repositories/read-models.js';
import type { AddressSnapshot } from '../domain/saga/types.js';

/**
 * Other services' data an order is checked against. The read models answer first; they lag
 * their events by a moment, so on a miss the owner's internal route is asked (through its
 * breaker, with the service credential) before anything is refused: a customer who has just
 * added a card can order at once. A removal the read model knows of is final.
 */
export interface References {
  products(manager: EntityManager, ids: string[]): Promise<Map<string, KnownProduct>>;
  /** The address snapshot if it is the customer's and not deleted; null otherwise. */
  address(
    manager: EntityManager,
    customerId: string,
    addressId: string,
  ): Promise<AddressSnapshot | null>;
  /** The provider's token if the method is the customer's and not deleted; null otherwise. */
  paymentMethod(
    manager: EntityManager,
    customerId: string,
    paymentMethodId: string,
  ): Promise<string | null>;
}

interface InternalAddress {
  id: string;
  userId: string;
  line1: string;
  line2: string | null;
  city: string;
  state: string;
  country: string;
  postalCode: string;
}

interface InternalPaymentMethod {
  id: string;
  userId: string;
  providerPaymentMethodId: string;
}

interface InternalProducts {
  items: { id: string; sku: string; price: number; isActive: boolean }[];
}

/** null for "the owner says there is no such thing"; other failures mean the owner is down. */
async function orNullWhenMissing<T>(call: () => Promise<T>): Promise<T | null> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof UpstreamHttpError && error.status === 404) return null;
    if (error instanceof UpstreamHttpError) {
      // 401/400 from an internal route is our misconfiguration, not the customer's fault.
      throw new ServiceUnavailableError('A dependency refused the lookup.', { cause: error });
    }
    throw error;
  }
}

export function createReferences(clients: {
  users: ServiceClient;
  inventory: ServiceClient;
}): References {
  return {
    async products(manager, ids) {
      const known = await createReadModelsRepository(manager).products(ids);
      const missing = ids.filter((id) => !known.has(id));
      if (missing.length === 0) return known;
      const answer = await clients.inventory.post<InternalProducts>(
        '/internal/v1/products/lookup',
        {
          ids: missing,
        },
      );
      for (const item of answer.items) {
        if (!missing.includes(item.id)) continue;
        known.set(item.id, {
          productId: item.id,
          sku: item.sku,
          price: item.price,
          isActive: item.isActive,
        });
      }
      return known;
    },

    async address(manager, customerId, addressId) {
      const local = await createReadModelsRepository(manager).address(addressId);
      if (local.found) return local.value.userId === customerId ? local.value.snapshot : null;
      if (local.removed) return null;
      const remote = await orNullWhenMissing(() =>
        clients.users.get<InternalAddress>(
          `/internal/v1/users/${customerId}/addresses/${addressId}`,
        ),
      );
      if (!remote || remote.userId !== customerId || remote.id !== addressId) return null;
      return {
        addressId: remote.id,
        line1: remote.line1,
        ...(remote.line2 ? { line2: remote.line2 } : {}),
        city: remote.city,
        state: remote.state,
        country: remote.country,
        postalCode: remote.postalCode,
      };
    },

    async paymentMethod(manager, customerId, paymentMethodId) {
      const local = await createReadModelsRepository(manager).paymentMethod(paymentMethodId);
      if (local.found) {
        return local.value.userId === customerId ? local.value.providerPaymentMethodId : null;
      }
      if (local.removed) return null;
      const remote = await orNullWhenMissing(() =>
        clients.users.get<InternalPaymentMethod>(
          `/internal/v1/users/${customerId}/payment-methods/${paymentMethodId}`,
        ),
      );
      if (!remote || remote.userId !== customerId || remote.id !== paymentMethodId) return null;
      return remote.providerPaymentMethodId;
    },
  };
}
