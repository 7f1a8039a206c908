import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  atLeast,
  createAccessTokenSigner,
  createAccessTokenVerifier,
  internalTokenMatches,
  loadOrCreateDevKeyPair,
  loadOrCreateDevSecrets,
  resolveAuthSecrets,
} from '../../src/auth/index.js';
import { UnauthorizedError } from '../../src/errors.js';

const pem = (type: 'ed25519' | 'rsa') =>
  type === 'rsa'
    ? generateKeyPairSync('rsa', {
        modulusLength: 2048,
        privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
        publicKeyEncoding: { type: 'spki', format: 'pem' },
      })
    : generateKeyPairSync('ed25519', {
        privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
        publicKeyEncoding: { type: 'spki', format: 'pem' },
      });

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

async function expect401(promise: Promise<unknown>, detail?: RegExp) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UnauthorizedError);
  expect((error as UnauthorizedError).status).toBe(401);
  if (detail) expect((error as Error).message).toMatch(detail);
}

describe('access tokens', () => {
  const keys = pem('ed25519');
  const signer = createAccessTokenSigner({ privateKey: keys.privateKey });
  const sut = createAccessTokenVerifier({ publicKey: keys.publicKey });

  it('round-trips the identity with EdDSA', async () => {
    const token = await signer.sign({ userId: 'user-1', role: 'manager' });
    expect(JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString())).toMatchObject({
      alg: 'EdDSA',
    });
    await expect(sut.verify(token)).resolves.toEqual({ userId: 'user-1', role: 'manager' });
  });

  it('round-trips with RS256 too, and accepts PEMs with escaped newlines', async () => {
    const rsa = pem('rsa');
    const rsaSigner = createAccessTokenSigner({
      privateKey: rsa.privateKey.replace(/\n/g, '\\n'),
    });
    const verifier = createAccessTokenVerifier({ publicKey: rsa.publicKey.replace(/\n/g, '\\n') });
    const token = await rsaSigner.sign({ userId: 'u', role: 'customer' });
    await expect(verifier.verify(token)).resolves.toEqual({ userId: 'u', role: 'customer' });
  });

  it('rejects a tampered payload', async () => {
    const token = await signer.sign({ userId: 'user-1', role: 'customer' });
    const [header, payload, signature] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as object;
    const forged = `${header}.${b64({ ...claims, role: 'admin' })}.${signature}`;
    await expect401(sut.verify(forged), /invalid/);
  });

  it('rejects alg none', async () => {
    const now = Math.floor(Date.now() / 1000);
    const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({
      sub: 'user-1',
      role: 'admin',
      iss: 'shop-users',
      aud: 'shop-api',
      iat: now,
      exp: now + 600,
    })}.`;
    await expect401(sut.verify(unsigned));
  });

  it('rejects an expired token', async () => {
    const token = await signer.sign(
      { userId: 'user-1', role: 'admin' },
      { now: new Date(Date.now() - 3600_000), ttlSeconds: 60 },
    );
    await expect401(sut.verify(token), /expired/);
  });

  it('rejects a token signed by another key', async () => {
    const other = createAccessTokenSigner({ privateKey: pem('ed25519').privateKey });
    await expect401(sut.verify(await other.sign({ userId: 'user-1', role: 'admin' })));
  });

  it('rejects an HS256 token made with the public key as the secret', async () => {
    const { SignJWT } = await import('jose');
    const token = await new SignJWT({ role: 'admin' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('x')
      .setIssuer('shop-users')
      .setAudience('shop-api')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(keys.publicKey));
    await expect401(sut.verify(token));
  });

  it('rejects an unknown role and another audience', async () => {
    const { SignJWT } = await import('jose');
    const { createPrivateKey } = await import('node:crypto');
    const key = createPrivateKey(keys.privateKey);
    const make = (role: string, audience: string) =>
      new SignJWT({ role })
        .setProtectedHeader({ alg: 'EdDSA' })
        .setSubject('x')
        .setIssuer('shop-users')
        .setAudience(audience)
        .setExpirationTime('5m')
        .sign(key);
    await expect401(sut.verify(await make('superuser', 'shop-api')));
    await expect401(sut.verify(await make('admin', 'elsewhere')));
  });

  it('refuses to build a verifier from a private key', () => {
    expect(() => createAccessTokenVerifier({ publicKey: keys.privateKey })).toThrow(/public key/);
  });
});

describe('roles and the service credential', () => {
  it('orders roles strongest first', () => {
    expect(atLeast('manager')).toEqual(['admin', 'manager']);
    expect(atLeast('customer')).toEqual(['admin', 'manager', 'employee', 'customer']);
  });

  it('compares the internal token exactly', () => {
    expect(internalTokenMatches('secret-token', 'secret-token')).toBe(true);
    expect(internalTokenMatches('secret-toke', 'secret-token')).toBe(false);
    expect(internalTokenMatches(undefined, 'secret-token')).toBe(false);
    expect(internalTokenMatches('', '')).toBe(false);
  });
});

describe('development secrets', () => {
  it('generates one key pair once and reuses it, even when raced', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dev-keys-'));
    const path = join(dir, 'nested', 'dev-secrets.json');
    try {
      const results = await Promise.all(
        Array.from({ length: 5 }, () => loadOrCreateDevSecrets(path)),
      );
      expect(new Set(results.map((r) => r.publicKey)).size).toBe(1);
      const again = await loadOrCreateDevKeyPair(path);
      expect(again.publicKey).toBe(results[0]!.publicKey);
      expect((await stat(path)).mode & 0o777).toBe(0o600);
      expect(JSON.parse(await readFile(path, 'utf8'))).toHaveProperty('internalToken');

      // The pair works end to end.
      const token = await createAccessTokenSigner({ privateKey: again.privateKey }).sign({
        userId: 'u',
        role: 'employee',
      });
      const verifier = createAccessTokenVerifier({ publicKey: again.publicKey });
      await expect(verifier.verify(token)).resolves.toEqual({ userId: 'u', role: 'employee' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('prefers keys from the environment', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dev-keys-'));
    const path = join(dir, 'dev-secrets.json');
    try {
      const keys = pem('ed25519');
      const secrets = await resolveAuthSecrets(
        { JWT_PUBLIC_KEY: keys.publicKey, INTERNAL_API_TOKEN: 'from-env-token' },
        path,
      );
      expect(secrets).toEqual({
        publicKey: keys.publicKey,
        privateKey: undefined,
        internalToken: 'from-env-token',
      });
      await expect(stat(path)).rejects.toThrow();

      const fallback = await resolveAuthSecrets({}, path);
      const dev = await loadOrCreateDevSecrets(path);
      expect(fallback).toEqual(dev);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
