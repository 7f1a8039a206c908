import type { FastifyRequest } from 'fastify';
import { bearerToken, type AccessTokenVerifier } from '../auth/jwt.js';
import { INTERNAL_TOKEN_HEADER, internalTokenMatches } from '../auth/internal.js';
import type { TokenRevocationCheck } from '../auth/revocation.js';
import type { AuthPolicy } from '../auth/roles.js';
import { ForbiddenError, UnauthorizedError } from '../errors.js';

export interface AuthSettings {
  /** Verifies access tokens; required if any route is 'authenticated' or role-restricted. */
  verifier?: AccessTokenVerifier;
  /**
   * Refuses tokens revoked since they were issued (role changed, account deleted) with 401
   * `unauthorized`. Optional: without it a verified token is good until it expires.
   */
  revocations?: TokenRevocationCheck;
  /** The service credential (INTERNAL_API_TOKEN); required if any route is 'internal'. */
  internalToken?: string;
  /**
   * Policy for routes that declare none. Unset (the default), such a route fails at start-up:
   * a forgotten declaration must not silently make a route public.
   */
  defaultPolicy?: AuthPolicy;
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Runs in onRequest, before the body is even read, so 401/403 win over 400/413/415 and an
 * unauthenticated client cannot make the service parse a megabyte of JSON.
 */
export function createAuthenticator(settings: AuthSettings) {
  return async function authenticate(request: FastifyRequest): Promise<void> {
    // The 404 handler runs the root hooks too; unknown paths answer 404 for everyone.
    if (request.is404) return;
    const policy = request.routeOptions.config.auth ?? settings.defaultPolicy;
    if (policy === undefined || policy === 'public') return;

    if (policy === 'internal') {
      if (!settings.internalToken)
        throw new Error('Internal route without a configured internal token');
      const presented = headerValue(request.headers[INTERNAL_TOKEN_HEADER]);
      if (!internalTokenMatches(presented, settings.internalToken))
        throw new UnauthorizedError('A valid service credential is required.');
      return;
    }

    if (!settings.verifier) throw new Error('Authenticated route without a token verifier');
    const token = bearerToken(headerValue(request.headers.authorization));
    if (!token) throw new UnauthorizedError('A bearer access token is required.');
    const identity = await settings.verifier.verify(token);
    // The signature says the token was good when issued; this says it still is. Before the
    // role check: a revoked token is no token, so 401 wins over 403.
    await settings.revocations?.assertCurrent(identity);
    request.identity = identity;

    if (policy !== 'authenticated' && !policy.roles.includes(identity.role))
      throw new ForbiddenError('Your role does not allow this.');
  };
}
