import { AddressAdded, AddressRemoved } from '@shop/contracts';
import { NotFoundError, enqueueMessage, recordAudit } from '@shop/service-kit';
import type { EntityManager } from 'typeorm';
import type { UserAddress } from '../db/entities/address.entity.js';
import { createAddressesRepository, type NewAddress } from '../db/repositories/addresses.js';
import { addressView } from '../domain/views.js';
import { auditActor, type Actor } from './actor.js';
import { lockActiveUser } from './users.js';

/** Adds an address; a new default replaces the previous default of the same type. */
export async function addAddress(
  manager: EntityManager,
  fields: NewAddress,
  actor: Actor,
): Promise<UserAddress> {
  // The owner's row lock makes "unset the old default, insert the new one" atomic per user.
  await lockActiveUser(manager, fields.userId);
  const addresses = createAddressesRepository(manager);
  if (fields.isDefault) {
    const previous = await addresses.findDefault(fields.userId, fields.type);
    if (previous) {
      await addresses.unsetDefault(previous.id);
      await recordAudit(manager, {
        entityType: 'address',
        entityId: previous.id,
        action: 'update',
        before: { isDefault: true },
        after: { isDefault: false },
        ...auditActor(actor),
      });
    }
  }
  const address = await addresses.insert(fields);
  await recordAudit(manager, {
    entityType: 'address',
    entityId: address.id,
    action: 'create',
    after: { userId: address.userId, ...addressView(address) },
    ...auditActor(actor),
  });
  await enqueueMessage(manager, AddressAdded, {
    addressId: address.id,
    userId: address.userId,
    type: address.type,
    line1: address.line1,
    ...(address.line2 === null ? {} : { line2: address.line2 }),
    city: address.city,
    state: address.state,
    country: address.country,
    postalCode: address.postalCode,
    isDefault: address.isDefault,
    addedAt: address.createdAt.toISOString(),
  });
  return address;
}

/** Soft-deletes one of the user's addresses; someone else's is "not found". */
export async function removeAddress(
  manager: EntityManager,
  userId: string,
  addressId: string,
  actor: Actor,
): Promise<void> {
  await lockActiveUser(manager, userId);
  const addresses = createAddressesRepository(manager);
  const address = await addresses.findOwned(userId, addressId);
  if (!address) throw new NotFoundError('No such address.');
  const removedAt = await addresses.softDelete(address.id);
  if (!removedAt) throw new NotFoundError('No such address.');
  await recordAudit(manager, {
    entityType: 'address',
    entityId: address.id,
    action: 'delete',
    before: { userId: address.userId, ...addressView(address) },
    ...auditActor(actor),
  });
  await enqueueMessage(manager, AddressRemoved, {
    addressId: address.id,
    userId,
    removedAt: removedAt.toISOString(),
  });
}
