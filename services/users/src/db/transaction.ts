import {
  describeDatabaseError,
  InternalError,
  isAppError,
  withTransaction,
} from '@shop/service-kit';
import type { DataSource, EntityManager } from 'typeorm';

/** A scrubbed 500 for a failed users transaction: its log line names no parameter. */
export function scrubDatabaseError(error: unknown): InternalError {
  const description =
    describeDatabaseError(error) ?? (error instanceof Error ? error.name : 'error');
  return new InternalError(`${description} in a users transaction`);
}

/**
 * `withTransaction` for changes that touch secrets: errors meant for the client (AppError)
 * pass through; anything else is replaced by a scrubbed InternalError (a bare 500).
 */
export async function inTransaction<T>(
  dataSource: DataSource,
  work: (manager: EntityManager) => Promise<T>,
): Promise<T> {
  try {
    return await withTransaction(dataSource, work);
  } catch (error) {
    throw isAppError(error) ? error : scrubDatabaseError(error);
  }
}
