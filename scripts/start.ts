// `pnpm start`: migrations, then every service and the gateway as separate processes with
// prefixed logs. Ctrl-C stops them all; if one dies on its own, the rest are stopped too, so
// a broken system never looks half alive.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { loadOrCreateDevSecrets } from '@shop/service-kit';
import { migrateAll } from './lib/databases.js';
import {
  prefixedConsoleSink,
  startProcess,
  stopProcess,
  waitUntilReady,
  type RunningProcess,
} from './lib/processes.js';
import { PROGRAMS, ROOT, programSpec, systemEnvironment } from './lib/system.js';

const envFile = path.join(ROOT, '.env');
if (existsSync(envFile)) process.loadEnvFile(envFile);
const env = systemEnvironment(process.env);

// Made once here so the services, starting together, all find the same development keys.
await loadOrCreateDevSecrets();
await migrateAll(env.DATABASE_URL!, env.LOG_LEVEL);

const sink = prefixedConsoleSink(PROGRAMS);
const running: RunningProcess[] = [];
let stopping = false;

async function stopAll(exitCode: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    console.log('stopping every process…');
    await Promise.all([...running].reverse().map((program) => stopProcess(program)));
  }
  process.exit(exitCode);
}

process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

function watch(program: RunningProcess): void {
  void program.exited.then((code) => {
    if (stopping) return;
    console.error(`${program.spec.name} exited (${code}); stopping the rest`);
    void stopAll(1);
  });
}

try {
  const domainServices = PROGRAMS.filter((name) => name !== 'gateway');
  const started = domainServices.map((name) => startProcess(programSpec(name, env), sink));
  running.push(...started);
  started.forEach(watch);
  await Promise.all(started.map((program) => waitUntilReady(program)));

  const gateway = startProcess(programSpec('gateway', env), sink);
  running.push(gateway);
  watch(gateway);
  await waitUntilReady(gateway);
  console.log(`\nready: the gateway answers on http://127.0.0.1:${env.GATEWAY_PORT}\n`);
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  await stopAll(1);
}
