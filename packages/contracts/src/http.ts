import Type, {
  type Static,
  type TObject,
  type TObjectOptions,
  type TProperties,
  type TSchema,
} from 'typebox';

export { Email, Money, PositiveMoney, MAX_MONEY_CENTS, Timestamp, Uuid } from './primitives.js';

/**
 * A body schema that refuses unknown fields. Request bodies use it so a typo (`quantitty`) or a
 * field the client may not set (`role`) is a 400 rather than silently ignored. Responses and
 * messages use plain `Type.Object`, so adding a field never breaks a reader.
 */
export function StrictObject<const Properties extends TProperties>(
  properties: Properties,
  options: TObjectOptions = {},
): TObject<Properties> {
  return Type.Object(properties, { ...options, additionalProperties: false });
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** One invalid input, `path` as a JSON pointer into the request (`/items/0/quantity`). */
export const ValidationIssue = Type.Object({
  path: Type.String(),
  message: Type.String(),
});
export type ValidationIssue = Static<typeof ValidationIssue>;

/**
 * Every error answer, per RFC 9457 with the fields API.md promises. `code` is what clients switch
 * on; `type` is a URI reference naming the problem (`about:blank` when it has no page of its own).
 */
export const ProblemDetails = Type.Object({
  type: Type.String({ minLength: 1 }),
  title: Type.String(),
  status: Type.Integer({ minimum: 400, maximum: 599 }),
  detail: Type.String(),
  code: Type.String({ pattern: '^[a-z][a-z0-9_]*$' }),
  errors: Type.Optional(Type.Array(ValidationIssue)),
});
export type ProblemDetails = Static<typeof ProblemDetails>;

export const PAGE_LIMIT_DEFAULT = 20;
export const PAGE_LIMIT_MAX = 100;

/**
 * `?limit=&cursor=` as properties, so a list route can add its own filters:
 * `Type.Object({ ...PageQueryProperties, status: Type.Optional(...) })`.
 */
export const PageQueryProperties = {
  limit: Type.Optional(
    Type.Integer({ minimum: 1, maximum: PAGE_LIMIT_MAX, default: PAGE_LIMIT_DEFAULT }),
  ),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
};
export const PageQuery = StrictObject(PageQueryProperties);
export type PageQuery = Static<typeof PageQuery>;

/** A page of a list: `{ items, nextCursor }`, `nextCursor` null on the last page. */
export function Page<const Item extends TSchema>(item: Item) {
  return Type.Object({
    items: Type.Array(item),
    nextCursor: Type.Union([Type.String(), Type.Null()]),
  });
}
