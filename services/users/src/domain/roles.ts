import type { Role } from '@shop/service-kit';

/**
 * The shop must always keep one admin who can manage roles: a change that would leave no
 * active admin (the last admin demoting or deleting themself) is refused.
 */
export function removesAnAdmin(before: Role, after: Role | null): boolean {
  return before === 'admin' && after !== 'admin';
}

export function leavesNoAdmin(activeAdminsBefore: number, removesAdmin: boolean): boolean {
  return removesAdmin && activeAdminsBefore <= 1;
}
