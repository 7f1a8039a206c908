import type { EntityManager } from 'typeorm';
import { currentContext } from '../../context.js';
import type { AuditAction } from './audit-log.entity.js';
import { diffRecords, snapshot, type DiffOptions, type JsonObject } from './diff.js';

export interface AuditEntry extends DiffOptions {
  entityType: string;
  entityId: string;
  action: AuditAction;
  /** The record before the change (update, delete). */
  before?: object | null;
  /** The record after the change (create, update); for view/export, optional details. */
  after?: object | null;
  /** Who acted; null or absent for system actions. */
  userId?: string | null;
  ipAddress?: string | null;
  userAgent?: string | null;
  /** Default: the request id / correlation id of the current trace context. */
  requestId?: string | null;
  correlationId?: string | null;
}

export interface RecordedAudit {
  id: string;
  oldValues: JsonObject | null;
  newValues: JsonObject | null;
}

/**
 * Writes one audit row with `manager`, i.e. inside the caller's transaction: the row commits
 * with the change it describes and rolls back with it. Values recorded:
 *   create: new = the whole `after`;  delete (soft or hard): old = the whole `before`;
 *   update: only the changed fields, old and new (nothing is written, and null is returned,
 *   when nothing changed);  view/export: new = `after` when given (what was exported).
 * `updatedAt` is left out and `password`/`passwordHash` masked unless `ignore`/`redact` say
 * otherwise. Plain SQL on the unqualified `audit_logs` (search_path finds the service's own).
 */
export async function recordAudit(
  manager: EntityManager,
  entry: AuditEntry,
): Promise<RecordedAudit | null> {
  let oldValues: JsonObject | null = null;
  let newValues: JsonObject | null = null;
  switch (entry.action) {
    case 'create':
      newValues = entry.after ? snapshot(entry.after, entry) : null;
      break;
    case 'delete':
      oldValues = entry.before ? snapshot(entry.before, entry) : null;
      break;
    case 'update': {
      const diff = diffRecords(entry.before ?? {}, entry.after ?? {}, entry);
      if (!diff) return null;
      ({ oldValues, newValues } = diff);
      break;
    }
    case 'view':
    case 'export':
      newValues = entry.after ? snapshot(entry.after, entry) : null;
      break;
  }
  const context = currentContext();
  const rows = (await manager.query(
    `INSERT INTO audit_logs
       (user_id, entity_type, entity_id, action, old_values, new_values,
        ip_address, user_agent, request_id, correlation_id)
     VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7, $8, $9, $10)
     RETURNING id`,
    [
      entry.userId ?? null,
      entry.entityType,
      entry.entityId,
      entry.action,
      oldValues === null ? null : JSON.stringify(oldValues),
      newValues === null ? null : JSON.stringify(newValues),
      entry.ipAddress ?? null,
      entry.userAgent ?? null,
      entry.requestId ?? context?.requestId ?? null,
      entry.correlationId ?? context?.correlationId ?? null,
    ],
  )) as Array<{ id: string }>;
  const id = rows[0]?.id;
  if (!id) throw new Error('audit_logs insert returned no id');
  return { id, oldValues, newValues };
}
