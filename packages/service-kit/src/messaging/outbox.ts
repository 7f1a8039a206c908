import type { Envelope, MessageContract, MessageData } from '@shop/contracts';
import type { EntityManager } from 'typeorm';
import { buildEnvelope, type EnvelopeOptions } from './envelope.js';

/**
 * NOTIFY channel the relay LISTENs on. It carries the schema name because several services
 * share one database (one schema each) and a relay must only wake for its own outbox. SQL
 * derives it from `current_schema()`, i.e. the connection's search_path.
 */
export function outboxChannel(schema: string): string {
  return `outbox_${schema}`;
}

// One round trip: insert and notify together. NOTIFY inside a transaction is delivered only on
// commit (and never after a rollback), and identical notifications in one transaction fold
// into one, so a transaction that enqueues many messages wakes the relay once.
const INSERT_AND_NOTIFY = `
  WITH inserted AS (
    INSERT INTO outbox (id, type, version, subject, payload)
    VALUES ($1, $2, $3, $4, $5::jsonb)
    RETURNING 1
  )
  SELECT pg_notify('outbox_' || current_schema(), '') FROM inserted`;

/**
 * Adds a message to the outbox inside the caller's transaction, so it is published if and only
 * if the state change it describes commits. `manager` must be the transaction's EntityManager
 * (from `dataSource.transaction(manager => …)` or a handler's context).
 */
export async function enqueueMessage<Contract extends MessageContract>(
  manager: EntityManager,
  contract: Contract,
  data: MessageData<Contract>,
  options?: EnvelopeOptions,
): Promise<Envelope<MessageData<Contract>>> {
  if (!manager.queryRunner?.isTransactionActive) {
    // Outside a transaction the row would commit on its own, defeating the outbox.
    throw new Error(`enqueueMessage(${contract.type}) needs the EntityManager of a transaction`);
  }
  const envelope = buildEnvelope(contract, data, options);
  await manager.query(INSERT_AND_NOTIFY, [
    envelope.id,
    envelope.type,
    envelope.version,
    envelope.type,
    JSON.stringify(envelope),
  ]);
  return envelope;
}
