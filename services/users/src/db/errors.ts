import { PgErrorCode, pgErrorCode } from '@shop/service-kit';

function constraintOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const record = error as { constraint?: unknown; driverError?: unknown };
  if (typeof record.constraint === 'string') return record.constraint;
  return record.driverError ? constraintOf(record.driverError) : undefined;
}

/** True when `error` is a unique violation of the named index or constraint. */
export function isUniqueViolation(error: unknown, constraint: string): boolean {
  return pgErrorCode(error) === PgErrorCode.uniqueViolation && constraintOf(error) === constraint;
}
