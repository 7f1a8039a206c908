import { UserDeleted, UserRegistered, UserRoleChanged } from '@shop/contracts';
import {
  ConflictError,
  NotFoundError,
  UnauthorizedError,
  enqueueMessage,
  recordAudit,
  type Role,
  type TokenRevocation,
} from '@shop/service-kit';
import type { EntityManager } from 'typeorm';
import type { User } from '../db/entities/user.entity.js';
import { isUniqueViolation } from '../db/errors.js';
import { createUsersRepository, type NewUser, type UserChanges } from '../db/repositories/users.js';
import { leavesNoAdmin, removesAnAdmin } from '../domain/roles.js';
import { userView } from '../domain/views.js';
import { auditActor, type Actor } from './actor.js';

/**
 * Account changes. Each runs inside the caller's transaction (`manager`) and writes the change,
 * its audit row and its event together, so either all of them commit or none does. A change
 * that must end the account's existing access tokens (role, deletion) raises its token version
 * in the same transaction and returns the revocation, for the caller to publish after the
 * commit (auth/revocations.ts): published before, a rollback would leave the user locked out.
 */

// Serializes every change that could alter the set of admins (bootstrap, demotion, deletion),
// so two of them at once cannot both see "another admin remains".
const ADMIN_SET_LOCK = "SELECT pg_advisory_xact_lock(hashtext('users.admin-set'))";

export async function lockAdminSet(manager: EntityManager): Promise<void> {
  await manager.query(ADMIN_SET_LOCK);
}

/** The account of a valid token that was deleted since: the token no longer names anyone. */
function accountGone(): UnauthorizedError {
  return new UnauthorizedError('The account no longer exists.');
}

/** Locks the caller's row for the rest of the transaction, so their edits happen one by one. */
export async function lockActiveUser(manager: EntityManager, userId: string): Promise<User> {
  const user = await createUsersRepository(manager).findActive(userId, { forUpdate: true });
  if (!user) throw accountGone();
  return user;
}

export async function getActiveUser(manager: EntityManager, userId: string): Promise<User> {
  const user = await createUsersRepository(manager).findActive(userId);
  if (!user) throw accountGone();
  return user;
}

/**
 * `actor` is whoever registers: a visitor signing up has no id yet and is recorded as the
 * account they create (`selfService`); bootstrap and seed run as the system.
 */
export async function registerUser(
  manager: EntityManager,
  fields: NewUser,
  actor: Actor,
  options: { selfService: boolean },
): Promise<User> {
  let user: User;
  try {
    user = await createUsersRepository(manager).insert(fields);
  } catch (error) {
    if (isUniqueViolation(error, 'users_email_active_key'))
      throw new ConflictError('email_taken', 'An account with this email already exists.');
    throw error;
  }
  await recordAudit(manager, {
    entityType: 'user',
    entityId: user.id,
    action: 'create',
    after: userView(user),
    ...auditActor(actor),
    userId: options.selfService ? user.id : actor.userId,
  });
  await enqueueMessage(manager, UserRegistered, {
    userId: user.id,
    email: user.email,
    firstName: user.firstName,
    lastName: user.lastName,
    role: user.role,
    registeredAt: user.createdAt.toISOString(),
  });
  return user;
}

export async function updateProfile(
  manager: EntityManager,
  userId: string,
  changes: Pick<UserChanges, 'firstName' | 'lastName' | 'phone'>,
  actor: Actor,
): Promise<User> {
  const before = await lockActiveUser(manager, userId);
  const after = await createUsersRepository(manager).update(userId, changes);
  await recordAudit(manager, {
    entityType: 'user',
    entityId: userId,
    action: 'update',
    before: userView(before),
    after: userView(after),
    ...auditActor(actor),
  });
  return after;
}

export interface RoleChange {
  user: User;
  /** Null when the role was already the one asked for: nothing changed, nothing revoked. */
  revocation: TokenRevocation | null;
}

export async function changeRole(
  manager: EntityManager,
  userId: string,
  role: Role,
  actor: Actor,
): Promise<RoleChange> {
  const users = createUsersRepository(manager);
  // Taken before the row lock, in the same order as deleteAccount, so the two never deadlock.
  await lockAdminSet(manager);
  const before = await users.findActive(userId, { forUpdate: true });
  if (!before) throw new NotFoundError('No such user.');
  if (before.role === role) return { user: before, revocation: null };
  const demotion = removesAnAdmin(before.role, role);
  if (leavesNoAdmin(demotion ? await users.countActiveAdmins() : 0, demotion))
    throw new ConflictError('last_admin', 'The last admin cannot lose the admin role.');

  const after = await users.update(userId, { role });
  // Any change, not only a demotion: a token's role is then always the account's role (a
  // promoted user logs in again to use the new rights, which they would have to anyway).
  const revocation = await users.revokeTokens(userId);
  await recordAudit(manager, {
    entityType: 'user',
    entityId: userId,
    action: 'update',
    before: userView(before),
    after: userView(after),
    ...auditActor(actor),
  });
  await enqueueMessage(manager, UserRoleChanged, {
    userId,
    previousRole: before.role,
    role,
    changedBy: actor.userId,
    changedAt: revocation.revokedAt.toISOString(),
  });
  return { user: after, revocation };
}

export async function deleteAccount(
  manager: EntityManager,
  userId: string,
  actor: Actor,
): Promise<TokenRevocation> {
  const users = createUsersRepository(manager);
  await lockAdminSet(manager);
  const before = await lockActiveUser(manager, userId);
  const removal = removesAnAdmin(before.role, null);
  if (leavesNoAdmin(removal ? await users.countActiveAdmins() : 0, removal))
    throw new ConflictError('last_admin', 'The last admin account cannot be deleted.');

  const deletedAt = await users.softDelete(userId);
  if (!deletedAt) throw accountGone();
  const revocation = await users.revokeTokens(userId);
  await recordAudit(manager, {
    entityType: 'user',
    entityId: userId,
    action: 'delete',
    before: userView(before),
    ...auditActor(actor),
  });
  await enqueueMessage(manager, UserDeleted, { userId, deletedAt: deletedAt.toISOString() });
  return revocation;
}
