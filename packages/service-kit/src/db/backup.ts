import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { withClient } from './bootstrap.js';
import { assertIdentifier, quoteIdentifier } from './identifiers.js';

const run = promisify(execFile);

/**
 * Logical backups per service schema (database-design 3.5.1, tier 3): `pg_dump -Fc` (custom
 * format: compressed, restorable selectively and in parallel) and `pg_restore` into a target
 * database, then a row-count comparison as the sanity check the restore drill asks for.
 * The password travels in PGPASSWORD, never on the command line where `ps` would show it.
 */

function clientEnvironment(url: string): { dbUrl: string; env: NodeJS.ProcessEnv } {
  const parsed = new URL(url);
  const password = decodeURIComponent(parsed.password);
  parsed.password = '';
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (password) env.PGPASSWORD = password;
  return { dbUrl: parsed.toString(), env };
}

export interface BackupSettings {
  /** URL of the database holding the schema (a role that can read all of it). */
  url: string;
  schema: string;
  /** Where the custom-format archive goes, e.g. `backups/users-20260101T0300.dump`. */
  file: string;
  /** Default `pg_dump` from PATH; must be the server's major version or newer. */
  pgDumpPath?: string;
}

/** `pg_dump -Fc --schema=<schema>`: the schema, its tables, data, functions and grants. */
export async function backupSchema(settings: BackupSettings): Promise<void> {
  const schema = assertIdentifier(settings.schema, 'schema');
  const { dbUrl, env } = clientEnvironment(settings.url);
  await run(
    settings.pgDumpPath ?? 'pg_dump',
    ['--format=custom', `--schema=${schema}`, `--file=${settings.file}`, `--dbname=${dbUrl}`],
    { env, maxBuffer: 16 * 1024 * 1024 },
  );
}

export interface RestoreSettings {
  /** URL of the target database: a scratch database for a drill, an empty one for recovery. */
  url: string;
  file: string;
  /**
   * Skip ownership (ALTER ... OWNER) and grants: for a cluster where the original roles do not
   * exist. Default false, i.e. a faithful copy.
   */
  noOwner?: boolean;
  noPrivileges?: boolean;
  /** Parallel jobs for data and indexes. Default 1. */
  jobs?: number;
  pgRestorePath?: string;
}

/** `pg_restore --exit-on-error`: a partial restore fails loudly instead of passing quietly. */
export async function restoreBackup(settings: RestoreSettings): Promise<void> {
  const { dbUrl, env } = clientEnvironment(settings.url);
  const args = ['--exit-on-error', `--dbname=${dbUrl}`, `--jobs=${settings.jobs ?? 1}`];
  if (settings.noOwner) args.push('--no-owner');
  if (settings.noPrivileges) args.push('--no-privileges');
  args.push(settings.file);
  await run(settings.pgRestorePath ?? 'pg_restore', args, { env, maxBuffer: 16 * 1024 * 1024 });
}

/** Exact `count(*)` of every table of the schema (not the planner's estimate). */
export async function countRows(url: string, schema: string): Promise<Record<string, number>> {
  assertIdentifier(schema, 'schema');
  return withClient(url, async (client) => {
    const tables = await client.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables
        WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY table_name`,
      [schema],
    );
    const counts: Record<string, number> = {};
    for (const { table_name } of tables.rows) {
      const result = await client.query<{ count: string }>(
        `SELECT count(*) AS count FROM ${quoteIdentifier(schema)}.${quoteIdentifier(table_name)}`,
      );
      counts[table_name] = Number(result.rows[0]?.count ?? 0);
    }
    return counts;
  });
}

export interface RestoreCheck {
  ok: boolean;
  source: Record<string, number>;
  target: Record<string, number>;
  /** Tables whose counts differ or that exist on one side only. */
  mismatches: string[];
}

/** Compares the row counts of `schema` in the source and restored databases. */
export async function verifyRestore(settings: {
  sourceUrl: string;
  targetUrl: string;
  schema: string;
}): Promise<RestoreCheck> {
  const source = await countRows(settings.sourceUrl, settings.schema);
  const target = await countRows(settings.targetUrl, settings.schema);
  const tables = new Set([...Object.keys(source), ...Object.keys(target)]);
  const mismatches = [...tables].filter((table) => source[table] !== target[table]).sort();
  return { ok: mismatches.length === 0 && tables.size > 0, source, target, mismatches };
}
