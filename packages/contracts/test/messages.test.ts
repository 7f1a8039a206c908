import { describe, expect, it } from 'vitest';
import {
  ChargePayment,
  envelopeValidator,
  messageCatalog,
  OrderCancelled,
  PaymentMethodAdded,
  RefundPayment,
  ReserveStock,
  ShipmentCreated,
  ShipOrder,
  StockReservationRejected,
  UserRegistered,
  type MessageContract,
} from '../src/index.js';
import { ids, validExamples } from './fixtures/message-examples.js';

const keyOf = (contract: MessageContract) => `${contract.type}@${contract.version}`;

function exampleOf(contract: MessageContract): Record<string, unknown> {
  const example = validExamples[keyOf(contract)];
  if (example === undefined) throw new Error(`no example for ${keyOf(contract)}`);
  return structuredClone(example) as Record<string, unknown>;
}

/** A copy of `value` with the field at `path` (dot-separated, numbers index arrays) replaced. */
function withField(value: unknown, path: string, replacement: unknown): unknown {
  const copy = structuredClone(value) as Record<string, unknown>;
  const keys = path.split('.');
  const last = keys.pop()!;
  const parent = keys.reduce<Record<string, unknown>>(
    (node, key) => node[key] as Record<string, unknown>,
    copy,
  );
  if (replacement === undefined) delete parent[last];
  else parent[last] = replacement;
  return copy;
}

describe.each(messageCatalog.map((contract) => [keyOf(contract), contract] as const))(
  '%s',
  (_key, contract: MessageContract) => {
    it('accepts its example', () => {
      const example = exampleOf(contract);
      expect(contract.validator.Errors(example)).toEqual([]);
      expect(contract.validator.Check(example)).toBe(true);
    });

    it('accepts a field it does not know yet (tolerant reader)', () => {
      expect(contract.validator.Check({ ...exampleOf(contract), addedLater: 'x' })).toBe(true);
    });

    it('refuses the example without each required field', () => {
      const required = (contract.schema as { required?: string[] }).required ?? [];
      expect(required.length).toBeGreaterThan(0);
      for (const field of required) {
        expect(contract.validator.Check(withField(exampleOf(contract), field, undefined))).toBe(
          false,
        );
      }
    });

    it('refuses something that is not an object', () => {
      expect(contract.validator.Check(null)).toBe(false);
      expect(contract.validator.Check('{}')).toBe(false);
    });
  },
);

describe('message field rules', () => {
  const refused: [string, MessageContract, string, unknown][] = [
    ['a zero quantity', ReserveStock, 'items.0.quantity', 0],
    ['a fractional quantity', ReserveStock, 'items.0.quantity', 1.5],
    ['a quantity as a string', ReserveStock, 'items.0.quantity', '2'],
    ['an empty order', ReserveStock, 'items', []],
    ['an order id that is not a uuid', ReserveStock, 'orderId', 'order-1'],
    ['a zero charge', ChargePayment, 'amount', 0],
    ['dollars instead of cents', ChargePayment, 'amount', 45.97],
    ['money as a string', ChargePayment, 'amount', '4597'],
    ['more than the payments table holds', ChargePayment, 'amount', 100_000_000],
    ['a lower-case currency', ChargePayment, 'currency', 'usd'],
    ['no provider payment method', ChargePayment, 'providerPaymentMethodId', ''],
    ['a negative refund', RefundPayment, 'amount', -1],
    ['an unknown rejection reason', StockReservationRejected, 'rejectedItems.0.reason', 'gone'],
    ['a rejection that names no product', StockReservationRejected, 'rejectedItems', []],
    ['an unknown cancellation reason', OrderCancelled, 'cancellationReason', 'whim'],
    ['a timestamp that is not ISO 8601', OrderCancelled, 'cancelledAt', 'yesterday'],
    ['a carrier we do not ship with', ShipmentCreated, 'carrier', 'dhl'],
    ['an address snapshot without a street', ShipOrder, 'shippingAddress.line1', undefined],
    ['five digits as last four', PaymentMethodAdded, 'cardLast4', '42424'],
    ['a thirteenth month', PaymentMethodAdded, 'expMonth', 13],
    ['an email that is not an address', UserRegistered, 'email', 'ada'],
    ['an unknown role', UserRegistered, 'role', 'root'],
  ];

  it.each(refused)('refuses %s', (_what, contract, path, value) => {
    expect(contract.validator.Check(withField(exampleOf(contract), path, value))).toBe(false);
  });

  it('narrows a checked value to the message type', () => {
    const received: unknown = exampleOf(ReserveStock);
    if (!ReserveStock.validator.Check(received)) throw new Error('example must be valid');
    const data: ReserveStock = received;
    const firstQuantity: number = data.items[0]!.quantity;
    expect(firstQuantity).toBe(2);
  });

  it('accepts the optional fields when given', () => {
    const ship = withField(exampleOf(ShipOrder), 'preferredCarrier', 'usps');
    expect(ShipOrder.validator.Check(ship)).toBe(true);
  });
});

describe('Envelope', () => {
  const envelope = {
    id: ids.attempt,
    type: ReserveStock.type,
    version: ReserveStock.version,
    occurredAt: '2026-03-01T12:00:00.000Z',
    correlationId: 'req-1',
    causationId: null,
    data: exampleOf(ReserveStock),
  };

  it('accepts a well-formed envelope', () => {
    expect(envelopeValidator.Check(envelope)).toBe(true);
  });

  it('refuses an envelope without a version', () => {
    expect(envelopeValidator.Check({ ...envelope, version: undefined })).toBe(false);
  });

  it('reads an envelope carrying a field added by a newer producer', () => {
    expect(envelopeValidator.Check({ ...envelope, traceparent: '00-abc-01' })).toBe(true);
  });
});
