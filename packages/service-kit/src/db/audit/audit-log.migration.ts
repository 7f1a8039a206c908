import type { MigrationInterface, QueryRunner } from 'typeorm';
import { assertIdentifier, quoteLiteral } from '../identifiers.js';
import { AUDIT_ACTIONS } from './audit-log.entity.js';

/** Runs first among a service's migrations unless the service picks another timestamp. */
export const AUDIT_LOGS_MIGRATION_TIMESTAMP = 1_700_000_000_000;

function inList(values: readonly string[]): string {
  return values.map(quoteLiteral).join(', ');
}

/**
 * The entity types a service audits differ per service (users: user, address, payment_method;
 * orders: order; ...), so the CHECK is built from the service's list. To allow a new type
 * later, a new migration runs `auditEntityTypeCheckSql(newList)`.
 */
export function auditEntityTypeCheckSql(entityTypes: readonly string[]): string[] {
  if (!entityTypes.length) throw new Error('audit_logs needs at least one entity type');
  for (const type of entityTypes) assertIdentifier(type, 'audit entity type');
  return [
    'ALTER TABLE audit_logs DROP CONSTRAINT IF EXISTS audit_logs_entity_type_check',
    `ALTER TABLE audit_logs ADD CONSTRAINT audit_logs_entity_type_check CHECK (entity_type IN (${inList(entityTypes)}))`,
  ];
}

/**
 * The reviewed SQL of the audit table (unqualified: search_path puts it in the service's
 * schema). CHECKs carry database-design 3.1.5: a fixed set of actions, no old values on create,
 * no new values on delete. The trigger makes the table append-only for every role, owner
 * included; only dropping the trigger (a reviewed migration) could change that.
 */
export function auditLogsSql(entityTypes: readonly string[]): string[] {
  return [
    `CREATE TABLE audit_logs (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      user_id uuid NULL,
      entity_type text NOT NULL,
      entity_id uuid NOT NULL,
      action text NOT NULL CONSTRAINT audit_logs_action_check CHECK (action IN (${inList(AUDIT_ACTIONS)})),
      old_values jsonb NULL,
      new_values jsonb NULL,
      ip_address varchar(45) NULL,
      user_agent text NULL,
      request_id text NULL,
      correlation_id text NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT audit_logs_create_has_no_old_values CHECK (action <> 'create' OR old_values IS NULL),
      CONSTRAINT audit_logs_delete_has_no_new_values CHECK (action <> 'delete' OR new_values IS NULL)
    )`,
    ...auditEntityTypeCheckSql(entityTypes).slice(1),
    'CREATE INDEX audit_logs_user_id_created_at_idx ON audit_logs (user_id, created_at)',
    'CREATE INDEX audit_logs_entity_created_at_idx ON audit_logs (entity_type, entity_id, created_at)',
    `CREATE FUNCTION audit_logs_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
       RAISE EXCEPTION 'audit_logs is append-only: % refused', TG_OP
         USING ERRCODE = 'insufficient_privilege';
     END
     $$`,
    `CREATE TRIGGER audit_logs_append_only BEFORE UPDATE OR DELETE ON audit_logs
       FOR EACH ROW EXECUTE FUNCTION audit_logs_refuse_change()`,
    `CREATE TRIGGER audit_logs_no_truncate BEFORE TRUNCATE ON audit_logs
       FOR EACH STATEMENT EXECUTE FUNCTION audit_logs_refuse_change()`,
  ];
}

export interface AuditLogsMigrationOptions {
  /** The entity types this service audits, e.g. ['order'] or ['user', 'address']. */
  entityTypes: readonly string[];
  /** The migration's timestamp (ms); default AUDIT_LOGS_MIGRATION_TIMESTAMP. */
  timestamp?: number;
}

/**
 * A migration class creating the service's `audit_logs` table; put it in the service's
 * migrations list: `migrations: [createAuditLogsMigration({ entityTypes: ['order'] }), ...]`.
 * Its name (`CreateAuditLogs<timestamp>`) is what TypeORM records in the migrations table.
 */
export function createAuditLogsMigration(
  options: AuditLogsMigrationOptions,
): new () => MigrationInterface {
  const timestamp = options.timestamp ?? AUDIT_LOGS_MIGRATION_TIMESTAMP;
  const statements = auditLogsSql(options.entityTypes);
  const name = `CreateAuditLogs${timestamp}`;
  const migration = class implements MigrationInterface {
    name = name;

    async up(queryRunner: QueryRunner): Promise<void> {
      for (const statement of statements) await queryRunner.query(statement);
    }

    // For development resets only: in production the audit log is never dropped.
    async down(queryRunner: QueryRunner): Promise<void> {
      await queryRunner.query('DROP TABLE audit_logs');
      await queryRunner.query('DROP FUNCTION audit_logs_refuse_change()');
    }
  };
  Object.defineProperty(migration, 'name', { value: name });
  return migration;
}
