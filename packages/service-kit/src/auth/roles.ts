/** Roles, strongest first (API.md). The order is the hierarchy used by `atLeast`. */
export const ROLES = ['admin', 'manager', 'employee', 'customer'] as const;
export type Role = (typeof ROLES)[number];

/** "staff" in API.md: employee, manager or admin. */
export const STAFF_ROLES: readonly Role[] = ['admin', 'manager', 'employee'];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

export function isStaff(role: Role): boolean {
  return STAFF_ROLES.includes(role);
}

/** Every role at least as strong as `role`: atLeast('manager') = ['admin', 'manager']. */
export function atLeast(role: Role): Role[] {
  return ROLES.slice(0, ROLES.indexOf(role) + 1);
}

/** Who the verified access token says the caller is. */
export interface Identity {
  userId: string;
  role: Role;
  /**
   * Which generation of the user's tokens this one belongs to (the `ver` claim): the users
   * service raises a user's version when a role change or a deletion revokes the tokens issued
   * before it (see revocation.ts). Tokens minted without it count as generation 0.
   */
  tokenVersion?: number;
}

/**
 * Who may call a route, declared in its `config.auth`:
 * - 'public': anyone, the token is not looked at;
 * - 'authenticated': any valid access token, whatever the role;
 * - { roles }: a valid token whose role is in the list (403 otherwise);
 * - 'internal': other services only, with the service credential (INTERNAL_API_TOKEN).
 */
export type AuthPolicy = 'public' | 'authenticated' | 'internal' | { roles: readonly Role[] };
