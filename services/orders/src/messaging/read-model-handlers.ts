import {
  AddressAdded,
  AddressRemoved,
  PaymentMethodAdded,
  PaymentMethodRemoved,
  ProductCreated,
  ProductDeactivated,
  ProductUpdated,
} from '@shop/contracts';
import { defineHandler } from '@shop/service-kit';
import { createReadModelsRepository } from '../db/repositories/read-models.js';

// Keeping the read models orders decides with: prices and active flags from inventory,
// addresses and payment methods from users. Each write is an idempotent upsert that never
// lets an older event undo a newer one.

export const productHandlers = [
  defineHandler(ProductCreated, async (data, { manager }) =>
    createReadModelsRepository(manager).upsertProduct({ ...data }),
  ),
  defineHandler(ProductUpdated, async (data, { manager }) =>
    createReadModelsRepository(manager).upsertProduct({ ...data }),
  ),
  defineHandler(ProductDeactivated, async (data, { manager }) =>
    createReadModelsRepository(manager).deactivateProduct(
      data.productId,
      data.sku,
      data.deactivatedAt,
    ),
  ),
];

export const userHandlers = [
  defineHandler(AddressAdded, async (data, { manager }) =>
    createReadModelsRepository(manager).upsertAddress(data.addressId, data.userId, {
      addressId: data.addressId,
      line1: data.line1,
      ...(data.line2 ? { line2: data.line2 } : {}),
      city: data.city,
      state: data.state,
      country: data.country,
      postalCode: data.postalCode,
    }),
  ),
  defineHandler(AddressRemoved, async (data, { manager }) =>
    createReadModelsRepository(manager).removeAddress(data.addressId, data.userId, data.removedAt),
  ),
  defineHandler(PaymentMethodAdded, async (data, { manager }) =>
    createReadModelsRepository(manager).upsertPaymentMethod(
      data.paymentMethodId,
      data.userId,
      data.providerPaymentMethodId,
    ),
  ),
  defineHandler(PaymentMethodRemoved, async (data, { manager }) =>
    createReadModelsRepository(manager).removePaymentMethod(
      data.paymentMethodId,
      data.userId,
      data.removedAt,
    ),
  ),
];
