import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { serviceCounter } from '../counters.js';
import { UnauthorizedError } from '../errors.js';
import type { Logger } from '../logger.js';
import { writeIfNewer, type RedisHandle } from '../redis.js';
import type { Identity } from './roles.js';

/**
 * Access tokens are checked without asking the users service, so on their own they would carry
 * a demoted admin's role, or a deleted account, until they expire (15 minutes). Revocation ends
 * them at once, everywhere:
 *
 * - Every account has a token version (`users.token_version`). Login reads it in the same row
 *   as the role and signs it into the token (`ver`), so a token can never pair a new version
 *   with an old role.
 * - A role change or a deletion raises the version in its own transaction and, after the
 *   commit and before answering, stores the new version in Redis under the user's key: tokens
 *   below it are revoked.
 * - Every service and the gateway read that key on each authenticated request and answer 401
 *   `unauthorized` to an older token: one HGET, ~0.05 ms on an idle local Redis, well under
 *   1 ms loaded (at most the 500 ms command timeout if Redis hangs). Nothing is cached in
 *   process: a cache would delay the revocation by its own lifetime.
 *
 * A counter rather than a time: a JWT's `iat` has one-second resolution, and the replicas that
 * sign tokens and stamp revocations do not share a clock, so "issued before the revocation"
 * cannot be told by time for a login in the same second; it can by version, exactly.
 *
 * The key lives as long as a token older than the revocation could (token TTL plus a margin);
 * after that such tokens have expired anyway. Redis is a copy: the users table is the truth,
 * and the users service writes missed keys again when Redis comes back.
 *
 * Redis down (the system's rule: degraded, not unready) means tokens are accepted unchecked,
 * fail open: they are still verified and live 15 minutes at most. Each such token is counted
 * (`auth_token_revocation_fail_open_total`) and a warning logged at most every 10 s. A service
 * that owns the truth (users) passes a `fallback` and checks its own table instead.
 */

/** Holds `{ version, value: revokedAt }`: tokens of the user below `version` are revoked. */
export const TOKEN_REVOCATION_KEY_PREFIX = 'auth:revoked-before:';

/** Beyond the token TTL: the verifier's clock tolerance and the sign-after-read latency. */
export const TOKEN_REVOCATION_MARGIN_SECONDS = 60;

const WARNING_INTERVAL_MS = 10_000;

export function tokenRevocationKey(userId: string): string {
  return `${TOKEN_REVOCATION_KEY_PREFIX}${userId}`;
}

/** That `userId`'s tokens below `tokenVersion` are revoked, since `revokedAt`. */
export interface TokenRevocation {
  userId: string;
  tokenVersion: number;
  revokedAt: Date;
}

/** Seconds a revocation must be remembered: until every token older than it has expired. */
export function revocationTtlSeconds(
  revokedAt: Date,
  tokenTtlSeconds: number,
  now: Date = new Date(),
): number {
  const elapsed = Math.floor((now.getTime() - revokedAt.getTime()) / 1000);
  return tokenTtlSeconds + TOKEN_REVOCATION_MARGIN_SECONDS - elapsed;
}

/**
 * Stores a revocation; for the users service, after the commit that raised the version. Only
 * ever raises the stored version, so two revocations racing (or a late rewrite) leave the
 * newest. Returns false when it is too old to matter. Throws when Redis fails: the caller
 * writes it again later.
 */
export async function storeTokenRevocation(
  redis: Redis,
  revocation: TokenRevocation,
  tokenTtlSeconds: number,
): Promise<boolean> {
  const ttlSeconds = revocationTtlSeconds(revocation.revokedAt, tokenTtlSeconds);
  if (ttlSeconds <= 0) return false;
  await writeIfNewer(
    redis,
    tokenRevocationKey(revocation.userId),
    revocation.tokenVersion,
    revocation.revokedAt.toISOString(),
    ttlSeconds,
  );
  return true;
}

/** A user's current token version from the source of truth; null if the account is gone. */
export type TokenVersionLookup = (userId: string) => Promise<number | null>;

export interface TokenRevocationCheckOptions {
  redis: RedisHandle;
  logger: Logger;
  registry: Registry;
  /**
   * Asked when Redis cannot answer. Without it (every service but users) such tokens are
   * accepted: fail open.
   */
  fallback?: TokenVersionLookup;
}

export interface TokenRevocationCheck {
  /** Resolves when the token is current; throws 401 `unauthorized` when it was revoked. */
  assertCurrent(identity: Identity): Promise<void>;
}

export function createTokenRevocationCheck(
  options: TokenRevocationCheckOptions,
): TokenRevocationCheck {
  const { redis, logger, fallback } = options;
  const unchecked = serviceCounter(options.registry, {
    name: 'auth_token_revocation_fail_open_total',
    help: 'Access tokens accepted without a revocation check because Redis could not answer',
  });
  let lastWarning = 0;

  function warnUnchecked(error: unknown): void {
    unchecked.inc();
    const now = Date.now();
    if (now - lastWarning < WARNING_INTERVAL_MS) return;
    lastWarning = now;
    logger.warn(
      { err: error },
      'token revocations unreadable (Redis down): accepting access tokens unchecked',
    );
  }

  /** The lowest version still valid, or an error when the store cannot say. */
  async function fromRedis(userId: string): Promise<number | Error> {
    // Not connected: do not even ask, so a down Redis costs no latency.
    if (!redis.isHealthy()) return new Error('redis is not connected');
    try {
      const stored = await redis.client.hget(tokenRevocationKey(userId), 'version');
      return stored === null ? 0 : Number(stored);
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    }
  }

  async function fromFallback(userId: string, cause: Error): Promise<number | Error> {
    if (!fallback) return cause;
    try {
      const current = await fallback(userId);
      // A deleted (or unknown) account: none of its tokens is valid.
      return current ?? Number.POSITIVE_INFINITY;
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    }
  }

  return {
    async assertCurrent(identity) {
      let lowestValid = await fromRedis(identity.userId);
      if (lowestValid instanceof Error)
        lowestValid = await fromFallback(identity.userId, lowestValid);
      if (lowestValid instanceof Error) {
        warnUnchecked(lowestValid);
        return;
      }
      if ((identity.tokenVersion ?? 0) < lowestValid)
        throw new UnauthorizedError(
          'The access token was revoked (role changed or account deleted); log in again.',
          'unauthorized',
        );
    },
  };
}
