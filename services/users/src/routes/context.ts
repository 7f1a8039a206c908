import type { DataSource } from 'typeorm';
import type { FastifyRequest } from 'fastify';
import { UnauthorizedError, type AccessTokenSigner, type Identity } from '@shop/service-kit';
import type { PasswordHasher } from '../auth/passwords.js';
import type { TokenRevoker } from '../auth/revocations.js';
import type { Actor } from '../application/actor.js';

/** What the users routes need, built once in app.ts. */
export interface UsersRouteDeps {
  dataSource: DataSource;
  passwords: PasswordHasher;
  signer: AccessTokenSigner;
  /** Publishes, after the commit, the revocations of role changes and deletions. */
  revoker: TokenRevoker;
  /** The clock card expiry is judged by; tests may fix it. */
  now: () => Date;
}

// Bounded so a hostile header cannot bloat the audit log; ip_address is varchar(45).
const MAX_USER_AGENT = 512;
const MAX_IP = 45;

/** The audit "who, from where" of a request. */
export function actorOf(request: FastifyRequest): Actor {
  const userAgent = request.headers['user-agent'];
  return {
    userId: request.identity?.userId ?? null,
    ipAddress: request.ip ? request.ip.slice(0, MAX_IP) : null,
    userAgent: userAgent ? userAgent.slice(0, MAX_USER_AGENT) : null,
  };
}

/** The verified caller of an authenticated route (the auth hook has already run). */
export function callerOf(request: FastifyRequest): Identity {
  if (!request.identity) throw new UnauthorizedError();
  return request.identity;
}
