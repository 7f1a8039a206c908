import type { UserAddress } from '../db/entities/address.entity.js';
import type { UserPaymentMethod } from '../db/entities/payment-method.entity.js';
import type { User } from '../db/entities/user.entity.js';

/**
 * What leaves the service about each record, built field by field so a column added later
 * (a hash, a token) is never shown by accident. Audit rows store these views too, so an audit
 * row never holds a password hash or a provider token either.
 */

export function userView(user: User) {
  return {
    id: user.id,
    email: user.email,
    firstName: user.firstName,
    lastName: user.lastName,
    phone: user.phone,
    role: user.role,
    emailVerified: user.emailVerified,
    createdAt: user.createdAt.toISOString(),
    updatedAt: user.updatedAt.toISOString(),
  };
}
export type UserView = ReturnType<typeof userView>;

export function addressView(address: UserAddress) {
  return {
    id: address.id,
    type: address.type,
    line1: address.line1,
    line2: address.line2,
    city: address.city,
    state: address.state,
    country: address.country,
    postalCode: address.postalCode,
    isDefault: address.isDefault,
    createdAt: address.createdAt.toISOString(),
  };
}
export type AddressView = ReturnType<typeof addressView>;

/** The customer's view of a card: display fields only, never the provider's token. */
export function paymentMethodView(method: UserPaymentMethod) {
  return {
    id: method.id,
    cardBrand: method.cardBrand,
    cardLast4: method.cardLast4,
    expMonth: method.expMonth,
    expYear: method.expYear,
    isDefault: method.isDefault,
  };
}
export type PaymentMethodView = ReturnType<typeof paymentMethodView>;
