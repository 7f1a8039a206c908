import type { DataSourceOptions } from 'typeorm';
import type { Logger } from '../logger.js';
import { bootstrapDatabase, grantRuntimeAccess } from './bootstrap.js';
import { createDataSource } from './data-source.js';
import { runMigrations } from './migrate.js';
import { buildRuntimeUrl } from './urls.js';

export interface PrepareDatabaseSettings {
  /** Admin/migration URL, i.e. `DATABASE_URL` (postgres://postgres@127.0.0.1:5432/shop). */
  adminUrl: string;
  /** The service's schema, e.g. `users`. */
  schema: string;
  /** The service's runtime role, e.g. `users_svc`. */
  role: string;
  /** The runtime role's password (optional where the server trusts local connections). */
  rolePassword?: string;
  /** The service's migration classes, in any order (TypeORM sorts by the class-name timestamp). */
  migrations: NonNullable<DataSourceOptions['migrations']>;
  logger: Logger;
  migrationsTableName?: string;
}

export interface PreparedDatabase {
  /** Connect with this at runtime: same database, logged in as `role`. */
  runtimeUrl: string;
  /** Names of the migrations this call ran (empty when the schema was up to date). */
  migrationsRun: string[];
}

/**
 * The one call a service makes at start (and `pnpm db:migrate` makes per service): create the
 * database, schema and role when missing, run pending migrations under an advisory lock, re-apply
 * the runtime role's grants, and hand back the runtime URL. Safe to run concurrently and
 * repeatedly. Migrations run as the admin role with no statement timeout (an index build may
 * take minutes); the runtime DataSource gets the timeout.
 */
export async function prepareDatabase(
  settings: PrepareDatabaseSettings,
): Promise<PreparedDatabase> {
  const { adminUrl, schema, role, rolePassword, logger } = settings;
  await bootstrapDatabase({ adminUrl, schema, role, rolePassword, logger });
  const dataSource = createDataSource({
    url: adminUrl,
    schema,
    migrations: settings.migrations,
    migrationsTableName: settings.migrationsTableName,
    logger,
    // One connection holds the advisory lock, another runs the migrations.
    poolSize: 2,
    applicationName: `${schema}-migrations`,
    statementTimeoutMs: 0,
    idleInTransactionTimeoutMs: 0,
    slowQueryMs: 60_000,
  });
  await dataSource.initialize();
  let migrationsRun: string[];
  try {
    migrationsRun = await runMigrations(dataSource, { logger });
  } finally {
    await dataSource.destroy();
  }
  await grantRuntimeAccess(adminUrl, schema, role, settings.migrationsTableName);
  if (migrationsRun.length) logger.info({ schema, migrations: migrationsRun }, 'migrations ran');
  return { runtimeUrl: buildRuntimeUrl(adminUrl, role, rolePassword), migrationsRun };
}
