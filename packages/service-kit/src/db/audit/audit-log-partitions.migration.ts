import type { MigrationInterface, QueryRunner } from 'typeorm';
import { assertIdentifier } from '../identifiers.js';

/**
 * Later than every service's earlier migrations (the latest, payments', is 1796000000000): the
 * table it converts must exist, and TypeORM runs migrations in timestamp order.
 */
export const AUDIT_LOGS_PARTITIONING_TIMESTAMP = 1_796_100_000_000;

/** Months of partitions kept ready after the current one, by the migration and the daily job. */
export const AUDIT_LOG_PARTITION_MONTHS_AHEAD = 3;

/**
 * Most months ahead one call may create: the function runs with the owner's rights on behalf
 * of the runtime role, so what a caller can ask of it is bounded.
 */
export const AUDIT_LOG_PARTITION_MAX_MONTHS_AHEAD = 24;

// Same names as the plain table's indexes (database-design: "2 indexes, plus partition
// pruning"), built as partitioned indexes: every partition gets its own, present and future.
const INDEXES_SQL = [
  'CREATE INDEX audit_logs_user_id_created_at_idx ON audit_logs (user_id, created_at)',
  'CREATE INDEX audit_logs_entity_created_at_idx ON audit_logs (entity_type, entity_id, created_at)',
];

// Row triggers of a partitioned table are cloned onto each partition, now and later ones.
const APPEND_ONLY_TRIGGER_SQL = `CREATE TRIGGER audit_logs_append_only BEFORE UPDATE OR DELETE ON audit_logs
  FOR EACH ROW EXECUTE FUNCTION audit_logs_refuse_change()`;

/**
 * `audit_logs_seal(table)`: the append-only rules on one table of the audit log. Statement
 * triggers are not cloned onto partitions, and TRUNCATE of a partition by name fires only the
 * partition's own triggers, so each partition gets its TRUNCATE trigger here. UPDATE, DELETE
 * and TRUNCATE privileges are taken back from every role but the owner: a new partition
 * receives the schema's default privileges, which grant the runtime role DML on every table.
 */
function sealFunctionSql(searchPath: string): string {
  return `CREATE FUNCTION audit_logs_seal(audit_table regclass) RETURNS void
    LANGUAGE plpgsql SET search_path = ${searchPath} AS $$
    DECLARE
      role_name text;
    BEGIN
      EXECUTE format(
        'CREATE TRIGGER audit_logs_no_truncate BEFORE TRUNCATE ON %s
           FOR EACH STATEMENT EXECUTE FUNCTION audit_logs_refuse_change()',
        audit_table);
      FOR role_name IN
        SELECT DISTINCT CASE WHEN acl.grantee = 0 THEN 'PUBLIC'
                             ELSE quote_ident(pg_get_userbyid(acl.grantee)) END
          FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) acl
         WHERE c.oid = audit_table
           AND acl.grantee <> c.relowner
           AND acl.privilege_type IN ('UPDATE', 'DELETE', 'TRUNCATE')
      LOOP
        EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON %s FROM %s', audit_table, role_name);
      END LOOP;
    END
    $$`;
}

/**
 * `audit_logs_create_month_partition(any_day)`: the partition `audit_logs_YYYY_MM` of the UTC
 * month holding `any_day`, unless it is already attached; true when this call created it.
 *
 * Postgres refuses to create a partition while DEFAULT holds rows in its range, and DEFAULT
 * holds some whenever a month began without its partition. Those rows are copied to a
 * temporary table, removed from DEFAULT with its append-only trigger disabled for this
 * transaction only, and inserted again through the parent once the partition exists: moved,
 * unchanged, never lost (any failure rolls all of it back). The ACCESS EXCLUSIVE lock, which
 * creating a partition takes anyway, is taken first: no insert can reach DEFAULT between the
 * copy and the removal, nobody else ever sees the trigger disabled, and a concurrent caller
 * waits, then finds the partition made. The lock is taken only when the partition is missing,
 * so the daily call blocks nothing on days it has nothing to do; lock_timeout keeps a call that
 * cannot get it from queueing inserts behind it (the next call tries again).
 *
 * Bounds are midnight UTC written out in ISO form, so neither the session's time zone nor its
 * DateStyle moves a month.
 */
