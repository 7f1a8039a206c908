import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from '../logger.js';
import { computeBackoff, sleep, type BackoffPolicy } from './backoff.js';

export interface NatsConnectSettings {
  /** e.g. `nats://127.0.0.1:4222`; several for a cluster. */
  servers: string | string[];
  /** Shown in the server's connection list: the service name. */
  name: string;
  logger: Logger;
  /** Delays between first-connect attempts. Default 250 ms doubling up to 10 s. */
  retry?: BackoffPolicy;
  /** Give up after this many failed first-connect attempts. Default: never give up. */
  maxAttempts?: number;
  /** Aborting stops the first-connect loop (it then rejects), e.g. on SIGTERM. */
  signal?: AbortSignal;
  /** Pause between reconnect attempts once connected. Default 1 s. */
  reconnectTimeWaitMs?: number;
}

const DEFAULT_RETRY: BackoffPolicy = { initialMs: 250, maxMs: 10_000, jitter: 0.2 };

/**
 * Connects to NATS, waiting for it if it is not up yet: a service started before NATS (as
 * happens when everything boots at once) retries with capped exponential backoff and logs
 * each failure, instead of crashing. Once connected, the client reconnects by itself forever;
 * status changes are logged so an outage is visible.
 */
export async function connectNats(settings: NatsConnectSettings): Promise<NatsConnection> {
  const { servers, name, logger, retry = DEFAULT_RETRY, maxAttempts = Infinity, signal } = settings;
  for (let attempt = 1; ; attempt++) {
    if (signal?.aborted) throw new Error('NATS connect aborted');
    try {
      const nc = await connect({
        servers,
        name,
        reconnect: true,
        maxReconnectAttempts: -1,
        reconnectTimeWait: settings.reconnectTimeWaitMs ?? 1_000,
      });
      logger.info({ server: nc.getServer(), attempt }, 'connected to NATS');
      void logStatus(nc, logger);
      return nc;
    } catch (error) {
      if (attempt >= maxAttempts) {
        logger.error({ err: error, attempt }, 'could not connect to NATS, giving up');
        throw error;
      }
      const delayMs = computeBackoff(attempt, retry);
      logger.warn(
        { err: error, attempt, retryInMs: delayMs, servers },
        'NATS not reachable yet, retrying',
      );
      await sleep(delayMs, signal);
    }
  }
}

async function logStatus(nc: NatsConnection, logger: Logger): Promise<void> {
  for await (const status of nc.status()) {
    switch (status.type) {
      case 'disconnect':
        logger.warn({ server: status.server }, 'NATS disconnected');
        break;
      case 'reconnect':
        logger.info({ server: status.server }, 'NATS reconnected');
        break;
      case 'error':
        logger.error({ err: status.error }, 'NATS error');
        break;
      default:
        break;
    }
  }
}
