// `pnpm db:seed`: a demo catalog with stock and a demo customer (see services/users/README.md
// for the credentials). Safe to run again: it adds only what is missing.
import { seedAll } from './lib/databases.js';

await seedAll(
  process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/shop',
  process.env.LOG_LEVEL,
);