function createMonthPartitionFunctionSql(searchPath: string): string {
  return `CREATE FUNCTION audit_logs_create_month_partition(any_day date) RETURNS boolean
    LANGUAGE plpgsql SET search_path = ${searchPath} SET lock_timeout = '5s' AS $$
    DECLARE
      first_day constant date := date_trunc('month', any_day)::date;
      partition_name constant text := 'audit_logs_' || to_char(first_day, 'YYYY_MM');
      lower_literal constant text := to_char(first_day, 'YYYY-MM-DD') || ' 00:00:00+00';
      upper_literal constant text :=
        to_char(first_day + interval '1 month', 'YYYY-MM-DD') || ' 00:00:00+00';
      lower_bound constant timestamptz := lower_literal;
      upper_bound constant timestamptz := upper_literal;
      held_rows boolean;
    BEGIN
      IF NOT EXISTS (SELECT 1 FROM pg_inherits
                      WHERE inhparent = 'audit_logs'::regclass
                        AND inhrelid = to_regclass(partition_name)) THEN
        LOCK TABLE audit_logs IN ACCESS EXCLUSIVE MODE;
      END IF;
      -- Again under the lock: a concurrent caller may have created it meanwhile.
      IF EXISTS (SELECT 1 FROM pg_inherits
                  WHERE inhparent = 'audit_logs'::regclass
                    AND inhrelid = to_regclass(partition_name)) THEN
        RETURN false;
      END IF;

      SELECT EXISTS (SELECT 1 FROM audit_logs_default
                      WHERE created_at >= lower_bound AND created_at < upper_bound)
        INTO held_rows;
      IF held_rows THEN
        CREATE TEMP TABLE audit_logs_moving ON COMMIT DROP AS
          SELECT * FROM audit_logs_default
           WHERE created_at >= lower_bound AND created_at < upper_bound;
        ALTER TABLE audit_logs_default DISABLE TRIGGER audit_logs_append_only;
        DELETE FROM audit_logs_default
         WHERE created_at >= lower_bound AND created_at < upper_bound;
        ALTER TABLE audit_logs_default ENABLE TRIGGER audit_logs_append_only;
      END IF;

      EXECUTE format('CREATE TABLE %I PARTITION OF audit_logs FOR VALUES FROM (%L) TO (%L)',
        partition_name, lower_literal, upper_literal);
      PERFORM audit_logs_seal(partition_name::regclass);

      IF held_rows THEN
        INSERT INTO audit_logs SELECT * FROM pg_temp.audit_logs_moving;
        -- Dropped now, not at commit: another month may need the name in this transaction.
        DROP TABLE pg_temp.audit_logs_moving;
      END IF;
      RETURN true;
    END
    $$`;
}

/**
 * `audit_logs_ensure_partitions(months_ahead)`: this month's and the next `months_ahead`
 * months' partitions, created when missing; returns how many it created. Services call it as
 * their runtime role, which may not run DDL: SECURITY DEFINER runs it as the owner (the
 * migration role), with search_path pinned to the schema and pg_temp last, so no object the
 * caller creates (a temporary table named audit_logs) can stand in for the real ones.
 */
function ensurePartitionsFunctionSql(searchPath: string): string {
  return `CREATE FUNCTION audit_logs_ensure_partitions(months_ahead integer) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = ${searchPath} AS $$
    DECLARE
      this_month constant date := date_trunc('month', now() AT TIME ZONE 'UTC')::date;
      created integer := 0;
    BEGIN
      IF months_ahead IS NULL
         OR months_ahead NOT BETWEEN 0 AND ${AUDIT_LOG_PARTITION_MAX_MONTHS_AHEAD} THEN
        RAISE EXCEPTION 'months_ahead must be between 0 and ${AUDIT_LOG_PARTITION_MAX_MONTHS_AHEAD}, got %',
          months_ahead USING ERRCODE = 'invalid_parameter_value';
      END IF;
      FOR step IN 0..months_ahead LOOP
        IF audit_logs_create_month_partition((this_month + make_interval(months => step))::date) THEN
          created := created + 1;
        END IF;
      END LOOP;
      RETURN created;
    END
    $$`;
}

/**
 * The partition functions of the schema `schema`. Only `audit_logs_ensure_partitions` is
 * meant for the runtime role (bootstrap grants it EXECUTE); nobody else gets EXECUTE.
 */
