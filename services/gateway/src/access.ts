import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyRequest } from 'fastify';
import {
  UnauthorizedError,
  bearerToken,
  isAppError,
  type AccessTokenVerifier,
  type AppError,
  type TokenRevocationCheck,
} from '@shop/service-kit';

/**
 * Who may pass the gateway. One wildcard proxy route covers public and protected paths of the
 * same service (GET /v1/products/:id is public, PATCH of it is not), so the decision is made
 * here from method and path rather than by a route's `config.auth`.
 *
 * A verified token is also checked against revocations (a role change or a deleted account
 * since it was issued), like every service does: the gateway vouches for the identity it
 * forwards (`x-user-id`, `x-user-role`) and counts limits by it, so it must not vouch for a
 * revoked one. Redis down: accepted unchecked, as in the services (auth/revocation.ts).
 *
 * The token is checked in two steps around the rate limiter: `identify` verifies whatever
 * token came (so the limiter can count per user), `enforce` then refuses protected paths
 * without a valid one. A client spraying forged tokens is thereby still counted, per ip.
 */

/** The only paths anyone may call without a token (API.md). HEAD is GET without a body. */
const PUBLIC_ROUTES: ReadonlyArray<{ methods: readonly string[]; path: RegExp }> = [
  { methods: ['POST'], path: /^\/v1\/auth\/register$/ },
  { methods: ['POST'], path: /^\/v1\/auth\/login$/ },
  { methods: ['GET', 'HEAD'], path: /^\/v1\/products$/ },
  { methods: ['GET', 'HEAD'], path: /^\/v1\/products\/[^/]+$/ },
];

/** The request's path without its query string, as the client sent it. */
export function pathOf(request: FastifyRequest): string {
  const query = request.url.indexOf('?');
  return query === -1 ? request.url : request.url.slice(0, query);
}

export function isPublicRoute(method: string, path: string): boolean {
  return PUBLIC_ROUTES.some((route) => route.methods.includes(method) && route.path.test(path));
}

/** Headers only the gateway may set: whatever a client sends under these names is dropped. */
export const IDENTITY_HEADERS = { userId: 'x-user-id', role: 'x-user-role' } as const;
const GATEWAY_ONLY_HEADERS = [IDENTITY_HEADERS.userId, IDENTITY_HEADERS.role, 'x-internal-token'];

/** What the upstream headers are made from (reply-from hands over a loosely typed request). */
type UpstreamRequest = Pick<
  FastifyRequest,
  'identity' | 'id' | 'ip' | 'protocol' | 'host' | 'body'
>;

export function createAccessControl(
  verifier: AccessTokenVerifier,
  revocations?: TokenRevocationCheck,
) {
  // Why a presented token was refused, kept until `enforce` decides whether it matters.
  const refusals = new WeakMap<FastifyRequest, AppError>();

  return {
    async identify(request: FastifyRequest): Promise<void> {
      const header = request.headers.authorization;
      const token = bearerToken(Array.isArray(header) ? header[0] : header);
      if (!token) return;
      try {
        const identity = await verifier.verify(token);
        await revocations?.assertCurrent(identity);
        request.identity = identity;
      } catch (error) {
        if (!isAppError(error)) throw error;
        refusals.set(request, error);
      }
    },

    async enforce(request: FastifyRequest): Promise<void> {
      if (request.identity || isPublicRoute(request.method, pathOf(request))) return;
      throw refusals.get(request) ?? new UnauthorizedError('A bearer access token is required.');
    },

    /**
     * The headers sent upstream: the client's, minus what only the gateway may say, plus the
     * verified identity, the request id and the client's address. Authorization goes on
     * untouched: every service verifies the token again.
     */
    upstreamHeaders(request: UpstreamRequest, headers: IncomingHttpHeaders): IncomingHttpHeaders {
      const result: IncomingHttpHeaders = { ...headers };
      for (const name of GATEWAY_ONLY_HEADERS) delete result[name];
      if (request.identity) {
        result[IDENTITY_HEADERS.userId] = request.identity.userId;
        result[IDENTITY_HEADERS.role] = request.identity.role;
      }
      result['x-request-id'] = request.id;
      // Services trust X-Forwarded-* (they sit behind us), so these are replaced, never
      // appended to: a client-supplied chain would otherwise put a forged ip in audit rows.
      result['x-forwarded-for'] = request.ip;
      result['x-forwarded-proto'] = request.protocol;
      result['x-forwarded-host'] = request.host;
      // A body Fastify did not read (GET, HEAD) is not forwarded; neither is its length.
      if (request.body === undefined) {
        delete result['content-length'];
        delete result['transfer-encoding'];
      }
      return result;
    },
  };
}

export type AccessControl = ReturnType<typeof createAccessControl>;
