import type { Logger } from './logger.js';

/**
 * Graceful shutdown: the order is what keeps work from being lost. Stop taking HTTP requests
 * and finish those in flight first (they may write to the outbox), then stop consumers and
 * relays, drain NATS (in-flight messages are acked or redelivered, never dropped), and close
 * the database last because everything before it may still need it. A timer force-exits if a
 * step hangs, so an orchestrator's SIGKILL never has to.
 */

export interface ShutdownStep {
  name: string;
  run: () => Promise<unknown> | unknown;
}

export interface ShutdownOptions {
  logger: Logger;
  /** Run in this order. */
  steps: ShutdownStep[];
  /** Whole-shutdown budget before a forced exit; default 10000 ms. */
  timeoutMs?: number;
  signals?: NodeJS.Signals[];
  /** Injected by tests. */
  exit?: (code: number) => void;
}

export interface Shutdown {
  /**
   * Runs the steps once; later calls return the same promise. Resolves with the exit code it
   * passed to `exit` (0 if every step succeeded, 1 otherwise or on timeout).
   */
  run(reason: string): Promise<number>;
  /** Registers the signal handlers; returns a function removing them. */
  install(): () => void;
}

export function createShutdown(options: ShutdownOptions): Shutdown {
  const { logger, steps } = options;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let running: Promise<number> | undefined;

  async function runSteps(): Promise<number> {
    let failed = false;
    for (const step of steps) {
      const started = Date.now();
      logger.info({ step: step.name }, 'shutdown step started');
      try {
        await step.run();
        logger.info({ step: step.name, durationMs: Date.now() - started }, 'shutdown step done');
      } catch (error) {
        // Keep going: a failed NATS drain must not stop the database from closing.
        failed = true;
        logger.error({ err: error, step: step.name }, 'shutdown step failed');
      }
    }
    return failed ? 1 : 0;
  }

  function run(reason: string): Promise<number> {
    if (running) {
      logger.info({ reason }, 'shutdown already in progress');
      return running;
    }
    logger.info({ reason, timeoutMs }, 'shutting down');
    running = new Promise<number>((resolve) => {
      // Whichever comes first, the steps or the timer, decides the exit; only once.
      let settled = false;
      const finish = (code: number) => {
        if (settled) return;
        settled = true;
        exit(code);
        resolve(code);
      };
      const timer = setTimeout(() => {
        logger.error({ timeoutMs }, 'shutdown timed out; forcing exit');
        finish(1);
      }, timeoutMs);
      void runSteps().then((code) => {
        clearTimeout(timer);
        if (!settled) logger.info({ code }, 'shutdown complete');
        finish(code);
      });
    });
    return running;
  }

  return {
    run,
    install() {
      const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
      const handler = (signal: NodeJS.Signals) => void run(signal);
      for (const signal of signals) process.on(signal, handler);
      return () => {
        for (const signal of signals) process.off(signal, handler);
      };
    },
  };
}