export function auditLogPartitionFunctionsSql(schema: string): string[] {
  const searchPath = `${assertIdentifier(schema, 'schema')}, pg_temp`;
  return [
    sealFunctionSql(searchPath),
    createMonthPartitionFunctionSql(searchPath),
    ensurePartitionsFunctionSql(searchPath),
    'REVOKE EXECUTE ON FUNCTION audit_logs_seal(regclass) FROM PUBLIC',
    'REVOKE EXECUTE ON FUNCTION audit_logs_create_month_partition(date) FROM PUBLIC',
    'REVOKE EXECUTE ON FUNCTION audit_logs_ensure_partitions(integer) FROM PUBLIC',
  ];
}

async function currentSchema(queryRunner: QueryRunner): Promise<string> {
  const [row] = (await queryRunner.query('SELECT current_schema() AS schema')) as Array<{
    schema: string | null;
  }>;
  if (!row?.schema) throw new Error('search_path names no existing schema');
  return row.schema;
}

async function rowCount(queryRunner: QueryRunner, table: string): Promise<number> {
  const [row] = (await queryRunner.query(
    `SELECT count(*)::bigint AS count FROM ${table}`,
  )) as Array<{
    count: string;
  }>;
  return Number(row?.count ?? 0);
}

/**
 * The plain table steps aside under its own lock: inserts wait for the migration (lock_timeout
 * makes it fail fast rather than queue every request behind a long transaction). Its indexes
 * are renamed too, since index names share the schema's namespace with the new ones.
 */
async function setAsidePlainTable(queryRunner: QueryRunner): Promise<void> {
  await queryRunner.query(`SET LOCAL lock_timeout = '5s'`);
  await queryRunner.query('LOCK TABLE audit_logs IN ACCESS EXCLUSIVE MODE');
  await queryRunner.query('ALTER TABLE audit_logs RENAME TO audit_logs_unpartitioned');
  for (const index of [
    'audit_logs_pkey',
    'audit_logs_user_id_created_at_idx',
    'audit_logs_entity_created_at_idx',
  ]) {
    await queryRunner.query(
      `ALTER INDEX ${index} RENAME TO ${index.replace('audit_logs', 'audit_logs_unpartitioned')}`,
    );
  }
}

/**
 * The partitioned table takes its columns, defaults and CHECKs from the table it replaces
 * (LIKE), so it keeps whatever entity types this service's migrations allowed so far, under
 * the same constraint names. Its primary key and indexes come after the rows (built once, not
 * row by row); a unique key on a partitioned table must hold the partition key, hence
 * (id, created_at).
 */
async function createPartitionedTable(queryRunner: QueryRunner, schema: string): Promise<void> {
  await queryRunner.query(
    `CREATE TABLE audit_logs (LIKE audit_logs_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
       PARTITION BY RANGE (created_at)`,
  );
  for (const statement of auditLogPartitionFunctionsSql(schema)) await queryRunner.query(statement);
  await queryRunner.query(`SELECT audit_logs_seal('audit_logs')`);
  await queryRunner.query(APPEND_ONLY_TRIGGER_SQL);
  // Catches a row whose month has no partition (the daily job failed for months), so an insert
  // never fails for want of one; the month's partition, when created, takes its rows back.
  await queryRunner.query('CREATE TABLE audit_logs_default PARTITION OF audit_logs DEFAULT');
  await queryRunner.query(`SELECT audit_logs_seal('audit_logs_default')`);
}

/**
 * A partition for every month from the oldest row's to this one (to the newest row's, should
 * a clock have run ahead), then the next few: history is browsable and archivable month by
 * month, and DEFAULT starts empty.
 */
async function createMonthPartitions(queryRunner: QueryRunner, monthsAhead: number): Promise<void> {
  const months = (await queryRunner.query(
    `SELECT to_char(month, 'YYYY-MM-DD') AS month
       FROM (SELECT date_trunc('month', min(created_at) AT TIME ZONE 'UTC') AS first_month,
                    date_trunc('month', greatest(max(created_at), now()) AT TIME ZONE 'UTC') AS last_month
               FROM audit_logs_unpartitioned) AS span,
            generate_series(span.first_month, span.last_month, interval '1 month') AS month`,
  )) as Array<{ month: string }>;
  for (const { month } of months) {
    await queryRunner.query('SELECT audit_logs_create_month_partition($1::date)', [month]);
  }
  await queryRunner.query('SELECT audit_logs_ensure_partitions($1)', [monthsAhead]);
}

