import { PaymentMethodAdded, PaymentMethodRemoved } from '@shop/contracts';
import { ConflictError, NotFoundError, enqueueMessage, recordAudit } from '@shop/service-kit';
import type { EntityManager } from 'typeorm';
import type { UserPaymentMethod } from '../db/entities/payment-method.entity.js';
import { isUniqueViolation } from '../db/errors.js';
import {
  PROVIDER_ID_UNIQUE_INDEX,
  createPaymentMethodsRepository,
  type NewPaymentMethod,
} from '../db/repositories/payment-methods.js';
import { paymentMethodView } from '../domain/views.js';
import { auditActor, type Actor } from './actor.js';
import { lockActiveUser } from './users.js';

function alreadySaved(): ConflictError {
  return new ConflictError('payment_method_exists', 'This payment method is already saved.');
}

/**
 * Saves a tokenized card (checked for card numbers and expiry by the caller); a new default
 * replaces the previous one. The audit row holds the display fields, never the token.
 */
export async function addPaymentMethod(
  manager: EntityManager,
  fields: NewPaymentMethod,
  actor: Actor,
): Promise<UserPaymentMethod> {
  await lockActiveUser(manager, fields.userId);
  const methods = createPaymentMethodsRepository(manager);
  // Checked first for a clean 409; the unique index still decides if the check is ever raced.
  if (await methods.findByProviderId(fields.userId, fields.providerPaymentMethodId))
    throw alreadySaved();
  if (fields.isDefault) {
    const previous = await methods.findDefault(fields.userId);
    if (previous) {
      await methods.unsetDefault(previous.id);
      await recordAudit(manager, {
        entityType: 'payment_method',
        entityId: previous.id,
        action: 'update',
        before: { isDefault: true },
        after: { isDefault: false },
        ...auditActor(actor),
      });
    }
  }
  let method: UserPaymentMethod;
  try {
    method = await methods.insert(fields);
  } catch (error) {
    if (isUniqueViolation(error, PROVIDER_ID_UNIQUE_INDEX)) throw alreadySaved();
    throw error;
  }
  await recordAudit(manager, {
    entityType: 'payment_method',
    entityId: method.id,
    action: 'create',
    after: { userId: method.userId, ...paymentMethodView(method) },
    ...auditActor(actor),
  });
  await enqueueMessage(manager, PaymentMethodAdded, {
    paymentMethodId: method.id,
    userId: method.userId,
    providerPaymentMethodId: method.providerPaymentMethodId,
    cardBrand: method.cardBrand,
    cardLast4: method.cardLast4,
    expMonth: method.expMonth,
    expYear: method.expYear,
    isDefault: method.isDefault,
    addedAt: method.createdAt.toISOString(),
  });
  return method;
}

/** Soft-deletes one of the user's payment methods; someone else's is "not found". */
export async function removePaymentMethod(
  manager: EntityManager,
  userId: string,
  paymentMethodId: string,
  actor: Actor,
): Promise<void> {
  await lockActiveUser(manager, userId);
  const methods = createPaymentMethodsRepository(manager);
  const method = await methods.findOwned(userId, paymentMethodId);
  if (!method) throw new NotFoundError('No such payment method.');
  const removedAt = await methods.softDelete(method.id);
  if (!removedAt) throw new NotFoundError('No such payment method.');
  await recordAudit(manager, {
    entityType: 'payment_method',
    entityId: method.id,
    action: 'delete',
    before: { userId: method.userId, ...paymentMethodView(method) },
    ...auditActor(actor),
  });
  await enqueueMessage(manager, PaymentMethodRemoved, {
    paymentMethodId: method.id,
    userId,
    removedAt: removedAt.toISOString(),
  });
}
