import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { JsonObject } from './diff.js';

export const AUDIT_ACTIONS = ['create', 'update', 'delete', 'view', 'export'] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/**
 * A row of the service's `audit_logs` table, for reading history (add it to the DataSource's
 * entities). Writes go through `recordAudit`, which does not need the entity registered.
 * The table is append-only: the database refuses UPDATE, DELETE and TRUNCATE. Once partitioned
 * by month (`createAuditLogsPartitioningMigration`) its key in the database is (id, created_at);
 * `id` alone, as declared here, is enough for reading.
 */
@Entity({ name: 'audit_logs' })
@Index('audit_logs_user_id_created_at_idx', ['userId', 'createdAt'])
@Index('audit_logs_entity_created_at_idx', ['entityType', 'entityId', 'createdAt'])
export class AuditLog {
  @PrimaryGeneratedColumn('uuid', { name: 'id' })
  id!: string;

  /** Who acted; null for system actions (a saga step, a timer). */
  @Column({ name: 'user_id', type: 'uuid', nullable: true })
  userId!: string | null;

  @Column({ name: 'entity_type', type: 'text' })
  entityType!: string;

  @Column({ name: 'entity_id', type: 'uuid' })
  entityId!: string;

  @Column({ name: 'action', type: 'text' })
  action!: AuditAction;

  @Column({ name: 'old_values', type: 'jsonb', nullable: true })
  oldValues!: JsonObject | null;

  @Column({ name: 'new_values', type: 'jsonb', nullable: true })
  newValues!: JsonObject | null;

  @Column({ name: 'ip_address', type: 'varchar', length: 45, nullable: true })
  ipAddress!: string | null;

  @Column({ name: 'user_agent', type: 'text', nullable: true })
  userAgent!: string | null;

  @Column({ name: 'request_id', type: 'text', nullable: true })
  requestId!: string | null;

  @Column({ name: 'correlation_id', type: 'text', nullable: true })
  correlationId!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
