import { randomUUID } from 'node:crypto';
import { envelopeValidator, type Envelope, type MessageContract } from '@shop/contracts';
import { currentContext } from '../context.js';

export interface EnvelopeOptions {
  /** Defaults to the current context's correlation id, else the new message's own id. */
  correlationId?: string;
  /**
   * Defaults to the current context's causation id (the message being handled), else its
   * request id, else the new message's own id (a root message causes itself).
   */
  causationId?: string;
  /** Defaults to now; injectable for tests. */
  occurredAt?: Date;
  /** Defaults to a random UUID v4; injectable for tests. */
  id?: string;
}

/** Thrown when data does not match its contract: the message would be refused downstream. */
export class InvalidMessageError extends Error {
  override readonly name = 'InvalidMessageError';
}

/**
 * Builds a checked envelope. Ids come from the trace context so one order's messages share a
 * correlation id and each points at the message (or request) that caused it.
 */
export function buildEnvelope<Data>(
  contract: MessageContract,
  data: Data,
  options: EnvelopeOptions = {},
): Envelope<Data> {
  if (!contract.validator.Check(data)) {
    throw new InvalidMessageError(
      `${contract.type} v${contract.version}: ${describeErrors(contract.validator.Errors(data))}`,
    );
  }
  const context = currentContext();
  const id = options.id ?? randomUUID();
  return {
    id,
    type: contract.type,
    version: contract.version,
    occurredAt: (options.occurredAt ?? new Date()).toISOString(),
    correlationId: options.correlationId ?? context?.correlationId ?? id,
    causationId: options.causationId ?? context?.causationId ?? context?.requestId ?? id,
    data,
  };
}

export type ParsedEnvelope = { ok: true; envelope: Envelope } | { ok: false; error: string };

/** Decodes and checks the envelope of an incoming message (not its data: that needs the contract). */
export function parseEnvelope(payload: Uint8Array | string): ParsedEnvelope {
  let value: unknown;
  try {
    value = JSON.parse(typeof payload === 'string' ? payload : Buffer.from(payload).toString());
  } catch (error) {
    return { ok: false, error: `payload is not JSON: ${(error as Error).message}` };
  }
  if (!envelopeValidator.Check(value)) {
    return {
      ok: false,
      error: `invalid envelope: ${describeErrors(envelopeValidator.Errors(value))}`,
    };
  }
  return { ok: true, envelope: value as Envelope };
}

/** A short, single-line summary of validation errors for logs and dead letters. */
export function describeErrors(
  errors: readonly { instancePath: string; message: string }[],
): string {
  if (errors.length === 0) return 'invalid';
  const shown = errors.slice(0, 5).map((e) => `${e.instancePath || '/'} ${e.message}`);
  return errors.length > 5 ? `${shown.join('; ')}; …` : shown.join('; ');
}