/** Every row moves, checked by count before the plain table goes. */
async function moveRows(queryRunner: QueryRunner): Promise<void> {
  // LIKE gave both tables the same columns in the same order.
  await queryRunner.query('INSERT INTO audit_logs SELECT * FROM audit_logs_unpartitioned');
  const before = await rowCount(queryRunner, 'audit_logs_unpartitioned');
  const after = await rowCount(queryRunner, 'audit_logs');
  if (before !== after) {
    throw new Error(`audit_logs partitioning moved ${after} of ${before} rows; rolled back`);
  }
  await queryRunner.query('DROP TABLE audit_logs_unpartitioned');
}

async function indexPartitionedTable(queryRunner: QueryRunner): Promise<void> {
  await queryRunner.query(
    'ALTER TABLE audit_logs ADD CONSTRAINT audit_logs_pkey PRIMARY KEY (id, created_at)',
  );
  for (const statement of INDEXES_SQL) await queryRunner.query(statement);
}

/**
 * Back to one plain table, rows kept (development resets only: production never runs down).
 * Partitions detached for archiving are not part of the table any more and are left alone.
 */
async function unpartition(queryRunner: QueryRunner): Promise<void> {
  await queryRunner.query(`SET LOCAL lock_timeout = '5s'`);
  await queryRunner.query('LOCK TABLE audit_logs IN ACCESS EXCLUSIVE MODE');
  await queryRunner.query(
    'CREATE TABLE audit_logs_unpartitioned (LIKE audit_logs INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
  );
  await queryRunner.query('INSERT INTO audit_logs_unpartitioned SELECT * FROM audit_logs');
  await queryRunner.query('DROP TABLE audit_logs');
  await queryRunner.query('DROP FUNCTION audit_logs_ensure_partitions(integer)');
  await queryRunner.query('DROP FUNCTION audit_logs_create_month_partition(date)');
  await queryRunner.query('DROP FUNCTION audit_logs_seal(regclass)');
  await queryRunner.query('ALTER TABLE audit_logs_unpartitioned RENAME TO audit_logs');
  await queryRunner.query('ALTER TABLE audit_logs ADD CONSTRAINT audit_logs_pkey PRIMARY KEY (id)');
  for (const statement of INDEXES_SQL) await queryRunner.query(statement);
  await queryRunner.query(APPEND_ONLY_TRIGGER_SQL);
  await queryRunner.query(
    `CREATE TRIGGER audit_logs_no_truncate BEFORE TRUNCATE ON audit_logs
       FOR EACH STATEMENT EXECUTE FUNCTION audit_logs_refuse_change()`,
  );
}

export interface AuditLogsPartitioningOptions {
  /** The migration's timestamp (ms); default AUDIT_LOGS_PARTITIONING_TIMESTAMP. */
  timestamp?: number;
  /** Months of partitions created ahead of the current one; default 3. */
  monthsAhead?: number;
}

/**
 * A migration class turning the service's `audit_logs` (made by `createAuditLogsMigration`)
 * into a table partitioned by month of `created_at` (database-design 3.2.3): partitions
 * `audit_logs_YYYY_MM` (UTC months) plus `audit_logs_default`, every row, CHECK, index and
 * append-only rule kept, and the functions that create later months' partitions. Put it in
 * the service's migrations list after its other migrations:
 * `migrations: [..., createAuditLogsPartitioningMigration()]`.
 * Its name (`PartitionAuditLogs<timestamp>`) is what TypeORM records in the migrations table.
 */
export function createAuditLogsPartitioningMigration(
  options: AuditLogsPartitioningOptions = {},
): new () => MigrationInterface {
  const timestamp = options.timestamp ?? AUDIT_LOGS_PARTITIONING_TIMESTAMP;
  const monthsAhead = options.monthsAhead ?? AUDIT_LOG_PARTITION_MONTHS_AHEAD;
  const name = `PartitionAuditLogs${timestamp}`;
  const migration = class implements MigrationInterface {
    name = name;

    async up(queryRunner: QueryRunner): Promise<void> {
      const schema = await currentSchema(queryRunner);
      await setAsidePlainTable(queryRunner);
      await createPartitionedTable(queryRunner, schema);
      await createMonthPartitions(queryRunner, monthsAhead);
      await moveRows(queryRunner);
      await indexPartitionedTable(queryRunner);
    }

    // For development resets only: in production the audit log is never dropped.
    async down(queryRunner: QueryRunner): Promise<void> {
      await unpartition(queryRunner);
    }
  };
  Object.defineProperty(migration, 'name', { value: name });
  return migration;
}
