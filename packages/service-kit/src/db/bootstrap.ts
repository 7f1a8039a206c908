import pg from 'pg';
import type { Logger } from '../logger.js';
import { assertIdentifier, quoteIdentifier, quoteLiteral } from './identifiers.js';
import { PgErrorCode, pgErrorCode, retryOnConcurrentCatalogUpdate } from './pg-errors.js';
import { databaseNameOf, redactUrl, withDatabase } from './urls.js';

/**
 * Bootstrap runs with the admin/migration URL (`DATABASE_URL`): that role needs CREATEDB and
 * CREATEROLE (or is a superuser, as `postgres` is in development). It is idempotent and safe to
 * run from many processes at once: every service runs it at start, and test files run it in
 * parallel against the same cluster.
 */
export interface BootstrapSettings {
  adminUrl: string;
  /** The service's schema, e.g. `users`. */
  schema: string;
  /** The service's runtime role, e.g. `users_svc`. */
  role: string;
  /** Set (or reset) as the role's password; omit where the server trusts local connections. */
  rolePassword?: string;
  logger?: Logger;
}

// Advisory-lock keys. Advisory locks are per database, so each key serializes work within the
// database it is taken in. Text keys hashed server-side keep them readable in code.
const CREATE_DATABASE_LOCK = 'service-kit:create-database';
const BOOTSTRAP_LOCK = 'service-kit:bootstrap';

/** Runs `work` with a fresh client on `url`, always closing it. */
export async function withClient<T>(
  url: string,
  work: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * Creates the database named in `adminUrl` when it does not exist, connecting to the `postgres`
 * maintenance database to do so (CREATE DATABASE cannot run inside the database it creates).
 * Returns true when this call created it. A concurrent creator is tolerated: both serialize on
 * an advisory lock in `postgres`, and a duplicate from a creator that skipped the lock is
 * swallowed.
 */
export async function ensureDatabase(adminUrl: string, logger?: Logger): Promise<boolean> {
  if (await databaseReachable(adminUrl)) return false;
  const name = databaseNameOf(adminUrl);
  return withClient(withDatabase(adminUrl, 'postgres'), async (client) => {
    // Session-level lock: CREATE DATABASE refuses to run inside a transaction block.
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [CREATE_DATABASE_LOCK]);
    try {
      const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (found.rowCount) return false;
      await client.query(`CREATE DATABASE ${quoteIdentifier(name)}`);
      logger?.info({ database: name }, 'database created');
      return true;
    } catch (error) {
      const code = pgErrorCode(error);
      if (code === PgErrorCode.duplicateDatabase || code === PgErrorCode.uniqueViolation)
        return false;
      throw error;
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtext($1))', [CREATE_DATABASE_LOCK]);
    }
  });
}

