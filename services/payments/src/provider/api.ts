import Type, { type Static } from 'typebox';

// The sandbox provider's wire format, shared by its server and the payments service's sandbox
// adapter so the two cannot drift. Shaped after Stripe's (ids with prefixes, `Idempotency-Key`
// header, an `error` object with `type` and `code`), but much smaller.

export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
/** Set on an answer replayed from an earlier request with the same key, as Stripe does. */
export const REPLAYED_HEADER = 'idempotent-replayed';

export const IdempotencyKey = Type.String({ minLength: 1, maxLength: 255 });

export const CreateChargeBody = Type.Object(
  {
    amount: Type.Integer({ minimum: 1, maximum: 99_999_999 }),
    currency: Type.String({ pattern: '^[A-Z]{3}$' }),
    paymentMethod: Type.String({ minLength: 1, maxLength: 255 }),
    description: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);
export type CreateChargeBody = Static<typeof CreateChargeBody>;

export const ChargeStatus = Type.Union([Type.Literal('succeeded'), Type.Literal('failed')]);

export const Charge = Type.Object({
  id: Type.String(),
  idempotencyKey: Type.String(),
  amount: Type.Integer(),
  currency: Type.String(),
  paymentMethod: Type.String(),
  status: ChargeStatus,
  /** `card_declined`, `insufficient_funds`, `processing_error` when failed. */
  failureCode: Type.Union([Type.String(), Type.Null()]),
  failureMessage: Type.Union([Type.String(), Type.Null()]),
  amountRefunded: Type.Integer(),
  created: Type.String(),
});
export type Charge = Static<typeof Charge>;

export const CreateRefundBody = Type.Object(
  {
    charge: Type.String({ minLength: 1, maxLength: 100 }),
    amount: Type.Optional(Type.Integer({ minimum: 1, maximum: 99_999_999 })),
  },
  { additionalProperties: false },
);
export type CreateRefundBody = Static<typeof CreateRefundBody>;

export const Refund = Type.Object({
  id: Type.String(),
  idempotencyKey: Type.String(),
  charge: Type.String(),
  amount: Type.Integer(),
  status: Type.Literal('succeeded'),
  created: Type.String(),
});
export type Refund = Static<typeof Refund>;

/**
 * `type`: `card_error` (a decline or the card's processing error: the charge exists, failed),
 * `api_error` (the provider failed; nothing happened), `idempotency_error` (a key reused with
 * other parameters), `invalid_request_error` (the caller's mistake).
 */
export const ProviderErrorBody = Type.Object({
  error: Type.Object({
    type: Type.String(),
    code: Type.String(),
    message: Type.String(),
    charge: Type.Optional(Charge),
  }),
});
export type ProviderErrorBody = Static<typeof ProviderErrorBody>;
