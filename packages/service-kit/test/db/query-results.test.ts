import { describe, expect, it } from 'vitest';
import { affectedRowCount, returnedRows } from '../../src/db/query-results.js';

describe('reading what query() answered', () => {
  it('takes the rows and count of an UPDATE … RETURNING, answered as [rows, count]', () => {
    const answer = [[{ id: 'a' }, { id: 'b' }], 2];
    expect(returnedRows(answer)).toEqual([{ id: 'a' }, { id: 'b' }]);
    expect(affectedRowCount(answer)).toBe(2);
    expect(returnedRows([[], 0])).toEqual([]);
    expect(affectedRowCount([[], 3])).toBe(3);
  });

  it('takes the rows of a SELECT or INSERT, answered as the rows alone', () => {
    expect(returnedRows([{ id: 'a' }, { id: 'b' }])).toEqual([{ id: 'a' }, { id: 'b' }]);
    expect(affectedRowCount([{ id: 'a' }])).toBe(1);
    expect(returnedRows(undefined)).toEqual([]);
  });
});
