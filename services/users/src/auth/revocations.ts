import {
  TOKEN_REVOCATION_MARGIN_SECONDS,
  storeTokenRevocation,
  type Logger,
  type RedisHandle,
  type TokenRevocation,
} from '@shop/service-kit';
import type { DataSource } from 'typeorm';
import { createUsersRepository } from '../db/repositories/users.js';

/**
 * Makes a committed revocation (role change, deletion) known to every service: its new token
 * version goes to Redis, which every authenticator reads (service-kit auth/revocation.ts).
 * The route awaits `publish` before answering, so once the admin sees 200 the old tokens are
 * refused everywhere.
 *
 * Redis is a copy; the users table is the truth. What Redis missed (it was down when the
 * change committed, or restarted empty) is written again from the table: every revocation
 * still within a token's lifetime, whenever Redis (re)connects, and a few seconds after a write
 * failed while it looked connected. Until then other services accept the old tokens (fail open,
 * counted there); this service checks its own table instead (service.ts).
 */

const RETRY_AFTER_MS = 5000;

export interface TokenRevokerSettings {
  dataSource: DataSource;
  redis: RedisHandle;
  logger: Logger;
  /** ACCESS_TOKEN_TTL_SECONDS: how long a token older than a revocation could still be used. */
  tokenTtlSeconds: number;
}

export function createTokenRevoker(settings: TokenRevokerSettings) {
  const { dataSource, redis, logger, tokenTtlSeconds } = settings;
  let retry: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;
  let stopped = false;

  function retryLater(): void {
    if (retry || stopped) return;
    retry = setTimeout(() => {
      retry = undefined;
      void resync();
    }, RETRY_AFTER_MS);
    // A pending retry must not keep a stopping process alive.
    retry.unref();
  }

  /** Writes every revocation that still matters; returns how many. Never throws. */
  function resync(): Promise<number> {
    // One at a time: a reconnection during a rewrite needs no second one alongside.
    running ??= rewrite().finally(() => (running = undefined));
    return running;
  }

  async function rewrite(): Promise<number> {
    // Not connected: the 'ready' listener runs this again when it is.
    if (stopped || !redis.isHealthy()) return 0;
    try {
      const since = new Date(
        Date.now() - (tokenTtlSeconds + TOKEN_REVOCATION_MARGIN_SECONDS) * 1000,
      );
      const revocations = await createUsersRepository(dataSource.manager).revocationsSince(since);
      for (const revocation of revocations)
        await storeTokenRevocation(redis.client, revocation, tokenTtlSeconds);
      if (revocations.length > 0)
        logger.info({ count: revocations.length }, 'token revocations written to redis');
      return revocations.length;
    } catch (error) {
      logger.warn({ err: error }, 'token revocations not rewritten to redis; retrying');
      retryLater();
      return 0;
    }
  }

  const onReady = () => void resync();

  return {
    /** After the commit: makes the revocation effective everywhere. Never throws. */
    async publish(revocation: TokenRevocation): Promise<void> {
      try {
        await storeTokenRevocation(redis.client, revocation, tokenTtlSeconds);
      } catch (error) {
        // Committed all the same: the table has it, and the rewrite will bring it to Redis.
        logger.warn(
          { err: error, userId: revocation.userId },
          'token revocation not stored in redis; other services accept old tokens until it is',
        );
        retryLater();
      }
    },

    resync,

    /** Rewrites now and on every reconnection, until `stop`. */
    start(): void {
      redis.client.on('ready', onReady);
      void resync();
    },

    /** Before the database closes: no new rewrite, and the one in progress finished. */
    async stop(): Promise<void> {
      stopped = true;
      redis.client.off('ready', onReady);
      clearTimeout(retry);
      retry = undefined;
      await running;
    },
  };
}

export type TokenRevoker = ReturnType<typeof createTokenRevoker>;
