import { DataSource, type DataSourceOptions, type EntityManager } from 'typeorm';
import type { Logger } from '../logger.js';
import { assertIdentifier } from './identifiers.js';
import { PinoTypeormLogger } from './typeorm-logger.js';

export interface DataSourceSettings {
  /** Runtime URL (the service's role) or admin URL (migrations). */
  url: string;
  /** The service's schema: the only entry of `search_path`. */
  schema: string;
  entities?: DataSourceOptions['entities'];
  /** Migration classes (not globs: tsx/ESM loads classes reliably, globs do not). */
  migrations?: DataSourceOptions['migrations'];
  logger: Logger;
  /** Pool size; pg's default is 10. */
  poolSize?: number;
  /** Shows in pg_stat_activity, so an operator can tell which service holds a lock. */
  applicationName?: string;
  /** Server-side `statement_timeout` in ms; 0 disables it. Default 15 s. */
  statementTimeoutMs?: number;
  /** Server-side `idle_in_transaction_session_timeout` in ms; 0 disables it. Default 60 s. */
  idleInTransactionTimeoutMs?: number;
  /** Queries slower than this are logged at warn. Default 500 ms. */
  slowQueryMs?: number;
  /** Name of TypeORM's migrations table (created in `schema`). Default `migrations`. */
  migrationsTableName?: string;
}

/**
 * Startup options sent with every new connection. `search_path` is set here rather than with
 * TypeORM's `schema` option: that option qualifies entity tables but leaves the migrations and
 * metadata tables to whatever `current_schema()` is, and it is per-DataSource instead of
 * per-connection. With only the service's schema on the path, every unqualified name (entity
 * tables, raw SQL, the migrations table, functions created by migrations) lands in that schema,
 * and a table missing from it is an error instead of a silent fallback to `public`.
 */
export function connectionStartupOptions(settings: {
  schema: string;
  statementTimeoutMs?: number;
  idleInTransactionTimeoutMs?: number;
  extra?: string | null;
}): string {
  const schema = assertIdentifier(settings.schema, 'schema');
  const parts = [
    `-c search_path=${schema}`,
    `-c statement_timeout=${settings.statementTimeoutMs ?? 15_000}`,
    `-c idle_in_transaction_session_timeout=${settings.idleInTransactionTimeoutMs ?? 60_000}`,
  ];
  if (settings.extra) parts.push(settings.extra);
  return parts.join(' ');
}

/**
 * pg lets an `options` parameter in the URL override the `options` config key, which would
 * silently drop our search_path. Take it out of the URL and append it to ours instead.
 */
function splitOptionsFromUrl(url: string): { url: string; options: string | null } {
  const parsed = new URL(url);
  const options = parsed.searchParams.get('options');
  parsed.searchParams.delete('options');
  return { url: parsed.toString(), options };
}

/**
 * A TypeORM DataSource (postgres driver) confined to one schema. Not initialized: call
 * `await dataSource.initialize()` (or use `openDataSource`). `synchronize` is off for good: the
 * schema changes only through reviewed migrations.
 */
export function createDataSource(settings: DataSourceSettings): DataSource {
  const { url, options } = splitOptionsFromUrl(settings.url);
  return new DataSource({
    type: 'postgres',
    url,
    entities: settings.entities ?? [],
    migrations: settings.migrations ?? [],
    migrationsTableName: settings.migrationsTableName ?? 'migrations',
    // Each migration in its own transaction, so one can opt out (`transaction = false`) for
    // CREATE INDEX CONCURRENTLY; "all" would reject such a migration outright.
    migrationsTransactionMode: 'each',
    migrationsRun: false,
    synchronize: false,
    dropSchema: false,
    // The runtime role may not create extensions; gen_random_uuid() is built into Postgres 13+,
    // so nothing needs installing and uuid columns default to it.
    installExtensions: false,
    uuidExtension: 'pgcrypto',
    poolSize: settings.poolSize,
    applicationName: settings.applicationName,
    logger: new PinoTypeormLogger(settings.logger),
    maxQueryExecutionTime: settings.slowQueryMs ?? 500,
    // Passed straight to pg.Pool: `options` is the libpq startup-options string.
    extra: {
      options: connectionStartupOptions({
        schema: settings.schema,
        statementTimeoutMs: settings.statementTimeoutMs,
        idleInTransactionTimeoutMs: settings.idleInTransactionTimeoutMs,
        extra: options,
      }),
    },
  });
}

/** `createDataSource` + `initialize()`. */
export async function openDataSource(settings: DataSourceSettings): Promise<DataSource> {
  return createDataSource(settings).initialize();
}

/** The isolation levels Postgres actually implements. */
export type IsolationLevel = 'READ COMMITTED' | 'REPEATABLE READ' | 'SERIALIZABLE';

/** Callbacks waiting for the commit of the transaction that a manager belongs to. */
const committedCallbacks = new WeakMap<EntityManager, (() => void)[]>();

/**
 * Runs `callback` once the transaction behind `manager` has committed, and never if it rolls
 * back: for effects outside the database (a metric, a log line that claims something happened)
 * that must not count work which was then undone. The transaction must come from
 * `withTransaction` (handlers' transactions do); anything else is a programming error.
 */
export function afterCommit(manager: EntityManager, callback: () => void): void {
  const callbacks = committedCallbacks.get(manager);
  if (!callbacks) throw new Error('afterCommit needs a transaction opened by withTransaction');
  callbacks.push(callback);
}

/**
 * Runs `work` in one transaction: commit when it resolves, roll back when it throws.
 * Everything that must commit together (the change, its audit row, its outbox messages) takes
 * the `manager` passed here, never `dataSource.manager` or a repository obtained from the data
 * source, which would run on another connection outside the transaction. Repositories for the
 * transaction come from `manager.getRepository(Entity)`. Callbacks registered with
 * `afterCommit` run after the commit.
 */
export async function withTransaction<T>(
  dataSource: DataSource,
  work: (manager: EntityManager) => Promise<T>,
  options: { isolationLevel?: IsolationLevel } = {},
): Promise<T> {
  const callbacks: (() => void)[] = [];
  const tracked = (manager: EntityManager): Promise<T> => {
    committedCallbacks.set(manager, callbacks);
    return work(manager);
  };
  const result = options.isolationLevel
    ? await dataSource.transaction(options.isolationLevel, tracked)
    : await dataSource.transaction(tracked);
  for (const callback of callbacks) {
    // The transaction has committed: a failing callback must not make the caller believe
    // otherwise (and, say, redo the work), so it is reported and the rest still run.
    try {
      callback();
    } catch (error) {
      process.emitWarning(error instanceof Error ? error : String(error), 'AfterCommitWarning');
    }
  }
  return result;
}
