import { describe, expect, it } from 'vitest';
import { diffRecords, snapshot, toJsonValue } from '../../src/db/index.js';

describe('diffRecords', () => {
  it('returns only the changed fields, old and new', () => {
    const before = { id: 'a', email: 'a@x.io', name: 'Ann', balanceCents: 100 };
    const after = { id: 'a', email: 'a@x.io', name: 'Anna', balanceCents: 250 };
    expect(diffRecords(before, after)).toEqual({
      oldValues: { balanceCents: 100, name: 'Ann' },
      newValues: { balanceCents: 250, name: 'Anna' },
    });
  });

  it('returns null when nothing changed', () => {
    expect(diffRecords({ a: 1, b: 'x' }, { a: 1, b: 'x' })).toBeNull();
  });

  it('ignores updatedAt by default and any listed field on request', () => {
    const before = { status: 'new', updatedAt: new Date(1), version: 1 };
    const after = { status: 'new', updatedAt: new Date(2), version: 2 };
    expect(diffRecords(before, after, { ignore: ['updatedAt', 'version'] })).toBeNull();
    expect(diffRecords(before, after)).toEqual({
      oldValues: { version: 1 },
      newValues: { version: 2 },
    });
  });

  it('compares dates by instant and records them as ISO strings', () => {
    expect(
      diffRecords(
        { at: new Date('2026-01-01T00:00:00Z') },
        { at: new Date('2026-01-01T00:00:00Z') },
      ),
    ).toBeNull();
    expect(
      diffRecords({ deletedAt: null }, { deletedAt: new Date('2026-02-03T04:05:06Z') }),
    ).toEqual({
      oldValues: { deletedAt: null },
      newValues: { deletedAt: '2026-02-03T04:05:06.000Z' },
    });
  });

  it('compares nested values structurally, whatever the key order', () => {
    expect(
      diffRecords(
        { address: { city: 'Oslo', zip: '0150' } },
        { address: { zip: '0150', city: 'Oslo' } },
      ),
    ).toBeNull();
    expect(diffRecords({ tags: ['a', 'b'] }, { tags: ['b', 'a'] })).toEqual({
      oldValues: { tags: ['a', 'b'] },
      newValues: { tags: ['b', 'a'] },
    });
  });

  it('treats a field missing on one side as null', () => {
    expect(diffRecords({ phone: '+47 1' }, {})).toEqual({
      oldValues: { phone: '+47 1' },
      newValues: { phone: null },
    });
    expect(diffRecords({ phone: undefined }, { phone: null })).toBeNull();
  });

  it('records that a secret changed without recording the secret', () => {
    expect(diffRecords({ passwordHash: 'old-hash' }, { passwordHash: 'new-hash' })).toEqual({
      oldValues: { passwordHash: '[redacted]' },
      newValues: { passwordHash: '[redacted]' },
    });
    expect(diffRecords({ token: 'a' }, { token: 'b' }, { redact: ['token'] })).toEqual({
      oldValues: { token: '[redacted]' },
      newValues: { token: '[redacted]' },
    });
  });

  it('converts values to what jsonb stores', () => {
    expect(toJsonValue(12n)).toBe('12');
    expect(toJsonValue(Number.NaN)).toBe('NaN');
    expect(toJsonValue({ b: 1, a: undefined, f: () => 1 })).toEqual({ b: 1 });
    expect(toJsonValue([undefined, 1])).toEqual([null, 1]);
  });

  it('snapshots a record without ignored fields and with secrets masked', () => {
    expect(snapshot({ id: 'a', password: 'p', updatedAt: new Date(), n: 1 })).toEqual({
      id: 'a',
      password: '[redacted]',
      n: 1,
    });
  });
});
