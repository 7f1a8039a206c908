import pg from 'pg';
import type { DataSource } from 'typeorm';
import type { Logger } from '../logger.js';
import { computeBackoff, type BackoffPolicy } from './backoff.js';

/**
 * A dedicated Postgres connection that LISTENs on one channel and calls `onNotify` for each
 * notification. LISTEN is per connection, so it cannot use a pooled one. If the connection is
 * lost it is re-established with backoff, and `onNotify` is called once after reconnecting
 * because notifications sent while it was down are gone (the relay's polling covers that gap
 * too, this just makes recovery immediate).
 */
export interface NotificationListener {
  stop(): Promise<void>;
}

export async function listenForNotifications(settings: {
  connection: pg.ClientConfig;
  channel: string;
  onNotify: () => void;
  logger: Logger;
  retry?: BackoffPolicy;
}): Promise<NotificationListener> {
  const { connection, channel, onNotify, logger } = settings;
  const retry = settings.retry ?? { initialMs: 200, maxMs: 10_000, jitter: 0.2 };
  let client: pg.Client | undefined;
  let stopped = false;
  let failures = 0;
  let reconnectTimer: NodeJS.Timeout | undefined;

  async function open(): Promise<void> {
    const next = new pg.Client(connection);
    next.on('notification', (message) => {
      if (message.channel === channel) onNotify();
    });
    // 'error' must have a listener or a dropped socket would crash the process.
    next.on('error', (error) => {
      logger.warn({ err: error, channel }, 'outbox listener connection failed');
    });
    next.on('end', () => {
      if (client === next) client = undefined;
      if (!stopped) scheduleReconnect();
    });
    try {
      await next.connect();
      await next.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    } catch (error) {
      next.removeAllListeners('end');
      await next.end().catch(() => undefined);
      throw error;
    }
    client = next;
  }

  function scheduleReconnect(): void {
    if (reconnectTimer || stopped) return;
    failures++;
    const delayMs = computeBackoff(failures, retry);
    logger.warn({ channel, retryInMs: delayMs, attempt: failures }, 'reconnecting outbox listener');
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      if (stopped) return;
      open().then(
        () => {
          failures = 0;
          logger.info({ channel }, 'outbox listener reconnected');
          onNotify();
        },
        (error: unknown) => {
          logger.warn({ err: error, channel }, 'outbox listener reconnect failed');
          scheduleReconnect();
        },
      );
    }, delayMs);
    reconnectTimer.unref();
  }

  try {
    await open();
  } catch (error) {
    // Start anyway: polling works without notifications, and we keep trying to listen.
    logger.warn({ err: error, channel }, 'outbox listener could not connect; polling only for now');
    scheduleReconnect();
  }

  return {
    async stop() {
      stopped = true;
      clearTimeout(reconnectTimer);
      const current = client;
      client = undefined;
      await current?.end().catch(() => undefined);
    },
  };
}

/**
 * Connection settings for a side connection to the same database as `dataSource`, for when the
 * caller does not pass them explicitly.
 */
export function connectionConfigOf(dataSource: DataSource): pg.ClientConfig {
  const options = dataSource.options as {
    url?: string;
    host?: string;
    port?: number;
    username?: string;
    password?: unknown;
    database?: string;
    ssl?: pg.ClientConfig['ssl'];
  };
  return {
    ...(options.url ? { connectionString: options.url } : {}),
    ...(options.host ? { host: options.host } : {}),
    ...(options.port ? { port: options.port } : {}),
    ...(options.username ? { user: options.username } : {}),
    ...(typeof options.password === 'string' ? { password: options.password } : {}),
    ...(options.database ? { database: options.database } : {}),
    ...(options.ssl ? { ssl: options.ssl } : {}),
    application_name: 'outbox-listener',
  };
}
