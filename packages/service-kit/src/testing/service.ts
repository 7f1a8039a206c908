import { createAccessTokenSigner } from '../auth/jwt.js';
import { resolveAuthSecrets } from '../auth/dev-keys.js';
import type { Identity } from '../auth/roles.js';
import { startService, type RunningService, type ServiceDefinition } from '../runtime.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { deleteNamespaceStreams, testNamespace } from './nats.js';

export interface TestService extends RunningService {
  database: TestDatabase;
  namespace: string;
  /** An access token the service accepts, as the users service would sign it. */
  tokenFor(identity: Identity): Promise<string>;
  /** Internal-route credential the service accepts. */
  internalToken: string;
  /** Shuts the service down, deletes its streams and drops its database. */
  stop(): Promise<void>;
}

/**
 * Starts a real service in the test process against its own database and NATS namespace:
 * `build` receives the environment to parse (database URL, namespace, quiet logs) and returns
 * the service definition, e.g. `(env) => usersService(parseConfig(UsersConfig, { ...env, USERS_PORT: '0' }))`.
 */
export async function startTestService(
  label: string,
  build: (environment: Record<string, string>) => ServiceDefinition,
): Promise<TestService> {
  const database = await createTestDatabase(label);
  const namespace = testNamespace(label);
  const environment = {
    DATABASE_URL: database.url,
    NATS_NAMESPACE: namespace,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
  };
  const running = await startService(build(environment), { exit: () => undefined });
  const secrets = await resolveAuthSecrets();
  if (!secrets.privateKey) throw new Error('tests need the development signing key');
  const signer = createAccessTokenSigner({ privateKey: secrets.privateKey });
  return {
    ...running,
    database,
    namespace,
    internalToken: secrets.internalToken,
    tokenFor: (identity) => signer.sign(identity),
    async stop() {
      await running.shutdown.run('test finished');
      await deleteNamespaceStreams(namespace);
      await database.drop();
    },
  };
}
