import { randomBytes } from 'node:crypto';
import { argon2id, hash, verify } from 'argon2';

/**
 * argon2id with OWASP's minimum profile (19 MiB, 2 passes, 1 lane): slow enough to make
 * offline guessing expensive, cheap enough that login does not starve a small machine.
 */
const HASH_OPTIONS = { type: argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /**
   * Whether `password` matches `storedHash`. With no stored hash (unknown email) it still
   * verifies against a dummy hash of the same cost and answers false, so an unknown email and
   * a wrong password take the same time and cannot be told apart.
   */
  verify(storedHash: string | null, password: string): Promise<boolean>;
}

export async function createPasswordHasher(): Promise<PasswordHasher> {
  // A random password nobody knows, hashed once per process with the same parameters.
  const dummyHash = await hash(randomBytes(32).toString('base64url'), HASH_OPTIONS);

  return {
    hash: (password) => hash(password, HASH_OPTIONS),
    async verify(storedHash, password) {
      try {
        const matches = await verify(storedHash ?? dummyHash, password);
        return storedHash !== null && matches;
      } catch {
        // A malformed stored hash is a failed login, never a 500 that reveals the account.
        return false;
      }
    },
  };
}
