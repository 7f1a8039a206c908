import Type, { type TSchema } from 'typebox';
import { describe, expect, it } from 'vitest';
import { findBreakingChanges } from '../src/compatibility/compare-schemas.js';

// Old and new schemas as JSON, the way the lock file holds them.
const json = (schema: TSchema): unknown => JSON.parse(JSON.stringify(schema));
const problemsBetween = (previous: TSchema, next: TSchema) =>
  findBreakingChanges(json(previous), json(next));

const line = Type.Object({ productId: Type.String({ format: 'uuid' }), quantity: Type.Integer() });
const reason = Type.Union([
  Type.Literal('insufficient_stock'),
  Type.Literal('product_unavailable'),
]);
const released = Type.Object({
  orderId: Type.String({ format: 'uuid' }),
  items: Type.Array(line),
  reason,
  note: Type.Optional(Type.String()),
});

describe('findBreakingChanges', () => {
  it('finds nothing between a schema and itself', () => {
    expect(problemsBetween(released, released)).toEqual([]);
  });

  it('lets an optional field be added, at the top and deep inside', () => {
    const next = Type.Object({
      ...released.properties,
      items: Type.Array(
        Type.Object({ ...line.properties, warehouse: Type.Optional(Type.String()) }),
      ),
      releasedBy: Type.Optional(Type.String({ format: 'uuid' })),
    });
    expect(problemsBetween(released, next)).toEqual([]);
  });

  it('ignores annotations such as a new description', () => {
    const next = Type.Object({ ...released.properties, reason: { ...reason, description: 'why' } });
    expect(problemsBetween(released, next)).toEqual([]);
  });

  const breaking: [string, TSchema, string, RegExp][] = [
    [
      'a field removed',
      Type.Object({
        orderId: released.properties.orderId,
        items: released.properties.items,
        reason,
      }),
      '$.note',
      /removed/,
    ],
    [
      "a field's type changed",
      Type.Object({ ...released.properties, orderId: Type.Integer() }),
      '$.orderId',
      /`type` changed/,
    ],
    [
      'integer loosened to number',
      Type.Object({
        ...released.properties,
        items: Type.Array(Type.Object({ ...line.properties, quantity: Type.Number() })),
      }),
      '$.items[].quantity',
      /`type` changed/,
    ],
    [
      'an optional field made required',
      Type.Object({ ...released.properties, note: Type.String() }),
      '$.note',
      /became required/,
    ],
    [
      'a required field made optional',
      Type.Object({ ...released.properties, reason: Type.Optional(reason) }),
      '$.reason',
      /became optional/,
    ],
    [
      'a required field added',
      Type.Object({ ...released.properties, releasedAt: Type.String() }),
      '$.releasedAt',
      /required field added/,
    ],
    [
      'a literal added to a union',
      Type.Object({
        ...released.properties,
        reason: Type.Union([...reason.anyOf, Type.Literal('recalled')]),
      }),
      '$.reason',
      /union \(anyOf\) variants went from 2 to 3/,
    ],
    [
      'a literal removed from a union',
      Type.Object({ ...released.properties, reason: Type.Literal('insufficient_stock') }),
      '$.reason',
      /`anyOf` changed/,
    ],
    [
      'a format tightened',
      Type.Object({
        ...released.properties,
        note: Type.Optional(Type.String({ format: 'email' })),
      }),
      '$.note',
      /`format` changed/,
    ],
    [
      'a format dropped',
      Type.Object({ ...released.properties, orderId: Type.String() }),
      '$.orderId',
      /`format` changed/,
    ],
    [
      'a limit added',
      Type.Object({ ...released.properties, items: Type.Array(line, { maxItems: 50 }) }),
      '$.items',
      /`maxItems` changed/,
    ],
    [
      'unknown fields forbidden',
      Type.Object(released.properties, { additionalProperties: false }),
      '$',
      /`additionalProperties` changed/,
    ],
  ];

  it.each(breaking)('reports %s', (_what, next, path, problem) => {
    const changes = problemsBetween(released, next);
    expect(changes).toContainEqual({ path, problem: expect.stringMatching(problem) });
  });

  it('reports enum values added and removed', () => {
    const before = Type.Object({ status: Type.Enum(['pending', 'succeeded']) });
    const after = Type.Object({ status: Type.Enum(['succeeded', 'refunded']) });
    expect(problemsBetween(before, after)).toEqual([
      { path: '$.status', problem: 'enum values removed: ["pending"]' },
      { path: '$.status', problem: 'enum values added: ["refunded"]' },
    ]);
  });

  it('does not mind enum values reordered', () => {
    const before = Type.Object({ status: Type.Enum(['a', 'b']) });
    expect(problemsBetween(before, Type.Object({ status: Type.Enum(['b', 'a']) }))).toEqual([]);
  });

  it('compares union variants one by one, so a change inside one is found', () => {
    const before = Type.Union([Type.Object({ a: Type.String() }), Type.Null()]);
    const after = Type.Union([Type.Object({ a: Type.Number() }), Type.Null()]);
    expect(problemsBetween(before, after)).toEqual([
      { path: '$|0.a', problem: '`type` changed from "string" to "number"' },
    ]);
  });

  it('treats a schema it cannot read as changed', () => {
    expect(findBreakingChanges(true, false)).toEqual([
      { path: '$', problem: 'schema changed from true to false' },
    ]);
  });
});
