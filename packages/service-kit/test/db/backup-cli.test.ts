import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../src/testing/database.js';
import { backupFileName, parseBackupFileName, withClient } from '../../src/db/index.js';

// The CLI as cron and an operator run it: a real process, real pg_dump/pg_restore, exit codes.

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const cli = join(repoRoot, 'packages/service-kit/src/db/backup-cli.ts');

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', cli, ...args],
      { cwd: repoRoot, env: { ...process.env, ...env } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('backup-cli', () => {
  const passphrase = 'cli drill';
  let source: TestDatabase;
  let target: TestDatabase;
  let dir: string;
  let publicKeyFile: string;
  let privateKeyFile: string;

  beforeAll(async () => {
    source = await createTestDatabase('db_backup_cli_source');
    target = await createTestDatabase('db_backup_cli_target');
    dir = await mkdtemp(join(tmpdir(), 'db-backup-cli-'));
    await withClient(source.url, async (client) => {
      for (const schema of ['users', 'orders']) {
        await client.query(`CREATE SCHEMA ${schema}`);
        await client.query(`CREATE TABLE ${schema}.items (id int PRIMARY KEY, label text)`);
        await client.query(
          `INSERT INTO ${schema}.items SELECT n, 'item ' || n FROM generate_series(1, 120) AS n`,
        );
      }
    });
    const keys = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase },
    });
    publicKeyFile = join(dir, 'backup.pub.pem');
    privateKeyFile = join(dir, 'backup.pem');
    await writeFile(publicKeyFile, keys.publicKey);
    await writeFile(privateKeyFile, keys.privateKey, { mode: 0o600 });
  });

  afterAll(async () => {
    await source?.drop();
    await target?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('backs up several schemas encrypted, restores them with the key, and verifies', async () => {
    const backups = join(dir, 'backups');
    await mkdir(backups);
    const backup = await runCli([
      'backup',
      '--url',
      source.url,
      '--schema',
      'users',
      '--schema',
      'orders',
      '--dir',
      backups,
      '--encrypt-to',
      publicKeyFile,
    ]);
    expect(backup.stderr).toBe('');
    expect(backup.code).toBe(0);
    const files = (await readdir(backups)).sort();
    expect(files.map((name) => parseBackupFileName(name))).toEqual([
      expect.objectContaining({ schema: 'orders', encrypted: true }),
      expect.objectContaining({ schema: 'users', encrypted: true }),
    ]);

    for (const name of files) {
      const restore = await runCli(
        [
          'restore',
          '--url',
          target.url,
          '--file',
          join(backups, name),
          '--decrypt-with',
          privateKeyFile,
          '--passphrase-env',
          'TEST_BACKUP_PASSPHRASE',
        ],
        { TEST_BACKUP_PASSPHRASE: passphrase },
      );
      expect(restore.stderr).toBe('');
      expect(restore.code).toBe(0);
    }
    for (const schema of ['users', 'orders']) {
      const verify = await runCli([
        'verify',
        '--url',
        source.url,
        '--target',
        target.url,
        '--schema',
        schema,
      ]);
      expect(verify.code).toBe(0);
      expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true, target: { items: 120 } });
    }

    const fresh = await runCli([
      'verify-fresh',
      '--dir',
      backups,
      '--max-age-hours',
      '26',
      '--schema',
      'users',
      '--schema',
      'orders',
      '--textfile',
      join(dir, 'shop_backup.prom'),
    ]);
    expect(fresh.code).toBe(0);
    expect(fresh.stdout).toMatch(/^ok {4}users: users-\d{8}T\d{6}Z\.dump\.enc, 0\.0 h old/m);
    expect(await readdir(dir)).toContain('shop_backup.prom');

    const missing = await runCli([
      'verify-fresh',
      '--dir',
      backups,
      '--max-age-hours',
      '26',
      '--schema',
      'payments',
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toContain('STALE payments: no backup found');
  });

  it('backs up the schemas it can and exits 1 when one fails', async () => {
    const backups = join(dir, 'partial');
    await mkdir(backups);
    const result = await runCli([
      'backup',
      '--url',
      source.url,
      '--schema',
      'no_such_schema',
      '--schema',
      'users',
      '--dir',
      backups,
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/backup of schema no_such_schema failed: .*no matching schemas/);
    expect(result.stdout).toMatch(
      /backed up schema users to .*users-\d{8}T\d{6}Z\.dump \(\d+ bytes\)/,
    );
    expect((await readdir(backups)).map((name) => parseBackupFileName(name)?.schema)).toEqual([
      'users',
    ]);
  });

  it('prunes old backups and keeps the newest', async () => {
    const backups = join(dir, 'prune');
    await mkdir(backups);
    const now = Date.now();
    for (const days of [1, 20, 40, 400]) {
      const at = new Date(now - days * 24 * 3_600_000);
      await writeFile(join(backups, backupFileName('users', at, true)), 'SHOPENC1');
    }
    await writeFile(
      join(backups, backupFileName('orders', new Date(now - 400 * 24 * 3_600_000))),
      'PGDMP',
    );

    const dry = await runCli([
      'prune',
      '--dir',
      backups,
      '--keep-days',
      '30',
      '--keep-last',
      '1',
      '--dry-run',
    ]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('would delete 2, kept 3');
    expect(await readdir(backups)).toHaveLength(5);

    const result = await runCli([
      'prune',
      '--dir',
      backups,
      '--keep-days',
      '30',
      '--keep-last',
      '1',
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('deleted 2, kept 3');
    const left = (await readdir(backups)).map((name) => parseBackupFileName(name)!);
    expect(left.filter((backup) => backup.schema === 'users')).toHaveLength(2);
    expect(left.filter((backup) => backup.schema === 'orders')).toHaveLength(1);
  });

  it('answers a wrong invocation with the usage and exit code 2', async () => {
    for (const args of [
      [],
      ['backup', '--url', 'postgres://x@127.0.0.1/x'],
      ['prune', '--dir', dir, '--keep-days', '30', '--keep-last', '0'],
      ['verify-fresh', '--dir', dir, '--max-age-hours', 'soon'],
      ['prune', '--dir', dir, '--keep-days', '30', '--keep-last', '1', '--wat'],
    ]) {
      const result = await runCli(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toContain('usage: backup-cli.ts');
    }
  });
});
