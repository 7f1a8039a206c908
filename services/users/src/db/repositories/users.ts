import { returnedRows } from '@shop/service-kit';
import type { Role, TokenRevocation } from '@shop/service-kit';
import type { EntityManager } from 'typeorm';
import { User } from '../entities/user.entity.js';

export interface NewUser {
  email: string;
  passwordHash: string;
  firstName: string;
  lastName: string;
  phone: string | null;
  role: Role;
  emailVerified: boolean;
}

export type UserChanges = Partial<Pick<User, 'firstName' | 'lastName' | 'phone' | 'role'>>;

export interface Credentials {
  id: string;
  role: Role;
  /** Read in the same row as the role, so a token never pairs a new version with an old role. */
  tokenVersion: number;
  passwordHash: string;
}

export interface UserPageFilter {
  role?: Role | undefined;
  email?: string | undefined;
  /** Keyset position: rows strictly older than this (created_at, id). */
  after?: { createdAt: string; id: string } | undefined;
  limit: number;
}

/** A user row plus its created_at at full (microsecond) precision, for the next cursor. */
export interface UserPageRow {
  user: User;
  cursorCreatedAt: string;
}

interface UserRow {
  id: string;
  email: string;
  first_name: string;
  last_name: string;
  phone: string | null;
  role: Role;
  email_verified: boolean;
  created_at: Date;
  updated_at: Date;
  cursor_created_at: string;
}

// Only the columns a view needs: the hash is never read where it is not compared.
const LIST_COLUMNS = `id, email, first_name, last_name, phone, role, email_verified, created_at,
  updated_at, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_created_at`;

function userFromRow(row: UserRow): User {
  return Object.assign(new User(), {
    id: row.id,
    email: row.email,
    passwordHash: '',
    firstName: row.first_name,
    lastName: row.last_name,
    phone: row.phone,
    role: row.role,
    emailVerified: row.email_verified,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    deletedAt: null,
  });
}

/** Users of the transaction in progress (`manager`); deleted accounts are invisible here. */
export function createUsersRepository(manager: EntityManager) {
  const repository = manager.getRepository(User);

  return {
    async insert(fields: NewUser): Promise<User> {
      return repository.save(repository.create(fields));
    },

    /** With `forUpdate`, the row stays locked until the transaction ends (serializes edits). */
    async findActive(id: string, options: { forUpdate?: boolean } = {}): Promise<User | null> {
      return repository.findOne({
        where: { id },
        ...(options.forUpdate ? { lock: { mode: 'pessimistic_write' as const } } : {}),
      });
    },

    /** The hot path of login: one index look-up, only what the check needs. */
    async findCredentials(email: string): Promise<Credentials | null> {
      const rows = (await manager.query(
        `SELECT id, role, token_version, password_hash FROM users
         WHERE lower(email) = lower($1) AND deleted_at IS NULL`,
        [email],
      )) as Array<{ id: string; role: Role; token_version: number; password_hash: string }>;
      const row = rows[0];
      return row
        ? {
            id: row.id,
            role: row.role,
            tokenVersion: row.token_version,
            passwordHash: row.password_hash,
          }
        : null;
    },

    async findActiveIdByEmail(email: string): Promise<string | null> {
      const rows = (await manager.query(
        'SELECT id FROM users WHERE lower(email) = lower($1) AND deleted_at IS NULL',
        [email],
      )) as Array<{ id: string }>;
      return rows[0]?.id ?? null;
    },

    async update(id: string, changes: UserChanges): Promise<User> {
      await repository.update({ id }, changes);
      return repository.findOneOrFail({ where: { id } });
    },

    /** Soft delete; returns when it happened, or null if the account was already gone. */
    async softDelete(id: string): Promise<Date | null> {
      const [row] = returnedRows<{ deleted_at: Date }>(
        await manager.query(
          `UPDATE users SET deleted_at = now(), updated_at = now()
           WHERE id = $1 AND deleted_at IS NULL RETURNING deleted_at`,
          [id],
        ),
      );
      return row?.deleted_at ?? null;
    },

    /**
     * Ends every token issued to the account so far: raises its token version. The caller
     * stores the returned revocation in Redis once the transaction has committed.
     */
    async revokeTokens(id: string): Promise<TokenRevocation> {
      const [row] = returnedRows<{ token_version: number; tokens_revoked_at: Date }>(
        await manager.query(
          `UPDATE users SET token_version = token_version + 1, tokens_revoked_at = now()
           WHERE id = $1 RETURNING token_version, tokens_revoked_at`,
          [id],
        ),
      );
      if (!row) throw new Error(`no user ${id} to revoke the tokens of`);
      return { userId: id, tokenVersion: row.token_version, revokedAt: row.tokens_revoked_at };
    },

    /** The lowest token version still valid; null for a deleted or unknown account. */
    async currentTokenVersion(id: string): Promise<number | null> {
      const rows = (await manager.query(
        'SELECT token_version FROM users WHERE id = $1 AND deleted_at IS NULL',
        [id],
      )) as Array<{ token_version: number }>;
      return rows[0]?.token_version ?? null;
    },

    /** Revocations since `since` (deleted accounts included): what Redis must still hold. */
    async revocationsSince(since: Date): Promise<TokenRevocation[]> {
      const rows = (await manager.query(
        `SELECT id, token_version, tokens_revoked_at FROM users
         WHERE tokens_revoked_at > $1 ORDER BY tokens_revoked_at`,
        [since],
      )) as Array<{ id: string; token_version: number; tokens_revoked_at: Date }>;
      return rows.map((row) => ({
        userId: row.id,
        tokenVersion: row.token_version,
        revokedAt: row.tokens_revoked_at,
      }));
    },

    async countActiveAdmins(): Promise<number> {
      const rows = (await manager.query(
        `SELECT count(*)::int AS admins FROM users WHERE role = 'admin' AND deleted_at IS NULL`,
      )) as Array<{ admins: number }>;
      return rows[0]?.admins ?? 0;
    },

    /** Newest first; asks for one row more than the page to know whether another follows. */
    async page(filter: UserPageFilter): Promise<UserPageRow[]> {
      const conditions = ['deleted_at IS NULL'];
      const parameters: unknown[] = [];
      const bind = (value: unknown) => {
        parameters.push(value);
        return `$${parameters.length}`;
      };
      if (filter.role) conditions.push(`role = ${bind(filter.role)}`);
      if (filter.email) conditions.push(`lower(email) = lower(${bind(filter.email)})`);
      if (filter.after) {
        conditions.push(
          `(created_at, id) < (${bind(filter.after.createdAt)}::timestamptz, ${bind(filter.after.id)}::uuid)`,
        );
      }
      const rows = (await manager.query(
        `SELECT ${LIST_COLUMNS} FROM users WHERE ${conditions.join(' AND ')}
         ORDER BY created_at DESC, id DESC LIMIT ${bind(filter.limit + 1)}`,
        parameters,
      )) as UserRow[];
      return rows.map((row) => ({
        user: userFromRow(row),
        cursorCreatedAt: row.cursor_created_at,
      }));
    },
  };
}
export type UsersRepository = ReturnType<typeof createUsersRepository>;
