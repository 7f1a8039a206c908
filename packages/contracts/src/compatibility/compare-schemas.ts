import { isDeepStrictEqual } from 'node:util';

/**
 * Whether messages of one (type, version) can keep their schema change. A message written under
 * the old schema may be read by a new consumer (it sits in a stream for days) and a message
 * written under the new one by an old consumer (during a rolling deploy), so the accepted
 * values must stay the same both ways. The one exception is a new optional field: old
 * consumers ignore it (tolerant reader) and new ones cope with its absence.
 *
 * Deliberately strict and small: a change it does not understand is breaking. Union variants
 * are compared by position, so reordering them reads as a break too.
 */

export interface BreakingChange {
  /** Where in the data, e.g. `$.items[].quantity` or `$.reason|1` (the second union variant). */
  path: string;
  problem: string;
}

type Schema = Record<string, unknown>;

// Words for people and tools; they do not change which values are accepted.
const ANNOTATIONS = new Set(['title', 'description', 'examples', '$comment', 'default']);
const OBJECT_KEYWORDS = new Set(['properties', 'required']);
const SUBSCHEMA_KEYWORDS = new Set(['items', 'additionalProperties', 'not', 'contains']);
const SUBSCHEMA_LIST_KEYWORDS = new Set(['anyOf', 'oneOf', 'allOf', 'prefixItems']);

export function findBreakingChanges(previous: unknown, next: unknown): BreakingChange[] {
  const changes: BreakingChange[] = [];
  compareSchemas(previous, next, '$', changes);
  return changes;
}

function isSchemaObject(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function compareSchemas(previous: unknown, next: unknown, path: string, out: BreakingChange[]) {
  if (!isSchemaObject(previous) || !isSchemaObject(next)) {
    if (!isDeepStrictEqual(previous, next)) {
      out.push({ path, problem: `schema changed from ${show(previous)} to ${show(next)}` });
    }
    return;
  }
  if ([previous, next].some((schema) => 'properties' in schema || 'required' in schema)) {
    compareObjects(previous, next, path, out);
  }
  const keywords = new Set([...Object.keys(previous), ...Object.keys(next)]);
  for (const keyword of keywords) {
    if (ANNOTATIONS.has(keyword) || OBJECT_KEYWORDS.has(keyword)) continue;
    const before = previous[keyword];
    const after = next[keyword];
    if (keyword === 'enum') {
      compareEnums(before, after, path, out);
    } else if (SUBSCHEMA_KEYWORDS.has(keyword) && isSchemaObject(before) && isSchemaObject(after)) {
      compareSchemas(before, after, keyword === 'items' ? `${path}[]` : `${path}<${keyword}>`, out);
    } else if (
      SUBSCHEMA_LIST_KEYWORDS.has(keyword) &&
      Array.isArray(before) &&
      Array.isArray(after)
    ) {
      compareSchemaLists(keyword, before, after, path, out);
    } else if (!isDeepStrictEqual(before, after)) {
      out.push({
        path,
        problem: `\`${keyword}\` changed from ${show(before)} to ${show(after)}`,
      });
    }
  }
}

function compareObjects(previous: Schema, next: Schema, path: string, out: BreakingChange[]) {
  const before = asSchemaMap(previous.properties);
  const after = asSchemaMap(next.properties);
  const requiredBefore = new Set(asStringList(previous.required));
  const requiredAfter = new Set(asStringList(next.required));

  for (const [name, schema] of Object.entries(before)) {
    const fieldPath = `${path}.${name}`;
    const nextSchema = after[name];
    if (nextSchema === undefined) {
      out.push({ path: fieldPath, problem: 'field removed' });
      continue;
    }
    compareSchemas(schema, nextSchema, fieldPath, out);
    if (requiredBefore.has(name) && !requiredAfter.has(name)) {
      out.push({ path: fieldPath, problem: 'required field became optional' });
    } else if (!requiredBefore.has(name) && requiredAfter.has(name)) {
      out.push({ path: fieldPath, problem: 'optional field became required' });
    }
  }
  for (const name of Object.keys(after)) {
    if (!(name in before) && requiredAfter.has(name)) {
      out.push({ path: `${path}.${name}`, problem: 'required field added' });
    }
  }
  // Names required without a schema of their own.
  const undescribed = (names: Set<string>, props: Schema) =>
    [...names].filter((name) => !(name in props)).sort();
  if (!isDeepStrictEqual(undescribed(requiredBefore, before), undescribed(requiredAfter, after))) {
    out.push({ path, problem: '`required` changed for fields without a schema' });
  }
}

function compareEnums(before: unknown, after: unknown, path: string, out: BreakingChange[]) {
  if (!Array.isArray(before) || !Array.isArray(after)) {
    if (!isDeepStrictEqual(before, after)) {
      out.push({ path, problem: `\`enum\` changed from ${show(before)} to ${show(after)}` });
    }
    return;
  }
  const contains = (list: unknown[], value: unknown) =>
    list.some((item) => isDeepStrictEqual(item, value));
  const removed = before.filter((value) => !contains(after, value));
  const added = after.filter((value) => !contains(before, value));
  if (removed.length > 0) out.push({ path, problem: `enum values removed: ${show(removed)}` });
  if (added.length > 0) out.push({ path, problem: `enum values added: ${show(added)}` });
}

function compareSchemaLists(
  keyword: string,
  before: unknown[],
  after: unknown[],
  path: string,
  out: BreakingChange[],
) {
  if (before.length !== after.length) {
    const noun = keyword === 'prefixItems' ? 'tuple items' : `union (${keyword}) variants`;
    out.push({ path, problem: `${noun} went from ${before.length} to ${after.length}` });
    return;
  }
  before.forEach((schema, index) => {
    const variantPath = keyword === 'prefixItems' ? `${path}[${index}]` : `${path}|${index}`;
    compareSchemas(schema, after[index], variantPath, out);
  });
}

function asSchemaMap(value: unknown): Record<string, unknown> {
  return isSchemaObject(value) ? value : {};
}

function asStringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item) => typeof item === 'string') : [];
}

function show(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value);
}
