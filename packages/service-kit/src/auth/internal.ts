import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** The header carrying the service credential on internal calls (never the user's JWT header). */
export const INTERNAL_TOKEN_HEADER = 'x-internal-token';

/**
 * Constant-time comparison of the presented credential with the expected one. Both sides are
 * hashed first so the comparison takes the same time whatever the presented length.
 */
export function internalTokenMatches(presented: string | undefined, expected: string): boolean {
  if (presented === undefined || expected.length === 0) return false;
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** A fresh random credential for development runs. */
export function generateInternalToken(): string {
  return randomBytes(32).toString('base64url');
}
