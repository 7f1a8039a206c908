import { describe, expect, it } from 'vitest';
import {
  explainBreakingChanges,
  explainMissing,
  LOCK_COMMAND,
  lockOf,
  readLockFile,
  reviewLock,
} from '../src/compatibility/schema-lock.js';

// The guard itself: every released (type, version) must still read the way it did.
describe('schemas.lock.json', () => {
  const review = reviewLock(readLockFile(), lockOf());

  it('holds no breaking change to a released message version', () => {
    const problem = review.breaking.length > 0 ? explainBreakingChanges(review.breaking) : '';
    expect(problem, problem).toBe('');
  });

  it('still finds every released message version in the catalog', () => {
    const problem = review.missing.length > 0 ? explainMissing(review.missing) : '';
    expect(problem, problem).toBe('');
  });

  it('is up to date with the catalog', () => {
    const stale = [...review.added, ...review.changed];
    const problem =
      stale.length > 0
        ? `The schema lock does not know ${stale.join(', ')} yet: run \`${LOCK_COMMAND}\` ` +
          'and commit schemas.lock.json.'
        : '';
    expect(problem, problem).toBe('');
  });
});

describe('reviewLock', () => {
  const v1 = {
    type: 'object',
    properties: { orderId: { type: 'string' } },
    required: ['orderId'],
  };

  it('sorts entries into breaking, missing, added and compatibly changed', () => {
    const withOptional = {
      ...v1,
      properties: { ...v1.properties, note: { type: 'string' } },
    };
    const review = reviewLock(
      { 'a.events.x.done@1': v1, 'a.events.y.done@1': v1, 'a.events.z.done@1': v1 },
      {
        'a.events.x.done@1': withOptional,
        'a.events.y.done@1': { ...v1, required: [] },
        'a.events.x.done@2': v1,
      },
    );
    expect(review).toEqual({
      breaking: [
        {
          key: 'a.events.y.done@1',
          changes: [{ path: '$.orderId', problem: 'required field became optional' }],
        },
      ],
      missing: ['a.events.z.done@1'],
      added: ['a.events.x.done@2'],
      changed: ['a.events.x.done@1'],
    });
  });

  it('tells the developer to add a version rather than edit one', () => {
    const message = explainBreakingChanges([
      { key: 'a.events.y.done@1', changes: [{ path: '$.orderId', problem: 'field removed' }] },
    ]);
    expect(message).toContain('a.events.y.done@1  $.orderId: field removed');
    expect(message).toContain('version + 1');
  });
});
