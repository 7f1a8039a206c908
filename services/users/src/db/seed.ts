import { createLogger, openDataSource, prepareDatabase, type Logger } from '@shop/service-kit';
import type { DataSource } from 'typeorm';
import { createPasswordHasher } from '../auth/passwords.js';
import { addAddress } from '../application/addresses.js';
import { SYSTEM_ACTOR } from '../application/actor.js';
import { addPaymentMethod } from '../application/payment-methods.js';
import { registerUser } from '../application/users.js';
import { createAddressesRepository } from './repositories/addresses.js';
import { createPaymentMethodsRepository } from './repositories/payment-methods.js';
import { createUsersRepository } from './repositories/users.js';
import { usersDatabase } from './index.js';
import { inTransaction } from './transaction.js';

/**
 * Demo data for `pnpm db:seed`: one customer with a shipping address and the sandbox's
 * always-succeeding card, so an order can be placed right after a fresh start. Sandbox
 * credentials only, documented in the README; production never runs the seed.
 */
export const DEMO_CUSTOMER = {
  email: 'customer@example.com',
  password: 'customer-demo-password',
  firstName: 'Demo',
  lastName: 'Customer',
} as const;

const DEMO_ADDRESS = {
  type: 'shipping',
  line1: '350 Fifth Avenue',
  line2: null,
  city: 'New York',
  state: 'NY',
  country: 'US',
  postalCode: '10118',
  isDefault: true,
} as const;

const DEMO_CARD = {
  providerPaymentMethodId: 'pm_card_visa',
  cardBrand: 'visa',
  cardLast4: '4242',
  expMonth: 12,
  isDefault: true,
} as const;

// Two seeds at once (two terminals) take turns instead of both creating the customer.
const SEED_LOCK = "SELECT pg_advisory_xact_lock(hashtext('users.seed'))";

export interface SeedResult {
  userId: string;
  email: string;
  /** What this run created; all false when the demo data was already there. */
  created: { user: boolean; address: boolean; paymentMethod: boolean };
}

/**
 * Creates whatever part of the demo data is missing, through the same operations as the API,
 * so audit rows and events (orders' read models) exist for it too. `dataSource` is the users
 * schema's (search_path `users`), migrated.
 */
export async function seedUsers(dataSource: DataSource, now = new Date()): Promise<SeedResult> {
  const passwords = await createPasswordHasher();
  const passwordHash = await passwords.hash(DEMO_CUSTOMER.password);

  return inTransaction(dataSource, async (manager) => {
    await manager.query(SEED_LOCK);
    const created = { user: false, address: false, paymentMethod: false };

    let userId = await createUsersRepository(manager).findActiveIdByEmail(DEMO_CUSTOMER.email);
    if (!userId) {
      const user = await registerUser(
        manager,
        { ...DEMO_CUSTOMER, passwordHash, phone: null, role: 'customer', emailVerified: true },
        SYSTEM_ACTOR,
        { selfService: false },
      );
      userId = user.id;
      created.user = true;
    }

    const addresses = await createAddressesRepository(manager).listActive(userId);
    if (!addresses.some((address) => address.type === 'shipping')) {
      await addAddress(manager, { ...DEMO_ADDRESS, userId }, SYSTEM_ACTOR);
      created.address = true;
    }

    const methods = createPaymentMethodsRepository(manager);
    if (!(await methods.findByProviderId(userId, DEMO_CARD.providerPaymentMethodId))) {
      // A few years ahead of whenever the seed runs, so the demo card never expires.
      const expYear = now.getUTCFullYear() + 4;
      await addPaymentMethod(manager, { ...DEMO_CARD, expYear, userId }, SYSTEM_ACTOR);
      created.paymentMethod = true;
    }

    return { userId, email: DEMO_CUSTOMER.email, created };
  });
}

/**
 * `seedUsers` from an admin URL (DATABASE_URL): prepares the schema like a service start
 * (idempotent), then seeds as the service's own role.
 */
export async function seedUsersAt(options: {
  adminUrl: string;
  rolePassword?: string | undefined;
  logger?: Logger;
}): Promise<SeedResult> {
  const { adminUrl, rolePassword } = options;
  const logger = options.logger ?? createLogger({ service: 'users-seed', level: 'info' });
  const { runtimeUrl } = await prepareDatabase({
    adminUrl,
    schema: usersDatabase.schema,
    role: usersDatabase.role,
    ...(rolePassword ? { rolePassword } : {}),
    migrations: usersDatabase.migrations,
    logger,
  });
  const dataSource = await openDataSource({
    url: runtimeUrl,
    schema: usersDatabase.schema,
    entities: usersDatabase.entities,
    logger,
    applicationName: 'users-seed',
  });
  try {
    const result = await seedUsers(dataSource);
    logger.info({ email: result.email, created: result.created }, 'users seeded');
    return result;
  } finally {
    await dataSource.destroy();
  }
}
