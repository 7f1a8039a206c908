import { decodeCursor, encodeCursor, type PageCursor } from '@shop/contracts';
import { BadRequestError } from '@shop/service-kit';

/**
 * SQL for a row's position in a newest-first keyset page, with the full microsecond precision
 * of Postgres: a JS Date would round to milliseconds and skip rows sharing one.
 */
export function cursorPositionSql(alias: string): string {
  return `to_char(${alias}.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}

/** The position a client's cursor names, or a 400 for a cursor we did not make. */
export function parseCursor(cursor: string | undefined): PageCursor | null {
  if (cursor === undefined) return null;
  const position = decodeCursor(cursor);
  if (!position) {
    throw new BadRequestError('The cursor is not valid.', [
      { path: '/query/cursor', message: 'must be a cursor from a previous page' },
    ]);
  }
  return position;
}

/**
 * Pages are fetched with one row more than asked: it tells whether a next page exists without
 * a count. Returns the page and the cursor after its last row (null on the last page).
 */
export function toPage<Row extends { cursorAt: string; id: string }>(
  rows: Row[],
  limit: number,
): { rows: Row[]; nextCursor: string | null } {
  if (rows.length <= limit) return { rows, nextCursor: null };
  const page = rows.slice(0, limit);
  const last = page[page.length - 1]!;
  return { rows: page, nextCursor: encodeCursor({ createdAt: last.cursorAt, id: last.id }) };
}
