import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateInternalToken } from './internal.js';

/**
 * Development secrets: a fresh clone must start with no key set by hand, yet no key may be
 * committed. So the first process that needs them generates an Ed25519 pair and an internal
 * service credential into a git-ignored file (`.local/` at the repository root), and every later
 * process (and every other service) reads the same file. Production passes keys in the
 * environment and never reaches this code.
 */

export interface DevSecrets {
  /** PKCS#8 PEM */
  privateKey: string;
  /** SPKI PEM */
  publicKey: string;
  internalToken: string;
}

/** `<repo>/.local/dev-secrets.json`, whatever the working directory. */
export function defaultDevSecretsPath(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '../../../../.local/dev-secrets.json');
}

function isDevSecrets(value: unknown): value is DevSecrets {
  const v = value as Partial<DevSecrets> | null;
  return (
    typeof v?.privateKey === 'string' &&
    typeof v.publicKey === 'string' &&
    typeof v.internalToken === 'string'
  );
}

async function readSecrets(path: string): Promise<DevSecrets | undefined> {
  try {
    const parsed: unknown = JSON.parse(await readFile(path, 'utf8'));
    if (isDevSecrets(parsed)) return parsed;
    throw new Error(`${path} is not a dev secrets file; delete it to regenerate`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

export async function loadOrCreateDevSecrets(
  path: string = defaultDevSecretsPath(),
): Promise<DevSecrets> {
  const existing = await readSecrets(path);
  if (existing) return existing;

  const { privateKey, publicKey } = generateKeyPairSync('ed25519', {
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const secrets: DevSecrets = { privateKey, publicKey, internalToken: generateInternalToken() };

  await mkdir(dirname(path), { recursive: true });
  // Several services start at once: write a private temp file, then hard-link it into place,
  // which fails if another process won the race; then everyone reads the winner's file. The temp
  // name is random, not pid and time: two callers in one process can start in the same millisecond.
  const temp = `${path}.${randomUUID()}.tmp`;
  await writeFile(temp, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  try {
    await link(temp, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
  const stored = await readSecrets(path);
  if (!stored) throw new Error(`Could not create ${path}`);
  return stored;
}

/** The Ed25519 pair alone (same file as the internal token). */
export async function loadOrCreateDevKeyPair(
  path: string = defaultDevSecretsPath(),
): Promise<{ privateKey: string; publicKey: string }> {
  const { privateKey, publicKey } = await loadOrCreateDevSecrets(path);
  return { privateKey, publicKey };
}

export interface AuthSecrets {
  publicKey: string;
  /** Only when the environment or the dev file has one; only the users service needs it. */
  privateKey: string | undefined;
  internalToken: string;
}

/**
 * Keys and credential from the environment (JWT_PUBLIC_KEY, JWT_PRIVATE_KEY,
 * INTERNAL_API_TOKEN), each falling back to the shared dev file when unset.
 */
export async function resolveAuthSecrets(
  env: Record<string, string | undefined> = process.env,
  devSecretsPath: string = defaultDevSecretsPath(),
): Promise<AuthSecrets> {
  const fromEnv = {
    publicKey: env.JWT_PUBLIC_KEY || undefined,
    privateKey: env.JWT_PRIVATE_KEY || undefined,
    internalToken: env.INTERNAL_API_TOKEN || undefined,
  };
  // A public key in the environment without its private half is fine for verifiers; mixing an
  // env public key with the dev private key would mint tokens nobody accepts, so keys come as
  // a unit.
  if (fromEnv.publicKey && fromEnv.internalToken)
    return {
      publicKey: fromEnv.publicKey,
      privateKey: fromEnv.privateKey,
      internalToken: fromEnv.internalToken,
    };
  const dev = await loadOrCreateDevSecrets(devSecretsPath);
  return {
    publicKey: fromEnv.publicKey ?? dev.publicKey,
    privateKey: fromEnv.publicKey ? fromEnv.privateKey : dev.privateKey,
    internalToken: fromEnv.internalToken ?? dev.internalToken,
  };
}
