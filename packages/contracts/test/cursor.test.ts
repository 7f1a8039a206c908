import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from '../src/index.js';

const position = {
  createdAt: '2026-03-01T12:00:00.123456Z',
  id: '0b8f0a2e-8f9a-4f3c-9d39-1b2c3d4e5f60',
};
const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('page cursors', () => {
  it('round-trips a position, microseconds included', () => {
    const cursor = encodeCursor(position);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor)).toEqual(position);
  });

  it.each([
    ['an empty string', ''],
    ['characters outside base64url', 'abc+/=='],
    ['base64url that is not JSON', Buffer.from('not json').toString('base64url')],
    ['JSON that is not an object', encode([1, 2])],
    ['a position without an id', encode({ createdAt: position.createdAt })],
    ['an id that is not a uuid', encode({ ...position, id: '42' })],
    ['a date that is not ISO 8601', encode({ ...position, createdAt: 'yesterday' })],
    ['fields we never write', encode({ ...position, offset: 1000 })],
    ['something absurdly long', 'a'.repeat(10_000)],
  ])('gives null for %s', (_what, cursor) => {
    expect(decodeCursor(cursor)).toBeNull();
  });
});
