import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  backupFileName,
  backupFormatOf,
  checkBackupFreshness,
  decryptFile,
  encryptFile,
  keyFingerprint,
  parseBackupFileName,
  pruneBackups,
  writeFreshnessMetrics,
} from '../../src/db/index.js';

// Backup files without a database: names, retention, the freshness check and encryption,
// all on real files in a temporary directory.

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOW = new Date('2026-03-20T12:00:00Z');
const ago = (ms: number) => new Date(NOW.getTime() - ms);

/** What pg_dump -Fc writes first, so the freshness check takes the file for a dump. */
const DUMP_BYTES = Buffer.concat([Buffer.from('PGDMP'), randomBytes(64)]);

let root: string;
let counter = 0;
async function freshDir(): Promise<string> {
  counter += 1;
  const dir = join(root, `case-${counter}`);
  await mkdir(dir);
  return dir;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'db-backup-files-'));
});

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('backup file names', () => {
  it('names a backup by schema and UTC start time, and reads the name back', () => {
    const at = new Date('2026-01-02T03:04:05.678Z');
    expect(backupFileName('users', at)).toBe('users-20260102T030405Z.dump');
    expect(backupFileName('order_history', at, true)).toBe(
      'order_history-20260102T030405Z.dump.enc',
    );
    expect(parseBackupFileName('order_history-20260102T030405Z.dump.enc')).toEqual({
      schema: 'order_history',
      takenAt: new Date('2026-01-02T03:04:05Z'),
      encrypted: true,
    });
    // The form the docs used before: minutes only, no Z; still UTC.
    expect(parseBackupFileName('users-20260101T0300.dump')).toEqual({
      schema: 'users',
      takenAt: new Date('2026-01-01T03:00:00Z'),
      encrypted: false,
    });
  });

  it('ignores every other name', () => {
    for (const name of [
      'users.dump',
      'Users-20260101T030000Z.dump',
      'users-20260231T030000Z.dump',
      'users-20260101T250000Z.dump',
      'users-20260101T030000Z.dump.partial',
      'users-20260101T030000Z.sql.gz',
      'users-audit_logs_2024_01.dump',
    ]) {
      expect(parseBackupFileName(name), name).toBeNull();
    }
    expect(() => backupFileName('Users; DROP', NOW)).toThrow(/lower-case SQL identifier/);
  });
});

describe('pruneBackups', () => {
  async function populate(dir: string): Promise<void> {
    // users: one a day at 03:00 for ten days; orders: two, both long ago.
    for (let day = 0; day < 10; day += 1) {
      const at = new Date(Date.UTC(2026, 2, 20 - day, 3));
      await writeFile(join(dir, backupFileName('users', at, day % 2 === 0)), DUMP_BYTES);
    }
    await writeFile(join(dir, backupFileName('orders', ago(40 * DAY))), DUMP_BYTES);
    await writeFile(join(dir, backupFileName('orders', ago(41 * DAY))), DUMP_BYTES);
    // Never touched: other names, leftovers of a failed run, subdirectories.
    await writeFile(join(dir, 'notes.txt'), 'keep me');
    await writeFile(join(dir, 'users-20200101T030000Z.dump.partial'), 'half');
    await mkdir(join(dir, 'users-20200101T030000Z.dump'));
  }

  it('deletes what is older than the limit, always keeping the newest of each schema', async () => {
    const dir = await freshDir();
    await populate(dir);

    const result = await pruneBackups({ dir, keepDays: 5, keepLast: 3, now: NOW });

    // users: 03:00 today to four days ago are within 5 days (the newest three would stay anyway);
    // five to nine days ago go. orders: older than the limit, but the newest three always stay.
    expect(result.deleted.map((backup) => backup.name)).toEqual([
      'users-20260315T030000Z.dump',
      'users-20260314T030000Z.dump.enc',
      'users-20260313T030000Z.dump',
      'users-20260312T030000Z.dump.enc',
      'users-20260311T030000Z.dump',
    ]);
    expect((await readdir(dir)).sort()).toEqual([
      'notes.txt',
      'orders-20260207T120000Z.dump',
      'orders-20260208T120000Z.dump',
      'users-20200101T030000Z.dump',
      'users-20200101T030000Z.dump.partial',
      'users-20260316T030000Z.dump.enc',
      'users-20260317T030000Z.dump',
      'users-20260318T030000Z.dump.enc',
      'users-20260319T030000Z.dump',
      'users-20260320T030000Z.dump.enc',
    ]);
    expect(result.kept).toHaveLength(7);
  });

  it('keeps the newest ones even when all are past the limit', async () => {
    const dir = await freshDir();
    await populate(dir);
    const result = await pruneBackups({
      dir,
      keepDays: 0,
      keepLast: 1,
      now: new Date('2027-01-01T00:00:00Z'),
    });
    expect(result.kept.map((backup) => backup.name)).toEqual([
      'orders-20260208T120000Z.dump',
      'users-20260320T030000Z.dump.enc',
    ]);
    expect(result.deleted).toHaveLength(10);
  });

  it('only lists with dryRun, and refuses settings that would delete everything', async () => {
    const dir = await freshDir();
    await populate(dir);
    const before = (await readdir(dir)).sort();
    const result = await pruneBackups({ dir, keepDays: 5, keepLast: 3, now: NOW, dryRun: true });
    expect(result.deleted).toHaveLength(5);
    expect((await readdir(dir)).sort()).toEqual(before);
    await expect(pruneBackups({ dir, keepDays: 5, keepLast: 0 })).rejects.toThrow(/keepLast/);
    await expect(pruneBackups({ dir, keepDays: -1, keepLast: 1 })).rejects.toThrow(/keepDays/);
  });
});

