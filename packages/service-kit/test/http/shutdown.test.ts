import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { createShutdown } from '../../src/shutdown.js';
import { captureLogs } from './fixtures.js';

function setup(steps: { name: string; run: () => Promise<unknown> | unknown }[], timeoutMs = 1000) {
  const logs = captureLogs();
  const exits: number[] = [];
  const sut = createShutdown({
    logger: createLogger({ service: 'shutdown-test', destination: logs.stream }),
    steps,
    timeoutMs,
    exit: (code) => exits.push(code),
  });
  return { sut, exits, logs };
}

describe('createShutdown', () => {
  it('runs the steps in order, once, and exits 0', async () => {
    const order: string[] = [];
    const { sut, exits, logs } = setup([
      { name: 'http', run: async () => order.push('http') },
      { name: 'consumers', run: () => order.push('consumers') },
      { name: 'nats', run: async () => order.push('nats') },
      { name: 'database', run: async () => order.push('database') },
    ]);
    const first = sut.run('SIGTERM');
    const second = sut.run('SIGINT');
    expect(await first).toBe(0);
    expect(await second).toBe(0);
    expect(order).toEqual(['http', 'consumers', 'nats', 'database']);
    expect(exits).toEqual([0]);
    await new Promise((resolve) => setImmediate(resolve));
    const done = logs.lines.filter((l) => l.msg === 'shutdown step done').map((l) => l.step);
    expect(done).toEqual(['http', 'consumers', 'nats', 'database']);
  });

  it('keeps going after a failed step and exits 1', async () => {
    const order: string[] = [];
    const { sut, exits } = setup([
      {
        name: 'nats',
        run: async () => {
          throw new Error('drain failed');
        },
      },
      { name: 'database', run: async () => order.push('database') },
    ]);
    expect(await sut.run('SIGTERM')).toBe(1);
    expect(order).toEqual(['database']);
    expect(exits).toEqual([1]);
  });

  it('forces an exit when a step hangs past the timeout', async () => {
    const { sut, exits } = setup([{ name: 'http', run: () => new Promise(() => undefined) }], 50);
    const started = Date.now();
    expect(await sut.run('SIGTERM')).toBe(1);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(exits).toEqual([1]);
  });

  it('installs signal handlers that trigger it, and removes them', async () => {
    let ran = 0;
    const { sut, exits } = setup([{ name: 'http', run: () => (ran += 1) }]);
    const remove = sut.install();
    try {
      process.emit('SIGTERM', 'SIGTERM');
      process.emit('SIGTERM', 'SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(ran).toBe(1);
      expect(exits).toEqual([0]);
    } finally {
      remove();
    }
  });
});
