// `pnpm db:migrate`: creates the database, schemas and roles when missing and runs every
// service's pending migrations. Safe to run at any time, and concurrently with services starting.
import { migrateAll } from './lib/databases.js';

await migrateAll(
  process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/shop',
  process.env.LOG_LEVEL,
);
