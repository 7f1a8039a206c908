import Type from 'typebox';
import { defineMessage, type MessageData } from '../message.js';
import { Email, Timestamp, Uuid } from '../primitives.js';
import { AddressType, PostalAddressProperties } from './shared.js';

// Facts about accounts, so orders can keep read models of addresses and payment methods and
// check ownership without calling users on every order.

export const UserRole = Type.Union([
  Type.Literal('admin'),
  Type.Literal('manager'),
  Type.Literal('employee'),
  Type.Literal('customer'),
]);

export const UserRegistered = defineMessage(
  'users.events.user.registered',
  1,
  Type.Object({
    userId: Uuid,
    email: Email,
    firstName: Type.String(),
    lastName: Type.String(),
    role: UserRole,
    registeredAt: Timestamp,
  }),
);
export type UserRegistered = MessageData<typeof UserRegistered>;

/** Soft-deleted: the account can no longer log in or order; its history stays. */
export const UserDeleted = defineMessage(
  'users.events.user.deleted',
  1,
  Type.Object({
    userId: Uuid,
    deletedAt: Timestamp,
  }),
);
export type UserDeleted = MessageData<typeof UserDeleted>;

/**
 * An account's role changed (an admin's act). Its access tokens issued before are refused from
 * then on; systems that mirror staff rights (a back office, an alerting rule on new admins)
 * follow this rather than polling.
 */
export const UserRoleChanged = defineMessage(
  'users.events.user.role-changed',
  1,
  Type.Object({
    userId: Uuid,
    previousRole: UserRole,
    role: UserRole,
    /** The admin who changed it; null when the system did (a bootstrap). */
    changedBy: Type.Union([Uuid, Type.Null()]),
    changedAt: Timestamp,
  }),
);
export type UserRoleChanged = MessageData<typeof UserRoleChanged>;

export const AddressAdded = defineMessage(
  'users.events.address.added',
  1,
  Type.Object({
    addressId: Uuid,
    userId: Uuid,
    type: AddressType,
    ...PostalAddressProperties,
    isDefault: Type.Boolean(),
    addedAt: Timestamp,
  }),
);
export type AddressAdded = MessageData<typeof AddressAdded>;

export const AddressRemoved = defineMessage(
  'users.events.address.removed',
  1,
  Type.Object({
    addressId: Uuid,
    userId: Uuid,
    removedAt: Timestamp,
  }),
);
export type AddressRemoved = MessageData<typeof AddressRemoved>;

/**
 * Carries the provider's token because the charge command needs it and orders builds that
 * command from its read model. Never a card number.
 */
export const PaymentMethodAdded = defineMessage(
  'users.events.payment-method.added',
  1,
  Type.Object({
    paymentMethodId: Uuid,
    userId: Uuid,
    providerPaymentMethodId: Type.String({ minLength: 1 }),
    cardBrand: Type.String(),
    cardLast4: Type.String({ pattern: '^[0-9]{4}$' }),
    expMonth: Type.Integer({ minimum: 1, maximum: 12 }),
    expYear: Type.Integer({ minimum: 2000, maximum: 9999 }),
    isDefault: Type.Boolean(),
    addedAt: Timestamp,
  }),
);
export type PaymentMethodAdded = MessageData<typeof PaymentMethodAdded>;

export const PaymentMethodRemoved = defineMessage(
  'users.events.payment-method.removed',
  1,
  Type.Object({
    paymentMethodId: Uuid,
    userId: Uuid,
    removedAt: Timestamp,
  }),
);
export type PaymentMethodRemoved = MessageData<typeof PaymentMethodRemoved>;
