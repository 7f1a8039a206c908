import { createLogger, prepareDatabase } from '@shop/service-kit';
import { inventoryDatabase } from '../../services/inventory/src/db/index.js';
import { ordersDatabase } from '../../services/orders/src/db/index.js';
import { paymentsDatabase } from '../../services/payments/src/db/index.js';
import { usersDatabase } from '../../services/users/src/db/index.js';

/** Every service's schema, in the order `pnpm db:migrate` prepares them. */
export const SERVICE_DATABASES = [
  usersDatabase,
  inventoryDatabase,
  paymentsDatabase,
  ordersDatabase,
];

/**
 * Creates the database, each service's schema and role, and runs each service's pending
 * migrations: the same call each service makes at its own start, done up front so a broken
 * migration stops `pnpm start` before any process is launched.
 */
export async function migrateAll(adminUrl: string, logLevel = 'info'): Promise<void> {
  const logger = createLogger({ service: 'migrate', level: logLevel });
  for (const database of SERVICE_DATABASES) {
    const { migrationsRun } = await prepareDatabase({
      adminUrl,
      schema: database.schema,
      role: database.role,
      migrations: database.migrations,
      logger,
    });
    logger.info(
      { schema: database.schema, ran: migrationsRun.length },
      migrationsRun.length ? 'schema migrated' : 'schema up to date',
    );
  }
}
