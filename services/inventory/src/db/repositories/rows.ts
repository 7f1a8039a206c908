/** UPDATE ... RETURNING through TypeORM's query() answers [rows, affectedCount]; this gets rows. */
export function returnedRows<Row>(result: unknown): Row[] {
  return (Array.isArray(result) && Array.isArray(result[0]) ? result[0] : result) as Row[];
}
