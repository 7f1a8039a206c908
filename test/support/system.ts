import {
  createTestDatabase,
  deleteNamespaceStreams,
  freePort,
  testNamespace,
  type TestDatabase,
} from '@shop/service-kit/testing';
import { migrateAll } from '../../scripts/lib/databases.js';
import {
  killProcess,
  startProcess,
  stopProcess,
  waitUntilReady,
  type RunningProcess,
} from '../../scripts/lib/processes.js';
import {
  PROGRAMS,
  portVariable,
  programSpec,
  systemEnvironment,
  type ProgramName,
} from '../../scripts/lib/system.js';

/** The whole system as `pnpm start` runs it, isolated for one test file. */
export interface SystemUnderTest {
  gatewayUrl: string;
  url(program: ProgramName): string;
  env: NodeJS.ProcessEnv;
  /** The last lines each program printed, for assertions and for failure messages. */
  logs(program: ProgramName): string[];
  /** SIGKILL, as a crash: no drain, no cleanup. */
  kill(program: ProgramName): Promise<void>;
  /** Starts a killed or stopped program again and waits until it is ready. */
  restart(program: ProgramName): Promise<void>;
  stop(): Promise<void>;
}

const LOG_LINES_KEPT = 2000;

/**
 * Starts every program as a real process against a database and NATS namespace of its own and
 * free ports, after running migrations: what `pnpm start` does, but side by side with other
 * test files. `overrides` sets any environment variable (short timeouts, provider settings).
 */
export async function startSystem(
  label: string,
  overrides: NodeJS.ProcessEnv = {},
): Promise<SystemUnderTest> {
  const database: TestDatabase = await createTestDatabase(label);
  const namespace = testNamespace(label);
  const ports: NodeJS.ProcessEnv = {};
  for (const name of PROGRAMS) {
    ports[portVariable(name)] = String(await freePort());
  }
  const env = systemEnvironment({
    ...process.env,
    ...ports,
    DATABASE_URL: database.url,
    NATS_NAMESPACE: namespace,
    // The gateway's rate-limit counters in Redis, apart from every other system's.
    RATE_LIMIT_KEY_PREFIX: `${namespace}:rate-limit:`,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'info',
    ...overrides,
  });
  await migrateAll(database.url, 'warn');

  const logs = new Map<string, string[]>();
  const sink = (name: string, line: string) => {
    const lines = logs.get(name) ?? [];
    lines.push(line);
    if (lines.length > LOG_LINES_KEPT) lines.shift();
    logs.set(name, lines);
  };
  const running = new Map<ProgramName, RunningProcess>();
  const launch = async (name: ProgramName) => {
    const program = startProcess(programSpec(name, env), sink);
    running.set(name, program);
    try {
      await waitUntilReady(program);
    } catch (error) {
      const tail = (logs.get(name) ?? []).slice(-30).join('\n');
      throw new Error(`${(error as Error).message}\n--- last lines of ${name} ---\n${tail}`, {
        cause: error,
      });
    }
  };

  const stopAll = async () => {
    await Promise.all([...running.values()].map((program) => stopProcess(program)));
    running.clear();
  };
  try {
    await Promise.all(PROGRAMS.filter((name) => name !== 'gateway').map(launch));
    await launch('gateway');
  } catch (error) {
    await stopAll();
    throw error;
  }

  return {
    gatewayUrl: `http://127.0.0.1:${env.GATEWAY_PORT}`,
    url: (program) => `http://127.0.0.1:${env[portVariable(program)]}`,
    env,
    logs: (program) => logs.get(program) ?? [],
    async kill(program) {
      const process = running.get(program);
      if (process) await killProcess(process);
    },
    restart: launch,
    async stop() {
      await stopAll();
      await deleteNamespaceStreams(namespace);
      await database.drop();
    },
  };
}
