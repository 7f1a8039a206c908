/**
 * Schema and role names end up inside DDL (`CREATE SCHEMA`, `GRANT ... TO`) and inside the
 * `-c search_path=` startup option, where bind parameters cannot be used. Accepting only plain
 * lower-case identifiers keeps those statements injection-free and means no quoting surprises
 * (an unquoted name in psql is the same object).
 */
const PLAIN_IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

export function assertIdentifier(value: string, what: string): string {
  if (!PLAIN_IDENTIFIER.test(value)) {
    throw new Error(
      `${what} "${value}" must be a lower-case SQL identifier (a-z, 0-9, _; at most 63 characters)`,
    );
  }
  return value;
}

/** Double-quotes an identifier (database names come from URLs and may hold any character). */
export function quoteIdentifier(value: string): string {
  return `"${value.replace(/"/g, '""')}"`;
}

/** A single-quoted SQL string literal, for the few statements that take no parameters. */
export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
