import Type from 'typebox';
import {
  AddressType,
  Page,
  PageQueryProperties,
  ProblemDetails,
  StrictObject,
  Timestamp,
  UserRole,
  Uuid,
} from '@shop/contracts';

/**
 * The HTTP shapes of the users service (API.md, users section). Request bodies are strict:
 * unknown fields (a `role` on register) and wrong types are 400 before any handler runs.
 * Responses list their fields, so nothing else (a hash, a token) can be serialized.
 */

// Ajv's email format plus the design's rule that the domain has a dot (the database CHECKs it).
export const EmailAddress = Type.String({
  format: 'email',
  pattern: '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$',
  maxLength: 254,
});
const Name = Type.String({ minLength: 1, maxLength: 100 });
const Phone = Type.String({ minLength: 1, maxLength: 20 });

export const RegisterBody = StrictObject({
  email: EmailAddress,
  password: Type.String({ minLength: 8, maxLength: 128 }),
  firstName: Name,
  lastName: Name,
  phone: Type.Optional(Phone),
});

// Loose on purpose: a malformed email cannot belong to an account and simply fails like any
// other wrong credential. The password cap keeps hashing a hostile megabyte off the table.
export const LoginBody = StrictObject({
  email: Type.String({ minLength: 1, maxLength: 254 }),
  password: Type.String({ minLength: 1, maxLength: 128 }),
});

export const TokenResponse = Type.Object({
  accessToken: Type.String(),
  tokenType: Type.Literal('Bearer'),
  expiresIn: Type.Integer({ description: 'seconds until the token expires' }),
});

export const UserView = Type.Object({
  id: Uuid,
  email: Type.String(),
  firstName: Type.String(),
  lastName: Type.String(),
  phone: Type.Union([Type.String(), Type.Null()]),
  role: UserRole,
  emailVerified: Type.Boolean(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

export const UpdateMeBody = StrictObject(
  {
    firstName: Type.Optional(Name),
    lastName: Type.Optional(Name),
    // null clears the phone number.
    phone: Type.Optional(Type.Union([Phone, Type.Null()])),
  },
  { minProperties: 1 },
);

export const RoleBody = StrictObject({ role: UserRole });

export const ListUsersQuery = StrictObject({
  ...PageQueryProperties,
  role: Type.Optional(UserRole),
  email: Type.Optional(
    Type.String({ minLength: 1, maxLength: 254, description: 'exact match, any case' }),
  ),
});

export const UserPage = Page(UserView);

export const IdParams = Type.Object({ id: Uuid });

export const AddressBody = StrictObject({
  type: AddressType,
  line1: Type.String({ minLength: 1, maxLength: 255 }),
  // An empty second line is stored as none.
  line2: Type.Optional(Type.Union([Type.String({ maxLength: 255 }), Type.Null()])),
  city: Type.String({ minLength: 1, maxLength: 100 }),
  state: Type.String({ minLength: 1, maxLength: 50 }),
  country: Type.String({ minLength: 1, maxLength: 100 }),
  postalCode: Type.String({ minLength: 1, maxLength: 20 }),
  isDefault: Type.Optional(Type.Boolean()),
});

export const AddressView = Type.Object({
  id: Uuid,
  type: AddressType,
  line1: Type.String(),
  line2: Type.Union([Type.String(), Type.Null()]),
  city: Type.String(),
  state: Type.String(),
  country: Type.String(),
  postalCode: Type.String(),
  isDefault: Type.Boolean(),
  createdAt: Timestamp,
});

export const PaymentMethodBody = StrictObject({
  // The provider's token (`pm_card_visa`): letters first, so a bare card number never fits.
  providerPaymentMethodId: Type.String({
    minLength: 1,
    maxLength: 255,
    pattern: '^[A-Za-z][A-Za-z0-9_-]*$',
  }),
  cardBrand: Type.String({ minLength: 1, maxLength: 50 }),
  cardLast4: Type.String({ pattern: '^[0-9]{4}$' }),
  expMonth: Type.Integer({ minimum: 1, maximum: 12 }),
  expYear: Type.Integer({ minimum: 2000, maximum: 9999 }),
  isDefault: Type.Optional(Type.Boolean()),
});

export const PaymentMethodView = Type.Object({
  id: Uuid,
  cardBrand: Type.String(),
  cardLast4: Type.String(),
  expMonth: Type.Integer(),
  expYear: Type.Integer(),
  isDefault: Type.Boolean(),
});

export const InternalAddressParams = Type.Object({ userId: Uuid, addressId: Uuid });
export const InternalAddress = Type.Object({
  id: Uuid,
  userId: Uuid,
  type: AddressType,
  line1: Type.String(),
  line2: Type.Union([Type.String(), Type.Null()]),
  city: Type.String(),
  state: Type.String(),
  country: Type.String(),
  postalCode: Type.String(),
  isDefault: Type.Boolean(),
});

export const InternalPaymentMethodParams = Type.Object({ userId: Uuid, paymentMethodId: Uuid });
export const InternalPaymentMethod = Type.Object({
  id: Uuid,
  userId: Uuid,
  providerPaymentMethodId: Type.String(),
  cardBrand: Type.String(),
  cardLast4: Type.String(),
  expMonth: Type.Integer(),
  expYear: Type.Integer(),
  isDefault: Type.Boolean(),
});

/** A 204: nothing in the body. */
export const NoContent = Type.Null({ description: 'No content' });

/** Response schemas of the error statuses a route can answer, for the OpenAPI document. */
export function problems(...statuses: number[]): Record<number, typeof ProblemDetails> {
  return Object.fromEntries(statuses.map((status) => [status, ProblemDetails]));
}
