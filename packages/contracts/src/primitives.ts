import Type from 'typebox';

/**
 * Building blocks shared by HTTP bodies and messages. A change here changes every message that
 * uses it, so the schema lock test will point at each of them.
 */

export const Uuid = Type.String({ format: 'uuid' });

/** ISO 8601 / RFC 3339 timestamp string; producers send UTC (`...Z`). */
export const Timestamp = Type.String({ format: 'date-time' });

/** The payments table refuses more than this (`CHECK (amount <= 99999999)`): $999,999.99. */
export const MAX_MONEY_CENTS = 99_999_999;

/** An amount of money in integer cents (`1999` is $19.99). Never a float, never a string. */
export const Money = Type.Integer({ minimum: 0, maximum: MAX_MONEY_CENTS });

/** An amount that must move money: a charge or a refund. */
export const PositiveMoney = Type.Integer({ minimum: 1, maximum: MAX_MONEY_CENTS });

/** ISO 4217 alphabetic code, upper case (`USD`). */
export const Currency = Type.String({ pattern: '^[A-Z]{3}$' });

// 254 is the longest address SMTP can carry (RFC 5321 path limit).
export const Email = Type.String({ format: 'email', maxLength: 254 });