describe('checkBackupFreshness', () => {
  it('passes when every schema has a recent, plausible backup', async () => {
    const dir = await freshDir();
    await writeFile(join(dir, backupFileName('users', ago(2 * HOUR))), DUMP_BYTES);
    await writeFile(join(dir, backupFileName('users', ago(26 * HOUR))), DUMP_BYTES);
    await writeFile(join(dir, backupFileName('orders', ago(25 * HOUR))), DUMP_BYTES);

    const report = await checkBackupFreshness({
      dir,
      maxAgeHours: 26,
      schemas: ['users', 'orders'],
      now: NOW,
    });
    expect(report.ok).toBe(true);
    expect(report.schemas.map((result) => [result.schema, result.count, result.problem])).toEqual([
      ['users', 2, null],
      ['orders', 1, null],
    ]);
    expect(report.schemas[0]?.newest?.ageHours).toBe(2);
    expect(report.schemas[0]?.newest?.format).toBe('pg-custom');
  });

  it('fails for a stale, empty, missing or implausible newest backup', async () => {
    const dir = await freshDir();
    await writeFile(join(dir, backupFileName('users', ago(27 * HOUR))), DUMP_BYTES);
    await writeFile(join(dir, backupFileName('orders', ago(HOUR))), '');
    await writeFile(join(dir, backupFileName('payments', ago(HOUR))), 'not a dump at all');
    // Named encrypted, but holds a plain dump: encryption did not happen.
    await writeFile(join(dir, backupFileName('inventory', ago(HOUR), true)), DUMP_BYTES);

    const report = await checkBackupFreshness({
      dir,
      maxAgeHours: 26,
      schemas: ['users', 'orders', 'payments', 'inventory', 'audit'],
      now: NOW,
    });
    expect(report.ok).toBe(false);
    expect(
      Object.fromEntries(report.schemas.map((result) => [result.schema, result.problem])),
    ).toEqual({
      users: 'newest backup is 27.0 h old (limit 26 h)',
      orders: 'newest backup is empty',
      payments: 'newest backup does not look like a pg_dump custom-format archive',
      inventory: 'newest backup does not look like an encrypted archive',
      audit: 'no backup found',
    });
  });

  it('checks every schema found when none is named, and fails on an empty directory', async () => {
    const dir = await freshDir();
    expect((await checkBackupFreshness({ dir, maxAgeHours: 26, now: NOW })).ok).toBe(false);
    await writeFile(join(dir, backupFileName('users', ago(HOUR))), DUMP_BYTES);
    const report = await checkBackupFreshness({ dir, maxAgeHours: 26, now: NOW });
    expect(report.ok).toBe(true);
    expect(report.schemas.map((result) => result.schema)).toEqual(['users']);
  });

  it('writes the result for the node_exporter textfile collector', async () => {
    const dir = await freshDir();
    await writeFile(join(dir, backupFileName('users', ago(HOUR))), DUMP_BYTES);
    const report = await checkBackupFreshness({
      dir,
      maxAgeHours: 26,
      schemas: ['users', 'orders'],
      now: NOW,
    });
    const file = join(dir, 'shop_backup.prom');
    await writeFreshnessMetrics(report, file);
    const text = await readFile(file, 'utf8');
    const taken = Math.floor(ago(HOUR).getTime() / 1000);
    expect(text).toContain('# TYPE shop_backup_fresh gauge\n');
    expect(text).toContain('shop_backup_fresh{schema="users"} 1\n');
    expect(text).toContain('shop_backup_fresh{schema="orders"} 0\n');
    expect(text).toContain(`shop_backup_newest_timestamp_seconds{schema="users"} ${taken}\n`);
    expect(text).toContain(`shop_backup_newest_size_bytes{schema="users"} ${DUMP_BYTES.length}\n`);
    expect(text).toContain('shop_backup_files{schema="orders"} 0\n');
    expect(text).toContain(`shop_backup_check_timestamp_seconds ${NOW.getTime() / 1000}\n`);
    expect((await readdir(dir)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });
});

describe('encryptFile / decryptFile', () => {
  const passphrase = 'correct horse battery staple';
  const keys = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase },
  });
  const other = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });

  it('round-trips a file through the public key and the (passphrase-protected) private key', async () => {
    const dir = await freshDir();
    // Several stream chunks, not a multiple of the block or chunk size.
    const plain = Buffer.concat([DUMP_BYTES, randomBytes(3 * 1024 * 1024 + 17)]);
    await writeFile(join(dir, 'users.dump'), plain);

    await encryptFile(join(dir, 'users.dump'), join(dir, 'users.dump.enc'), keys.publicKey);
    const sealed = await readFile(join(dir, 'users.dump.enc'));
    expect(await backupFormatOf(join(dir, 'users.dump.enc'))).toBe('encrypted');
    expect(await backupFormatOf(join(dir, 'users.dump'))).toBe('pg-custom');
    expect(sealed.includes(plain.subarray(100, 164))).toBe(false);
    const header = JSON.parse(sealed.subarray(12, 12 + sealed.readUInt32BE(8)).toString());
    expect(header).toMatchObject({
      cipher: 'aes-256-gcm',
      keyWrap: 'rsa-oaep-sha256',
      recipient: keyFingerprint(keys.publicKey),
    });

    await decryptFile(
      join(dir, 'users.dump.enc'),
      join(dir, 'back.dump'),
      keys.privateKey,
      passphrase,
    );
    expect((await readFile(join(dir, 'back.dump'))).equals(plain)).toBe(true);

    // Each file has its own data key: the same input encrypts differently.
    await encryptFile(join(dir, 'users.dump'), join(dir, 'again.dump.enc'), keys.publicKey);
    expect((await readFile(join(dir, 'again.dump.enc'))).equals(sealed)).toBe(false);
  });

  it('round-trips an empty file', async () => {
    const dir = await freshDir();
    await writeFile(join(dir, 'empty'), '');
    await encryptFile(join(dir, 'empty'), join(dir, 'empty.enc'), other.publicKey);
    await decryptFile(join(dir, 'empty.enc'), join(dir, 'empty.out'), other.privateKey);
    expect(await readFile(join(dir, 'empty.out'))).toHaveLength(0);
  });

  it('refuses an altered or truncated file and leaves no output behind', async () => {
    const dir = await freshDir();
    await writeFile(join(dir, 'users.dump'), Buffer.concat([DUMP_BYTES, randomBytes(200_000)]));
    await encryptFile(join(dir, 'users.dump'), join(dir, 'users.dump.enc'), other.publicKey);
    const sealed = await readFile(join(dir, 'users.dump.enc'));

    const flipped = Buffer.from(sealed);
    flipped[sealed.length - 1000] = flipped[sealed.length - 1000]! ^ 0x01;
    await writeFile(join(dir, 'flipped.enc'), flipped);
    await expect(
      decryptFile(join(dir, 'flipped.enc'), join(dir, 'flipped.out'), other.privateKey),
    ).rejects.toThrow(/failed authentication/);

    await writeFile(join(dir, 'short.enc'), sealed.subarray(0, sealed.length - 5000));
    await expect(
      decryptFile(join(dir, 'short.enc'), join(dir, 'short.out'), other.privateKey),
    ).rejects.toThrow(/failed authentication/);

    await writeFile(join(dir, 'stub.enc'), sealed.subarray(0, 20));
    await expect(
      decryptFile(join(dir, 'stub.enc'), join(dir, 'stub.out'), other.privateKey),
    ).rejects.toThrow(/truncated/);

    await expect(
      decryptFile(join(dir, 'users.dump'), join(dir, 'plain.out'), other.privateKey),
    ).rejects.toThrow(/not an encrypted backup/);

    const left = await readdir(dir);
    expect(left.filter((name) => name.endsWith('.out') || name.endsWith('.partial'))).toEqual([]);
  });

  it('names the key a file is for when given another one', async () => {
    const dir = await freshDir();
    await writeFile(join(dir, 'users.dump'), DUMP_BYTES);
    await encryptFile(join(dir, 'users.dump'), join(dir, 'users.dump.enc'), keys.publicKey);
    await expect(
      decryptFile(join(dir, 'users.dump.enc'), join(dir, 'out'), other.privateKey),
    ).rejects.toThrow(`was encrypted for key ${keyFingerprint(keys.publicKey)}`);
    await expect(
      decryptFile(join(dir, 'users.dump.enc'), join(dir, 'out'), keys.privateKey, 'wrong'),
    ).rejects.toThrow();
  });

  it('accepts only RSA keys of 2048 bits or more', async () => {
    const dir = await freshDir();
    await writeFile(join(dir, 'users.dump'), DUMP_BYTES);
    const ed = generateKeyPairSync('ed25519').publicKey;
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    for (const key of [ed, small]) {
      await expect(encryptFile(join(dir, 'users.dump'), join(dir, 'x.enc'), key)).rejects.toThrow(
        /RSA public key of 2048 bits/,
      );
    }
  });
});
