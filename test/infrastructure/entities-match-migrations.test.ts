import { createLogger, openDataSource } from '@shop/service-kit';
import {
  createTestDatabase,
  entityColumnMismatches,
  type TestDatabase,
} from '@shop/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateAll, SERVICE_DATABASES } from '../../scripts/lib/databases.js';

// Each service's tables are written by hand in migrations and its entities separately; this
// is what keeps the two saying the same thing about every column an entity maps.

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase('db_entities_match');
  await migrateAll(database.url, 'warn');
});

afterAll(async () => {
  await database?.drop();
});

describe('entities against the migrated schema', () => {
  for (const service of SERVICE_DATABASES) {
    it(`${service.schema}: every mapped column exists with the entity's type and nullability`, async () => {
      const dataSource = await openDataSource({
        url: database.url,
        schema: service.schema,
        entities: service.entities,
        logger: createLogger({ service: 'entities-test', level: 'warn' }),
      });
      try {
        expect(await entityColumnMismatches(dataSource)).toEqual([]);
      } finally {
        await dataSource.destroy();
      }
    });
  }
});
