import { describe, expect, it } from 'vitest';
import { runWithContext } from '../../src/context.js';
import {
  buildEnvelope,
  computeBackoff,
  createNamespace,
  DEFAULT_MAX_DELIVER,
  deliveryLimitOf,
  InvalidMessageError,
  parseEnvelope,
} from '../../src/messaging/index.js';
import { WorkCommand } from './helpers.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('computeBackoff', () => {
  const policy = { initialMs: 100, maxMs: 1_000 };

  it('doubles from the initial delay and stops at the cap', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => computeBackoff(n, policy))).toEqual([
      100, 200, 400, 800, 1_000, 1_000,
    ]);
  });

  it('never overflows for huge attempt numbers', () => {
    expect(computeBackoff(10_000, policy)).toBe(1_000);
  });

  it('treats attempt 0 or below as the first', () => {
    expect(computeBackoff(0, policy)).toBe(100);
  });

  it('honours a custom factor', () => {
    expect(computeBackoff(3, { ...policy, factor: 3 })).toBe(900);
  });

  it('jitter only shortens the delay, by at most its fraction', () => {
    const jittered = { ...policy, jitter: 0.5 };
    expect(computeBackoff(2, jittered, () => 0)).toBe(200);
    expect(computeBackoff(2, jittered, () => 0.999999)).toBe(100);
    expect(computeBackoff(2, jittered, () => 0.5)).toBe(150);
  });
});

describe('createNamespace', () => {
  it('prefixes subjects and streams, and strips the prefix back', () => {
    const ns = createNamespace('t_x');
    expect(ns.subject('inventory.commands.reserve')).toBe('t_x.inventory.commands.reserve');
    expect(ns.stream('INVENTORY')).toBe('t_x_INVENTORY');
    expect(ns.strip('t_x.inventory.commands.reserve')).toBe('inventory.commands.reserve');
    expect(ns.strip('other.inventory.commands.reserve')).toBeUndefined();
  });

  it('leaves names alone without a prefix (production)', () => {
    const ns = createNamespace('');
    expect(ns.subject('a.b')).toBe('a.b');
    expect(ns.stream('A')).toBe('A');
    expect(ns.strip('a.b')).toBe('a.b');
  });

  it('refuses a prefix that would break subjects or stream names', () => {
    expect(() => createNamespace('a.b')).toThrow(/invalid messaging namespace/);
  });
});

describe('buildEnvelope', () => {
  it('builds a valid envelope that is its own correlation and causation outside any context', () => {
    const envelope = buildEnvelope(WorkCommand, { n: 1 });
    expect(envelope.id).toMatch(UUID);
    expect(envelope).toMatchObject({
      type: 'demo.commands.work',
      version: 1,
      correlationId: envelope.id,
      causationId: envelope.id,
      data: { n: 1 },
    });
    expect(new Date(envelope.occurredAt).toISOString()).toBe(envelope.occurredAt);
    expect(parseEnvelope(JSON.stringify(envelope))).toEqual({ ok: true, envelope });
  });

  it('takes correlation and causation from the current context', () => {
    const envelope = runWithContext({ correlationId: 'req-1', causationId: 'msg-0' }, () =>
      buildEnvelope(WorkCommand, { n: 2 }),
    );
    expect(envelope.correlationId).toBe('req-1');
    expect(envelope.causationId).toBe('msg-0');
  });

  it('uses the request id as causation inside an HTTP request', () => {
    const envelope = runWithContext({ correlationId: 'req-2', requestId: 'req-2' }, () =>
      buildEnvelope(WorkCommand, { n: 2 }),
    );
    expect(envelope.causationId).toBe('req-2');
  });

  it('lets explicit options win over the context', () => {
    const at = new Date('2030-01-02T03:04:05.000Z');
    const envelope = runWithContext({ correlationId: 'ctx' }, () =>
      buildEnvelope(
        WorkCommand,
        { n: 3 },
        { correlationId: 'c', causationId: 'k', occurredAt: at },
      ),
    );
    expect(envelope).toMatchObject({
      correlationId: 'c',
      causationId: 'k',
      occurredAt: '2030-01-02T03:04:05.000Z',
    });
  });

  it('refuses data that does not match the contract', () => {
    expect(() => buildEnvelope(WorkCommand, { n: -1 })).toThrow(InvalidMessageError);
    expect(() => buildEnvelope(WorkCommand, { n: 1, extra: true } as never)).toThrow(
      /demo.commands.work v1/,
    );
  });
});

describe('parseEnvelope', () => {
  it('rejects non-JSON and invalid envelopes with a reason', () => {
    expect(parseEnvelope('not json')).toMatchObject({ ok: false, error: /not JSON/ });
    const result = parseEnvelope(JSON.stringify({ id: 'x', type: 'a' }));
    expect(result).toMatchObject({ ok: false, error: /invalid envelope/ });
  });
});

describe('deliveryLimitOf', () => {
  it('reads the limit ensureConsumer records, the server redelivering without one', () => {
    expect(
      deliveryLimitOf({
        max_deliver: -1,
        description:
          "dead-letter after 7 deliveries (counted by the service's runner; the server redelivers without limit)",
      }),
    ).toEqual({ maxDeliver: 7, serverCapped: false });
  });

  it('falls back to the server-side limit of a consumer not yet updated, and says so', () => {
    expect(deliveryLimitOf({ max_deliver: 4 })).toEqual({ maxDeliver: 4, serverCapped: true });
  });

  it('uses the default when neither says anything', () => {
    expect(deliveryLimitOf({ max_deliver: -1, description: 'hand-made' })).toEqual({
      maxDeliver: DEFAULT_MAX_DELIVER,
      serverCapped: false,
    });
  });
});
