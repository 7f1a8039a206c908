/**
 * What changed between two snapshots of a record, as the two halves an audit row stores:
 * the old values and the new values of the changed fields only. Pure: no I/O, no clock.
 */

export type JsonValue =
  string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface AuditDiff {
  oldValues: JsonObject;
  newValues: JsonObject;
}

export interface DiffOptions {
  /** Fields never compared or recorded. Default: `updatedAt` (it changes on every write). */
  ignore?: readonly string[];
  /** Fields whose values are replaced by `[redacted]` (their change is still recorded). */
  redact?: readonly string[];
}

export const DEFAULT_IGNORED_FIELDS: readonly string[] = ['updatedAt'];
export const DEFAULT_REDACTED_FIELDS: readonly string[] = ['password', 'passwordHash'];
const REDACTED = '[redacted]';

/**
 * Converts what an entity holds into what jsonb stores, so comparison happens on the stored
 * form: Dates become ISO strings (two Date objects for the same instant are equal), bigints
 * become strings, undefined and functions disappear, nested objects and arrays are converted
 * recursively with their keys sorted (key order never counts as a change).
 */
export function toJsonValue(value: unknown): JsonValue | undefined {
  if (value === null) return null;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'bigint':
      return value.toString();
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
    case 'object':
      break;
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (Array.isArray(value)) return value.map((item) => toJsonValue(item) ?? null);
  if (Buffer.isBuffer(value)) return value.toString('base64');
  const source = value as Record<string, unknown>;
  const result: JsonObject = {};
  for (const key of Object.keys(source).sort()) {
    const converted = toJsonValue(source[key]);
    if (converted !== undefined) result[key] = converted;
  }
  return result;
}

/** A record's own fields as JSON, minus ignored fields, with redacted fields masked. */
export function snapshot(record: object, options: DiffOptions = {}): JsonObject {
  const ignore = new Set(options.ignore ?? DEFAULT_IGNORED_FIELDS);
  const redact = new Set(options.redact ?? DEFAULT_REDACTED_FIELDS);
  const result: JsonObject = {};
  for (const [key, raw] of Object.entries(record)) {
    if (ignore.has(key)) continue;
    const value = toJsonValue(raw);
    if (value === undefined) continue;
    result[key] = redact.has(key) && value !== null ? REDACTED : value;
  }
  return result;
}

function sameJson(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  // toJsonValue sorted object keys, so equal values serialize identically.
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/**
 * The changed fields of `before` → `after`, or null when nothing changed. A field present on
 * one side only counts as null on the other, so pass full snapshots (e.g. the entity as loaded
 * and the entity as saved), not a partial patch.
 */
export function diffRecords(
  before: object,
  after: object,
  options: DiffOptions = {},
): AuditDiff | null {
  const ignore = new Set(options.ignore ?? DEFAULT_IGNORED_FIELDS);
  const redact = new Set(options.redact ?? DEFAULT_REDACTED_FIELDS);
  const oldSide = before as Record<string, unknown>;
  const newSide = after as Record<string, unknown>;
  const keys = new Set([...Object.keys(oldSide), ...Object.keys(newSide)]);
  const oldValues: JsonObject = {};
  const newValues: JsonObject = {};
  for (const key of [...keys].sort()) {
    if (ignore.has(key)) continue;
    const previous = toJsonValue(oldSide[key]);
    const next = toJsonValue(newSide[key]);
    if (sameJson(previous, next)) continue;
    const masked = redact.has(key);
    oldValues[key] = masked && previous != null ? REDACTED : (previous ?? null);
    newValues[key] = masked && next != null ? REDACTED : (next ?? null);
  }
  return Object.keys(oldValues).length ? { oldValues, newValues } : null;
}
