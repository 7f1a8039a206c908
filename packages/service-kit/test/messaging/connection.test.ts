import { describe, expect, it } from 'vitest';
import { connectNats } from '../../src/messaging/index.js';
import { waitFor } from '../../src/testing/wait.js';
import { captureLogger, natsProxy } from './helpers.js';

const retry = { initialMs: 20, maxMs: 80 };

describe('connectNats', () => {
  it('retries with backoff, logging each attempt, and gives up after maxAttempts', async () => {
    const { logger, lines } = captureLogger();
    const proxy = natsProxy();
    await proxy.reservePort(); // nothing listens there
    await expect(
      connectNats({ servers: proxy.url, name: 'conn-test', logger, retry, maxAttempts: 3 }),
    ).rejects.toThrow();
    const retries = lines.filter((l) => l.msg === 'NATS not reachable yet, retrying');
    expect(retries.map((l) => [l.attempt, l.retryInMs])).toEqual([
      [1, 20],
      [2, 40],
    ]);
    expect(lines.some((l) => l.msg === 'could not connect to NATS, giving up')).toBe(true);
  });

  it('waits for a NATS that comes up later, then connects', async () => {
    const { logger, lines } = captureLogger();
    const proxy = natsProxy();
    await proxy.reservePort();
    const connecting = connectNats({ servers: proxy.url, name: 'conn-test', logger, retry });
    // Bring "NATS" up once the client has been turned away at least twice.
    await waitFor(
      () => lines.filter((l) => l.msg === 'NATS not reachable yet, retrying').length >= 2,
      'two logged retries',
    );
    await proxy.up();
    const nc = await connecting;
    try {
      await nc.flush();
      expect(lines.find((l) => l.msg === 'connected to NATS')?.attempt).toBeGreaterThanOrEqual(3);
    } finally {
      await nc.close();
      await proxy.down();
    }
  });

  it('stops waiting when aborted', async () => {
    const { logger } = captureLogger('silent');
    const proxy = natsProxy();
    await proxy.reservePort();
    const controller = new AbortController();
    const connecting = connectNats({
      servers: proxy.url,
      name: 'conn-test',
      logger,
      retry: { initialMs: 10_000, maxMs: 10_000 },
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 50);
    await expect(connecting).rejects.toThrow(/aborted/);
  });
});
