/**
 * SQLSTATE codes this module reacts to. TypeORM's QueryFailedError copies the pg error's
 * fields onto itself and keeps the original as `driverError`; a bare pg error has `code`.
 */
export const PgErrorCode = {
  uniqueViolation: '23505',
  duplicateObject: '42710',
  duplicateSchema: '42P06',
  duplicateDatabase: '42P04',
  insufficientPrivilege: '42501',
  invalidCatalogName: '3D000',
  undefinedTable: '42P01',
  /** Raised for "tuple concurrently updated" when two sessions GRANT/ALTER the same object. */
  internalError: 'XX000',
} as const;

export function pgErrorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const record = error as { code?: unknown; driverError?: unknown };
  if (typeof record.code === 'string') return record.code;
  if (record.driverError) return pgErrorCode(record.driverError);
  return undefined;
}

/**
 * Catalog updates on the same row from two sessions (two GRANTs on one schema, two ALTER ROLEs)
 * can fail with "tuple concurrently updated" instead of waiting. Retrying is the documented cure.
 */
export function isConcurrentCatalogUpdate(error: unknown): boolean {
  return (
    pgErrorCode(error) === PgErrorCode.internalError &&
    error instanceof Error &&
    /concurrently updated/i.test(error.message)
  );
}

export async function retryOnConcurrentCatalogUpdate<T>(
  work: () => Promise<T>,
  attempts = 5,
): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= attempts || !isConcurrentCatalogUpdate(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20 * attempt + Math.random() * 30));
    }
  }
}

/**
 * A database error as it may be logged. TypeORM's QueryFailedError carries the statement's
 * parameters, and Postgres's `detail` can hold the whole failing row ("Failing row contains
 * (...)"): logged as they are, they would put password hashes or provider tokens in a log line.
 * Only what an operator needs is kept: the SQLSTATE, the table and the constraint.
 */
export function describeDatabaseError(error: unknown): string | undefined {
  const code = pgErrorCode(error);
  if (code === undefined) return undefined;
  const record = error as {
    constraint?: unknown;
    table?: unknown;
    driverError?: { constraint?: unknown; table?: unknown };
  };
  const constraint = record.constraint ?? record.driverError?.constraint;
  const table = record.table ?? record.driverError?.table;
  const parts = [
    `code ${code}`,
    typeof table === 'string' ? `table ${table}` : null,
    typeof constraint === 'string' ? `constraint ${constraint}` : null,
  ].filter(Boolean);
  const kind = error instanceof Error ? error.name : 'database error';
  return `${kind} (${parts.join(', ')})`;
}
