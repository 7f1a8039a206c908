import { describe, expect, it } from 'vitest';
import {
  findMessageContract,
  messageCatalog,
  ReserveStock,
  SERVICE_NAMES,
  streamSubjects,
  subjectsOwnedBy,
} from '../src/index.js';

const SUBJECT = /^(users|inventory|payments|orders)\.(events\.[a-z-]+\.[a-z-]+|commands\.[a-z-]+)$/;

/** Whether a NATS subject pattern (`*` one token, `>` the rest) matches a subject. */
function subjectMatches(pattern: string, subject: string): boolean {
  const wanted = pattern.split('.');
  const tokens = subject.split('.');
  for (const [index, token] of wanted.entries()) {
    if (token === '>') return tokens.length > index;
    if (token !== '*' && token !== tokens[index]) return false;
  }
  return wanted.length === tokens.length;
}

function setsAdditionalPropertiesFalse(schema: unknown): boolean {
  if (typeof schema !== 'object' || schema === null) return false;
  if ((schema as Record<string, unknown>).additionalProperties === false) return true;
  return Object.values(schema).some(setsAdditionalPropertiesFalse);
}

describe('messageCatalog', () => {
  it('holds each (type, version) once', () => {
    const keys = messageCatalog.map((contract) => `${contract.type}@${contract.version}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('names every message after its subject', () => {
    for (const contract of messageCatalog) expect(contract.type).toMatch(SUBJECT);
  });

  it('never forbids unknown fields in message data, so producers can add optional ones', () => {
    const strict = messageCatalog.filter((contract) =>
      setsAdditionalPropertiesFalse(contract.schema),
    );
    expect(strict.map((contract) => contract.type)).toEqual([]);
  });
});

describe('findMessageContract', () => {
  it('finds a contract by type and version', () => {
    expect(findMessageContract('inventory.commands.reserve', 1)).toBe(ReserveStock);
  });

  it('finds nothing for a version or type it does not know', () => {
    expect(findMessageContract('inventory.commands.reserve', 2)).toBeUndefined();
    expect(findMessageContract('inventory.commands.teleport', 1)).toBeUndefined();
  });
});

describe('streamSubjects', () => {
  it("puts every message in exactly one stream, its owner's", () => {
    for (const contract of messageCatalog) {
      const owners = SERVICE_NAMES.filter((service) =>
        streamSubjects[service].some((pattern) => subjectMatches(pattern, contract.type)),
      );
      expect(owners).toEqual([contract.type.split('.')[0]]);
    }
  });

  it('lists the exact events and commands a service owns', () => {
    expect(subjectsOwnedBy('payments')).toEqual({
      events: [
        'payments.events.charge.declined',
        'payments.events.charge.failed',
        'payments.events.charge.succeeded',
        'payments.events.refund.failed',
        'payments.events.refund.succeeded',
      ],
      commands: ['payments.commands.charge', 'payments.commands.refund'],
    });
    expect(subjectsOwnedBy('orders').commands).toEqual([]);
  });
});
