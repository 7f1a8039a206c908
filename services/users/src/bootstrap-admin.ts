import type { Logger } from '@shop/service-kit';
import type { DataSource } from 'typeorm';
import type { PasswordHasher } from './auth/passwords.js';
import { createUsersRepository } from './db/repositories/users.js';
import { SYSTEM_ACTOR } from './application/actor.js';
import { lockAdminSet, registerUser } from './application/users.js';
import { inTransaction } from './db/transaction.js';

export interface BootstrapAdminSettings {
  email?: string | undefined;
  password?: string | undefined;
}

export type BootstrapOutcome = 'not_configured' | 'created' | 'admin_exists' | 'email_in_use';

/**
 * Creates the first admin from the environment when no admin exists. Replicas starting
 * together take the admin-set lock in turn, so exactly one creates it and the others find it.
 * An active account already holding the email is left alone rather than promoted: whoever
 * registered it first would otherwise become admin.
 */
export async function ensureBootstrapAdmin(
  dataSource: DataSource,
  passwords: PasswordHasher,
  settings: BootstrapAdminSettings,
  logger: Logger,
): Promise<BootstrapOutcome> {
  const { email, password } = settings;
  if (!email && !password) return 'not_configured';
  if (!email || !password)
    throw new Error('BOOTSTRAP_ADMIN_EMAIL and BOOTSTRAP_ADMIN_PASSWORD must be set together');

  // Hashed before the transaction: no connection or lock is held through the slow part.
  const passwordHash = await passwords.hash(password);
  const outcome = await inTransaction(dataSource, async (manager) => {
    await lockAdminSet(manager);
    const users = createUsersRepository(manager);
    if ((await users.countActiveAdmins()) > 0) return 'admin_exists' as const;
    if (await users.findActiveIdByEmail(email)) return 'email_in_use' as const;
    await registerUser(
      manager,
      {
        email,
        passwordHash,
        firstName: 'Admin',
        lastName: 'Bootstrap',
        phone: null,
        role: 'admin',
        // The operator chose this address; nobody else can have confirmed it.
        emailVerified: true,
      },
      SYSTEM_ACTOR,
      { selfService: false },
    );
    return 'created' as const;
  });

  if (outcome === 'created') logger.info('bootstrap admin created');
  if (outcome === 'email_in_use')
    logger.warn('no admin exists, but BOOTSTRAP_ADMIN_EMAIL belongs to an existing account');
  return outcome;
}