async function databaseReachable(url: string): Promise<boolean> {
  try {
    await withClient(url, async () => undefined);
    return true;
  } catch (error) {
    if (pgErrorCode(error) === PgErrorCode.invalidCatalogName) return false;
    throw new Error(`cannot connect to ${redactUrl(url)}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/**
 * Creates the runtime role when missing: LOGIN, no superuser/createdb/createrole, so a leaked
 * service credential can do no more than its grants allow. Roles are cluster-wide, so several
 * databases (test files) may create the same role at once: duplicate_object / unique_violation
 * mean someone else won, which is fine.
 */
export async function ensureRole(
  client: pg.Client,
  role: string,
  password?: string,
): Promise<void> {
  assertIdentifier(role, 'role');
  const passwordClause = password ? ` PASSWORD ${quoteLiteral(password)}` : '';
  const found = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
  if (!found.rowCount) {
    try {
      await client.query(
        `CREATE ROLE ${role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION${passwordClause}`,
      );
      return;
    } catch (error) {
      const code = pgErrorCode(error);
      if (code !== PgErrorCode.duplicateObject && code !== PgErrorCode.uniqueViolation) throw error;
    }
  }
  // The role existed (made earlier, by hand, or by a concurrent creator): bring the password in
  // line with the setting. Concurrent ALTERs of one role can clash, hence the retry.
  if (password) {
    await retryOnConcurrentCatalogUpdate(() => client.query(`ALTER ROLE ${role}${passwordClause}`));
  }
}

/**
 * Creates the schema and the role, and gives the role exactly: CONNECT on the database, USAGE
 * (not CREATE) on its own schema, DML on the schema's tables and sequences, the same on tables
 * that migrations create later (default privileges of the migrating role), and nothing on
 * `public` or on any other schema. Runs in one transaction under an advisory lock, because
 * concurrent GRANTs on the same object fail with "tuple concurrently updated" instead of waiting.
 */
export async function ensureSchemaAndRole(settings: BootstrapSettings): Promise<void> {
  const schema = assertIdentifier(settings.schema, 'schema');
  const role = assertIdentifier(settings.role, 'role');
  const database = quoteIdentifier(databaseNameOf(settings.adminUrl));
  await withClient(settings.adminUrl, async (client) => {
    await ensureRole(client, role, settings.rolePassword);
    await retryOnConcurrentCatalogUpdate(() =>
      inBootstrapTransaction(client, async () => {
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
        await client.query(`GRANT CONNECT ON DATABASE ${database} TO ${role}`);
        await client.query(`GRANT USAGE ON SCHEMA ${schema} TO ${role}`);
        // Only migrations change the schema; the service itself never runs DDL.
        await client.query(`REVOKE CREATE ON SCHEMA ${schema} FROM ${role}`);
        // Tables created later by the migrating role (current_user) are granted automatically.
        await client.query(
          `ALTER DEFAULT PRIVILEGES IN SCHEMA ${schema} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${role}`,
        );
        await client.query(
          `ALTER DEFAULT PRIVILEGES IN SCHEMA ${schema} GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO ${role}`,
        );
        await grantOnExistingObjects(client, schema, role);
        // psql and ad-hoc tools logged in as the role land in its schema too.
        await client.query(
          `ALTER ROLE ${role} IN DATABASE ${database} SET search_path = ${schema}`,
        );
        await revokeElsewhere(client, schema, role);
      }),
    );
  });
  settings.logger?.info({ schema, role }, 'database schema and role ready');
}

/**
 * Grants on tables and sequences that already exist, and takes back what the runtime role must
 * not do even there: rewrite migration history, or change the append-only audit log. Run again
 * after migrations, because a migration run by a role other than the bootstrapping one is not
 * covered by the default privileges.
 */
export async function grantRuntimeAccess(
  adminUrl: string,
  schema: string,
  role: string,
  migrationsTableName = 'migrations',
): Promise<void> {
  assertIdentifier(schema, 'schema');
  assertIdentifier(role, 'role');
  await withClient(adminUrl, (client) =>
    retryOnConcurrentCatalogUpdate(() =>
      inBootstrapTransaction(client, () =>
        grantOnExistingObjects(client, schema, role, migrationsTableName),
      ),
    ),
  );
}

async function grantOnExistingObjects(
  client: pg.Client,
  schema: string,
  role: string,
  migrationsTableName = 'migrations',
): Promise<void> {
  await client.query(
    `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${schema} TO ${role}`,
  );
  await client.query(`GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA ${schema} TO ${role}`);
  const readOnly: Array<[table: string, revoke: string]> = [
    [migrationsTableName, 'INSERT, UPDATE, DELETE, TRUNCATE'],
    ['audit_logs', 'UPDATE, DELETE, TRUNCATE'],
  ];
  for (const [table, revoke] of readOnly) {
    const qualified = `${schema}.${quoteIdentifier(table)}`;
    const exists = await client.query('SELECT to_regclass($1) IS NOT NULL AS present', [qualified]);
    if ((exists.rows[0] as { present: boolean }).present) {
      await client.query(`REVOKE ${revoke} ON ${qualified} FROM ${role}`);
    }
  }
  await restrictAuditLogPartitions(client, schema, role);
}

/**
 * A partitioned audit log's partitions are tables of the schema too, so the GRANT above gives
 * the runtime role UPDATE and DELETE on them: taken back, like on `audit_logs` itself. Matched
 * by name (`audit_logs_*`), so a partition detached for archiving stays covered. The role gets
 * EXECUTE on the one function that creates the coming months' partitions (it runs as the owner).
 */
async function restrictAuditLogPartitions(
  client: pg.Client,
  schema: string,
  role: string,
): Promise<void> {
  const partitions = await client.query<{ relname: string }>(
    `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND c.relname LIKE 'audit\\_logs\\_%'`,
    [schema],
  );
  for (const { relname } of partitions.rows) {
    await client.query(
      `REVOKE UPDATE, DELETE, TRUNCATE ON ${schema}.${quoteIdentifier(relname)} FROM ${role}`,
    );
  }
  const ensure = `${schema}.audit_logs_ensure_partitions(integer)`;
  const found = await client.query('SELECT to_regprocedure($1) IS NOT NULL AS present', [ensure]);
  if ((found.rows[0] as { present: boolean }).present) {
    await client.query(`GRANT EXECUTE ON FUNCTION ${ensure} TO ${role}`);
  }
}

/**
 * Nothing on `public` (Postgres 15 already denies CREATE there to PUBLIC; older clusters and
 * restored dumps may not) and nothing on other services' schemas, whatever an earlier manual
 * grant gave. REVOKE of a privilege that was never granted is a no-op, so this is cheap.
 */
async function revokeElsewhere(client: pg.Client, schema: string, role: string): Promise<void> {
  await client.query('SAVEPOINT revoke_public');
  try {
    await client.query('REVOKE CREATE ON SCHEMA public FROM PUBLIC');
    await client.query('RELEASE SAVEPOINT revoke_public');
  } catch (error) {
    // Only public's owner may revoke there; a non-owner migration role leaves it as it is.
    if (pgErrorCode(error) !== PgErrorCode.insufficientPrivilege) throw error;
    await client.query('ROLLBACK TO SAVEPOINT revoke_public');
  }
  const others = await client.query<{ nspname: string }>(
    `SELECT nspname FROM pg_namespace
      WHERE nspname <> $1 AND nspname <> 'information_schema' AND nspname NOT LIKE 'pg\\_%'`,
    [schema],
  );
  for (const { nspname } of others.rows) {
    const other = quoteIdentifier(nspname);
    await client.query(`REVOKE ALL ON SCHEMA ${other} FROM ${role}`);
    await client.query(`REVOKE ALL ON ALL TABLES IN SCHEMA ${other} FROM ${role}`);
    await client.query(`REVOKE ALL ON ALL SEQUENCES IN SCHEMA ${other} FROM ${role}`);
  }
}

async function inBootstrapTransaction(client: pg.Client, work: () => Promise<void>): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [BOOTSTRAP_LOCK]);
    await work();
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  }
}

/** Database, schema and role: everything a service needs before its migrations can run. */
export async function bootstrapDatabase(settings: BootstrapSettings): Promise<void> {
  await ensureDatabase(settings.adminUrl, settings.logger);
  await ensureSchemaAndRole(settings);
}
