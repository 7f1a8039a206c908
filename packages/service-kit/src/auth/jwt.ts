import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import { UnauthorizedError } from '../errors.js';
import { isRole, type Identity } from './roles.js';

/**
 * Access tokens are asymmetric JWTs: only the users service holds the private key; every other
 * service and the gateway verify with the public key, so a leaked verifier key cannot mint
 * tokens. The accepted algorithm is pinned by the key's type, never taken from the token
 * header, which shuts out `alg: none` and HS256-with-the-public-key confusion.
 */

export const DEFAULT_ISSUER = 'shop-users';
export const DEFAULT_AUDIENCE = 'shop-api';
export const DEFAULT_ACCESS_TOKEN_TTL_SECONDS = 15 * 60;

/** The claim carrying the identity's `tokenVersion`. */
const TOKEN_VERSION_CLAIM = 'ver';

function isTokenVersion(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Environment variables often carry PEMs with literal `\n`; accept both. */
function normalizePem(text: string): string {
  return text.includes('\\n') ? text.replace(/\\n/g, '\n') : text;
}

function isJwkText(text: string): boolean {
  return text.trimStart().startsWith('{');
}

function algorithmsFor(key: KeyObject): string[] {
  switch (key.asymmetricKeyType) {
    case 'ed25519':
      return ['EdDSA', 'Ed25519'];
    case 'rsa':
      return ['RS256'];
    default:
      throw new Error(
        `Unsupported JWT key type ${String(key.asymmetricKeyType)}; use Ed25519 or RSA`,
      );
  }
}

/** Reads a public key from PEM (SPKI) or JWK text. Refuses private keys on purpose. */
export function parsePublicKey(text: string): KeyObject {
  const normalized = normalizePem(text).trim();
  if (normalized.includes('PRIVATE KEY') || (isJwkText(normalized) && /"d"\s*:/.test(normalized)))
    throw new Error('A verifier must be given a public key, not a private one');
  const key = isJwkText(normalized)
    ? createPublicKey({ key: JSON.parse(normalized) as Record<string, unknown>, format: 'jwk' })
    : createPublicKey(normalized);
  algorithmsFor(key);
  return key;
}

export function parsePrivateKey(text: string): KeyObject {
  const normalized = normalizePem(text).trim();
  const key = isJwkText(normalized)
    ? createPrivateKey({ key: JSON.parse(normalized) as Record<string, unknown>, format: 'jwk' })
    : createPrivateKey(normalized);
  algorithmsFor(key);
  return key;
}

export interface VerifierOptions {
  /** PEM (SPKI) or JWK text of the users service's public key. */
  publicKey: string;
  issuer?: string;
  audience?: string;
  /** Seconds of clock skew tolerated on `exp`/`nbf`. */
  clockToleranceSeconds?: number;
}

export interface AccessTokenVerifier {
  /** Resolves the identity or throws UnauthorizedError (401) for any bad token. */
  verify(token: string): Promise<Identity>;
}

export function createAccessTokenVerifier(options: VerifierOptions): AccessTokenVerifier {
  const key = parsePublicKey(options.publicKey);
  const algorithms = algorithmsFor(key);
  const issuer = options.issuer ?? DEFAULT_ISSUER;
  const audience = options.audience ?? DEFAULT_AUDIENCE;
  const clockTolerance = options.clockToleranceSeconds ?? 5;

  return {
    async verify(token) {
      let payload: Record<string, unknown>;
      try {
        ({ payload } = await jwtVerify(token, key, {
          algorithms,
          issuer,
          audience,
          clockTolerance,
          requiredClaims: ['exp', 'sub'],
        }));
      } catch (error) {
        // One answer for every failure: which check failed is of no use to a client.
        const expired = (error as { code?: string }).code === 'ERR_JWT_EXPIRED';
        throw new UnauthorizedError(
          expired ? 'The access token has expired.' : 'The access token is invalid.',
        );
      }
      const { sub, role, [TOKEN_VERSION_CLAIM]: version } = payload;
      if (typeof sub !== 'string' || sub.length === 0 || !isRole(role))
        throw new UnauthorizedError('The access token is invalid.');
      // Optional: tokens signed before versions existed still verify until they expire.
      if (version === undefined) return { userId: sub, role };
      if (!isTokenVersion(version)) throw new UnauthorizedError('The access token is invalid.');
      return { userId: sub, role, tokenVersion: version };
    },
  };
}

export interface SignerOptions {
  /** PEM (PKCS#8) or JWK text of the private key. */
  privateKey: string;
  ttlSeconds?: number;
  issuer?: string;
  audience?: string;
}

export interface AccessTokenSigner {
  sign(identity: Identity, options?: { ttlSeconds?: number; now?: Date }): Promise<string>;
  /** Lifetime in seconds, for the login answer's `expiresIn`. */
  readonly ttlSeconds: number;
}

/** Mints access tokens; used by the users service and by tests. */
export function createAccessTokenSigner(options: SignerOptions): AccessTokenSigner {
  const key = parsePrivateKey(options.privateKey);
  const [alg = 'EdDSA'] = algorithmsFor(key);
  const ttlSeconds = options.ttlSeconds ?? DEFAULT_ACCESS_TOKEN_TTL_SECONDS;
  const issuer = options.issuer ?? DEFAULT_ISSUER;
  const audience = options.audience ?? DEFAULT_AUDIENCE;

  return {
    ttlSeconds,
    async sign({ userId, role, tokenVersion }: Identity, signOptions = {}) {
      const issuedAt = Math.floor((signOptions.now ?? new Date()).getTime() / 1000);
      if (tokenVersion !== undefined && !isTokenVersion(tokenVersion))
        throw new TypeError('tokenVersion must be a non-negative safe integer');
      const claims =
        tokenVersion === undefined ? { role } : { role, [TOKEN_VERSION_CLAIM]: tokenVersion };
      return new SignJWT(claims)
        .setProtectedHeader({ alg, typ: 'JWT' })
        .setSubject(userId)
        .setIssuer(issuer)
        .setAudience(audience)
        .setIssuedAt(issuedAt)
        .setExpirationTime(issuedAt + (signOptions.ttlSeconds ?? ttlSeconds))
        .sign(key);
    },
  };
}

/** The token from `Authorization: Bearer <token>`, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}
