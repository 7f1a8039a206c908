import pg from 'pg';

/** The server every test file shares; each file gets its own database on it. */
export const TEST_SERVER_URL =
  process.env.TEST_DATABASE_SERVER_URL ?? 'postgres://postgres@127.0.0.1:5432';

export interface TestDatabase {
  name: string;
  /** Connection URL of the fresh database, as the superuser. */
  url: string;
  drop(): Promise<void>;
}

/**
 * A fresh, empty database named after the test file (`label`), dropped first if an earlier
 * run left it behind, so reruns start clean and parallel files never see each other.
 */
export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const name = `test_${label.toLowerCase().replace(/[^a-z0-9]+/g, '_')}`.slice(0, 63);
  await withAdminClient(async (client) => {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await client.query(`CREATE DATABASE "${name}"`);
  });
  return {
    name,
    url: `${TEST_SERVER_URL}/${name}`,
    drop: () =>
      withAdminClient(async (client) => {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      }),
  };
}

async function withAdminClient(work: (client: pg.Client) => Promise<void>): Promise<void> {
  const client = new pg.Client({ connectionString: `${TEST_SERVER_URL}/postgres` });
  await client.connect();
  try {
    await work(client);
  } finally {
    await client.end();
  }
}
