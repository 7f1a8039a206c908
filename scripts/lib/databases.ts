import { createLogger, openDataSource, prepareDatabase, type Logger } from '@shop/service-kit';
import type { DataSource } from 'typeorm';
import { seedDemoCatalog } from '../../services/inventory/src/db/seed.js';
import { seedUsers } from '../../services/users/src/db/seed.js';
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

type ServiceDatabase = (typeof SERVICE_DATABASES)[number];

/** Runs `work` connected as the service's own role, as the service itself would be. */
async function asService<T>(
  adminUrl: string,
  database: ServiceDatabase,
  logger: Logger,
  work: (dataSource: DataSource) => Promise<T>,
): Promise<T> {
  const { runtimeUrl } = await prepareDatabase({
    adminUrl,
    schema: database.schema,
    role: database.role,
    migrations: database.migrations,
    logger,
  });
  const dataSource = await openDataSource({
    url: runtimeUrl,
    schema: database.schema,
    entities: database.entities,
    logger,
    applicationName: `${database.schema}-seed`,
  });
  try {
    return await work(dataSource);
  } finally {
    await dataSource.destroy();
  }
}

/**
 * The demo data `pnpm db:seed` adds, through each service's own write path (so audit rows and
 * events are written too, and the orders read models fill up once the services run). Running it
 * again adds nothing.
 */
export async function seedAll(adminUrl: string, logLevel = 'info'): Promise<void> {
  const logger = createLogger({ service: 'seed', level: logLevel });
  const customer = await asService(adminUrl, usersDatabase, logger, (dataSource) =>
    seedUsers(dataSource),
  );
  logger.info({ email: customer.email, created: customer.created }, 'demo customer ready');
  const products = await asService(adminUrl, inventoryDatabase, logger, (dataSource) =>
    seedDemoCatalog(dataSource),
  );
  logger.info({ products: products.length }, 'demo catalog ready');
}
