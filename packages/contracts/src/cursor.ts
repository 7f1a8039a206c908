import Type from 'typebox';
import { Compile } from 'typebox/compile';
import { Timestamp, Uuid } from './primitives.js';

/**
 * Position after the last row of a page, for keyset pagination on `(created_at, id)` newest
 * first: the next page is `WHERE (created_at, id) < ($createdAt, $id)`. Give `createdAt` with the
 * column's full precision (Postgres keeps microseconds, a JS Date only milliseconds), or rows
 * sharing a millisecond can be skipped.
 */
export interface PageCursor {
  createdAt: string;
  id: string;
}

const cursorValidator = Compile(
  Type.Object({ createdAt: Timestamp, id: Uuid }, { additionalProperties: false }),
);

// Far longer than any real cursor; refusing early keeps a hostile query string cheap.
const MAX_CURSOR_LENGTH = 512;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** Opaque to clients: base64url of JSON, so they can't build one by hand and rely on it. */
export function encodeCursor(position: PageCursor): string {
  const json = JSON.stringify({ createdAt: position.createdAt, id: position.id });
  return Buffer.from(json, 'utf8').toString('base64url');
}

/** The position a cursor names, or null for anything we did not make (answer 400). */
export function decodeCursor(cursor: string): PageCursor | null {
  if (cursor.length === 0 || cursor.length > MAX_CURSOR_LENGTH || !BASE64URL.test(cursor)) {
    return null;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (!cursorValidator.Check(parsed)) return null;
  return { createdAt: parsed.createdAt, id: parsed.id };
}
