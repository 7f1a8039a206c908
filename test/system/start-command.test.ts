import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import {
  createTestDatabase,
  deleteNamespaceStreams,
  freePort,
  testNamespace,
} from '@shop/service-kit/testing';
import { describe, expect, it } from 'vitest';
import { PROGRAMS, ROOT } from '../../scripts/lib/system.js';

// `pnpm start` itself, as a newcomer runs it: one command that migrates, starts every program
// and, on Ctrl-C, stops them all, leaving no process behind.

async function answers(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(500) });
    return true;
  } catch {
    return false;
  }
}

describe('pnpm start', () => {
  it('brings the whole system up and takes all of it down on Ctrl-C', async () => {
    const database = await createTestDatabase('start_command');
    const namespace = testNamespace('start');
    const ports: Record<string, string> = {};
    for (const name of [...PROGRAMS, 'payment-provider']) {
      ports[`${name.toUpperCase().replace('-', '_')}_PORT`] = String(await freePort());
    }
    const start = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'scripts/start.ts')],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          ...ports,
          DATABASE_URL: database.url,
          NATS_NAMESPACE: namespace,
          LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    start.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    start.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));

    try {
      const deadline = Date.now() + 90_000;
      while (!output.includes('ready: the gateway answers')) {
        if (start.exitCode !== null || Date.now() > deadline) {
          throw new Error(`pnpm start did not come up:\n${output}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const ready = await fetch(`http://127.0.0.1:${ports.GATEWAY_PORT}/health/ready`);
      expect(ready.status).toBe(200);

      start.kill('SIGINT');
      const [code] = (await once(start, 'exit')) as [number | null];
      expect(code).toBe(0);
      for (const [variable, port] of Object.entries(ports)) {
        expect(await answers(`http://127.0.0.1:${port}/health/live`), variable).toBe(false);
      }
    } finally {
      if (start.exitCode === null) start.kill('SIGKILL');
      await deleteNamespaceStreams(namespace);
      await database.drop();
    }
  });
});
