import { describe, expect, it } from 'vitest';
import { leavesNoAdmin, removesAnAdmin } from '../../src/domain/roles.js';

describe('the last admin rule', () => {
  it('sees a demotion or a deletion of an admin as removing one', () => {
    expect(removesAnAdmin('admin', 'manager')).toBe(true);
    expect(removesAnAdmin('admin', null)).toBe(true);
    expect(removesAnAdmin('admin', 'admin')).toBe(false);
    expect(removesAnAdmin('customer', 'admin')).toBe(false);
  });

  it('refuses only when the admin removed is the last one', () => {
    expect(leavesNoAdmin(1, true)).toBe(true);
    expect(leavesNoAdmin(2, true)).toBe(false);
    expect(leavesNoAdmin(1, false)).toBe(false);
  });
});
