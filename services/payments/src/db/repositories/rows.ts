/**
 * TypeORM's postgres `query()` answers UPDATE/DELETE … RETURNING with `[rows, rowCount]` but
 * SELECT and INSERT with the rows alone; this gives the rows either way.
 */
export function rowsOf<Row>(result: unknown): Row[] {
  const list = result as unknown[];
  if (list.length === 2 && Array.isArray(list[0]) && typeof list[1] === 'number') {
    return list[0] as Row[];
  }
  return list as Row[];
}
