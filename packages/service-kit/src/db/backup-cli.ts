/**
 * Backup and restore from the command line (docs/database.md, "Backups and restore";
 * docs/disaster-recovery.md). From the repository root, `pnpm db:backup <command> ...` or
 * `pnpm exec tsx packages/service-kit/src/db/backup-cli.ts <command> ...`:
 *
 *   backup        --schema users [--schema orders ...] --dir /var/backups/shop [--encrypt-to backup.pub.pem]
 *   restore       --url postgres://postgres@127.0.0.1:5432/restore_drill --file users-20260101T030000Z.dump.enc --decrypt-with backup.pem
 *   verify        --url $DATABASE_URL --target postgres://…/restore_drill --schema users
 *   encrypt       --file users.dump --encrypt-to backup.pub.pem        (writes users.dump.enc)
 *   decrypt       --file users.dump.enc --decrypt-with backup.pem      (writes users.dump)
 *   prune         --dir /var/backups/shop --keep-days 14 --keep-last 7 [--dry-run]
 *   verify-fresh  --dir /var/backups/shop --max-age-hours 26 --schema users ... [--textfile shop_backup.prom]
 *
 * `--url` defaults to DATABASE_URL. Exits non-zero on any failure: `backup` when any schema
 * failed (the others are still backed up), `verify` on a row-count mismatch, `verify-fresh` when
 * a schema has no recent, plausible backup.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  ENCRYPTED_SUFFIX,
  backupFileName,
  backupSchema,
  checkBackupFreshness,
  decryptFile,
  encryptFile,
  pruneBackups,
  restoreBackup,
  verifyRestore,
  writeFreshnessMetrics,
} from './backup.js';

const USAGE = `usage: backup-cli.ts <command> [options]
  backup        --schema S [--schema S ...] (--dir D | --file F) [--encrypt-to PUBLIC.pem] [--temp-dir T] [--url URL]
  restore       --file F [--decrypt-with PRIVATE.pem [--passphrase-env VAR]] [--jobs N] [--no-owner] [--no-privileges] [--temp-dir T] [--url URL]
  verify        --target URL --schema S [--url URL]
  encrypt       --file F --encrypt-to PUBLIC.pem [--out O]
  decrypt       --file F --decrypt-with PRIVATE.pem [--passphrase-env VAR] [--out O]
  prune         --dir D --keep-days N --keep-last K [--dry-run]
  verify-fresh  --dir D --max-age-hours H [--schema S ...] [--textfile F]
--url defaults to DATABASE_URL.
`;

class UsageError extends Error {}

function required(value: string | undefined, flag: string): string {
  if (!value) throw new UsageError(`missing --${flag}`);
  return value;
}

function numberOption(value: string | undefined, flag: string, minimum: number): number {
  const parsed = Number(required(value, flag));
  if (!Number.isFinite(parsed) || parsed < minimum) {
    throw new UsageError(`--${flag} must be a number >= ${minimum}`);
  }
  return parsed;
}

function integerOption(value: string | undefined, flag: string, minimum: number): number {
  const parsed = numberOption(value, flag, minimum);
  if (!Number.isInteger(parsed)) throw new UsageError(`--${flag} must be a whole number`);
  return parsed;
}

function one(values: string[] | undefined, flag: string): string {
  if (!values || values.length !== 1) throw new UsageError(`give exactly one --${flag}`);
  return values[0]!;
}

function passphraseFrom(variable: string | undefined): string | undefined {
  if (!variable) return undefined;
  const value = process.env[variable];
  if (value === undefined) throw new UsageError(`--passphrase-env: ${variable} is not set`);
  return value;
}

const print = (line: string) => process.stdout.write(`${line}\n`);

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: 'string', default: process.env.DATABASE_URL },
      target: { type: 'string' },
      schema: { type: 'string', multiple: true },
      file: { type: 'string' },
      dir: { type: 'string' },
      out: { type: 'string' },
      'encrypt-to': { type: 'string' },
      'decrypt-with': { type: 'string' },
      'passphrase-env': { type: 'string' },
      'temp-dir': { type: 'string' },
      jobs: { type: 'string' },
      'no-owner': { type: 'boolean', default: false },
      'no-privileges': { type: 'boolean', default: false },
      'keep-days': { type: 'string' },
      'keep-last': { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      'max-age-hours': { type: 'string' },
      textfile: { type: 'string' },
    },
  });
  const tempDir = values['temp-dir'];

  switch (positionals[0]) {
    case 'backup': {
      const url = required(values.url, 'url');
      const schemas = values.schema ?? [];
      if (schemas.length === 0) throw new UsageError('missing --schema');
      if (values.file && (values.dir || schemas.length > 1)) {
        throw new UsageError('--file takes one --schema and no --dir; use --dir for several');
      }
      const publicKey = values['encrypt-to'] ? await readFile(values['encrypt-to']) : undefined;
      let failed = 0;
      for (const schema of schemas) {
        const file =
          values.file ??
          join(required(values.dir, 'dir'), backupFileName(schema, new Date(), !!publicKey));
        try {
          await backupSchema({
            url,
            schema,
            file,
            ...(publicKey ? { encryptTo: publicKey } : {}),
            ...(tempDir ? { tempDir } : {}),
          });
          print(`backed up schema ${schema} to ${file} (${(await stat(file)).size} bytes)`);
        } catch (error) {
          failed += 1;
          process.stderr.write(`backup of schema ${schema} failed: ${messageOf(error)}\n`);
        }
      }
      return failed === 0 ? 0 : 1;
    }
    case 'restore': {
      const file = required(values.file, 'file');
      const passphrase = passphraseFrom(values['passphrase-env']);
      await restoreBackup({
        url: required(values.url, 'url'),
        file,
        noOwner: values['no-owner'],
        noPrivileges: values['no-privileges'],
        ...(values.jobs ? { jobs: integerOption(values.jobs, 'jobs', 1) } : {}),
        ...(values['decrypt-with'] ? { decryptWith: await readFile(values['decrypt-with']) } : {}),
        ...(passphrase === undefined ? {} : { passphrase }),
        ...(tempDir ? { tempDir } : {}),
      });
      print(`restored ${file}`);
      return 0;
    }
    case 'verify': {
      const check = await verifyRestore({
        sourceUrl: required(values.url, 'url'),
        targetUrl: required(values.target, 'target'),
        schema: one(values.schema, 'schema'),
      });
      print(JSON.stringify(check, null, 2));
      return check.ok ? 0 : 1;
    }
    case 'encrypt': {
      const file = required(values.file, 'file');
      const out = values.out ?? `${file}${ENCRYPTED_SUFFIX}`;
      await encryptFile(file, out, await readFile(required(values['encrypt-to'], 'encrypt-to')));
      print(`encrypted ${file} to ${out}`);
      return 0;
    }
    case 'decrypt': {
      const file = required(values.file, 'file');
      const out =
        values.out ??
        (file.endsWith(ENCRYPTED_SUFFIX) ? file.slice(0, -ENCRYPTED_SUFFIX.length) : undefined);
      await decryptFile(
        file,
        required(out, 'out'),
        await readFile(required(values['decrypt-with'], 'decrypt-with')),
        passphraseFrom(values['passphrase-env']),
      );
      print(`decrypted ${file} to ${out}`);
      return 0;
    }
    case 'prune': {
      const result = await pruneBackups({
        dir: required(values.dir, 'dir'),
        keepDays: numberOption(values['keep-days'], 'keep-days', 0),
        keepLast: integerOption(values['keep-last'], 'keep-last', 1),
        dryRun: values['dry-run'],
      });
      const verb = values['dry-run'] ? 'would delete' : 'deleted';
      for (const backup of result.deleted) print(`${verb} ${backup.path}`);
      print(`${verb} ${result.deleted.length}, kept ${result.kept.length}`);
      return 0;
    }
    case 'verify-fresh': {
      const report = await checkBackupFreshness({
        dir: required(values.dir, 'dir'),
        maxAgeHours: numberOption(values['max-age-hours'], 'max-age-hours', 0),
        ...(values.schema ? { schemas: values.schema } : {}),
      });
      if (values.textfile) await writeFreshnessMetrics(report, values.textfile);
      for (const result of report.schemas) {
        const newest = result.newest
          ? `${result.newest.name}, ${result.newest.ageHours.toFixed(1)} h old, ${result.newest.bytes} bytes`
          : 'none';
        print(`${result.ok ? 'ok   ' : 'STALE'} ${result.schema}: ${result.problem ?? newest}`);
      }
      if (report.schemas.length === 0) print('STALE no backups found');
      return report.ok ? 0 : 1;
    }
    default:
      process.stderr.write(USAGE);
      return 2;
  }
}

function messageOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // pg_dump's own words are in stderr; execFile's message repeats the whole command line.
  const stderr = (error as { stderr?: unknown }).stderr;
  return typeof stderr === 'string' && stderr.trim() ? stderr.trim() : error.message;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // parseArgs refuses unknown or malformed options with ERR_PARSE_ARGS_* codes.
    const code = (error as { code?: unknown }).code;
    const usage =
      error instanceof UsageError ||
      (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'));
    process.stderr.write(`${messageOf(error)}\n`);
    if (usage) process.stderr.write(USAGE);
    process.exitCode = usage ? 2 : 1;
  },
);
