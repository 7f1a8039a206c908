import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { messageCatalog } from '../catalog.js';
import type { MessageContract } from '../message.js';
import { findBreakingChanges, type BreakingChange } from './compare-schemas.js';

/**
 * The lock is the record of every message schema ever released, keyed `type@version`. It only
 * grows: a new version is a new key, and an old key leaves only when someone retires it on
 * purpose (`lock:schemas --retire type@version`), once no stream can still hold such messages.
 */
export type SchemaLock = Record<string, unknown>;

export const SCHEMA_LOCK_FILE = fileURLToPath(new URL('../../schemas.lock.json', import.meta.url));

export const LOCK_COMMAND = 'pnpm --filter @shop/contracts lock:schemas';

export function lockKey(type: string, version: number): string {
  return `${type}@${version}`;
}

/** The schema as JSON would carry it (TypeBox's hidden markers dropped), keys sorted. */
function toPlainJson(value: unknown): unknown {
  return sortKeys(JSON.parse(JSON.stringify(value)));
}

/** Same keys, in code-point order, so the lock file diffs cleanly. */
export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
  );
}

export function lockOf(catalog: readonly MessageContract[] = messageCatalog): SchemaLock {
  const entries = catalog.map((contract) => [
    lockKey(contract.type, contract.version),
    toPlainJson(contract.schema),
  ]);
  return sortKeys(Object.fromEntries(entries)) as SchemaLock;
}

export function readLockFile(file: string = SCHEMA_LOCK_FILE): SchemaLock {
  return JSON.parse(readFileSync(file, 'utf8')) as SchemaLock;
}

export interface LockReview {
  /** Locked messages whose schema changed in a way a reader of the other side cannot follow. */
  breaking: { key: string; changes: BreakingChange[] }[];
  /** Locked messages no longer in the catalog: consumers would drop ones still in a stream. */
  missing: string[];
  /** Catalog messages not in the lock yet. */
  added: string[];
  /** Locked messages changed compatibly (a new optional field): the lock must learn them. */
  changed: string[];
}

export function reviewLock(locked: SchemaLock, current: SchemaLock): LockReview {
  const review: LockReview = { breaking: [], missing: [], added: [], changed: [] };
  for (const [key, lockedSchema] of Object.entries(locked)) {
    if (!(key in current)) {
      review.missing.push(key);
      continue;
    }
    const changes = findBreakingChanges(lockedSchema, current[key]);
    if (changes.length > 0) review.breaking.push({ key, changes });
    else if (!isDeepStrictEqual(lockedSchema, current[key])) review.changed.push(key);
  }
  review.added = Object.keys(current).filter((key) => !(key in locked));
  return review;
}

export function explainBreakingChanges(breaking: LockReview['breaking']): string {
  const details = breaking.flatMap(({ key, changes }) =>
    changes.map((change) => `  ${key}  ${change.path}: ${change.problem}`),
  );
  return [
    'These message schemas changed in a way their readers cannot follow:',
    ...details,
    'Old consumers, and messages of this version still sitting in streams, would break.',
    'Leave the released version as it was and define the new shape as the next version',
    '(defineMessage(type, version + 1, ...)), keep both in the catalog, and run',
    `\`${LOCK_COMMAND}\`. Adding an optional field is the one change a version can absorb.`,
  ].join('\n');
}

export function explainMissing(missing: string[]): string {
  return [
    `Released message versions are gone from the catalog: ${missing.join(', ')}.`,
    'Consumers would refuse such messages still in streams. Put them back, or, once no stream',
    `can hold them, retire each on purpose: \`${LOCK_COMMAND} --retire <type@version>\`.`,
  ].join('\n');
}
