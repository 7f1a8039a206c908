/**
 * TypeORM's postgres `query()` answers UPDATE and DELETE (… RETURNING) with `[rows, rowCount]`,
 * but SELECT and INSERT with the rows alone. These read either shape, so a repository's raw SQL
 * does not depend on which statement it is.
 */
function isRowsAndCount(result: unknown): result is [unknown[], number] {
  return (
    Array.isArray(result) &&
    result.length === 2 &&
    Array.isArray(result[0]) &&
    typeof result[1] === 'number'
  );
}

/** The rows a statement returned (`RETURNING`, or a SELECT). */
export function returnedRows<Row>(result: unknown): Row[] {
  if (isRowsAndCount(result)) return result[0] as Row[];
  return Array.isArray(result) ? (result as Row[]) : [];
}

/** How many rows a statement changed (an UPDATE or DELETE), or returned. */
export function affectedRowCount(result: unknown): number {
  if (isRowsAndCount(result)) return result[1];
  return Array.isArray(result) ? result.length : 0;
}
