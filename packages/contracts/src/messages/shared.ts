import Type from 'typebox';
import { Uuid } from '../primitives.js';

/**
 * Pieces several messages share. Message objects never set `additionalProperties: false`: a
 * producer may add an optional field and older consumers must still read the message.
 */

/** A quantity of one product, as the saga and the warehouse deal in (no prices). */
export const StockLine = Type.Object({
  productId: Uuid,
  quantity: Type.Integer({ minimum: 1 }),
});

/** The lines of an order, each product at most once. */
export const StockLines = Type.Array(StockLine, { minItems: 1 });

export const AddressType = Type.Union([
  Type.Literal('shipping'),
  Type.Literal('billing'),
  Type.Literal('return'),
]);

/** The postal fields of an address, as users stores them. */
export const PostalAddressProperties = {
  line1: Type.String({ minLength: 1 }),
  line2: Type.Optional(Type.String()),
  city: Type.String({ minLength: 1 }),
  state: Type.String(),
  country: Type.String({ minLength: 1 }),
  postalCode: Type.String(),
};

/**
 * An address copied into a command or an order, so the receiver never looks it up later (the
 * customer may have edited or deleted it since). `addressId` names where it came from.
 */
export const AddressSnapshot = Type.Object({
  addressId: Uuid,
  ...PostalAddressProperties,
  recipientName: Type.Optional(Type.String()),
  phone: Type.Optional(Type.String()),
});

export const Carrier = Type.Union([
  Type.Literal('usps'),
  Type.Literal('fedex'),
  Type.Literal('ups'),
]);
