/**
 * Backup and restore from the command line (docs/database.md, "Backups"):
 *
 *   tsx packages/service-kit/src/db/backup-cli.ts backup  --url $DATABASE_URL --schema users --file users.dump
 *   tsx packages/service-kit/src/db/backup-cli.ts restore --url postgres://postgres@127.0.0.1:5432/restore_drill --file users.dump
 *   tsx packages/service-kit/src/db/backup-cli.ts verify  --url $DATABASE_URL --target postgres://…/restore_drill --schema users
 *
 * Exits non-zero on any failure, and `verify` on any row-count mismatch.
 */
import { parseArgs } from 'node:util';
import { backupSchema, restoreBackup, verifyRestore } from './backup.js';

function required(value: string | undefined, flag: string): string {
  if (!value) throw new Error(`missing --${flag}`);
  return value;
}

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: 'string', default: process.env.DATABASE_URL },
      target: { type: 'string' },
      schema: { type: 'string' },
      file: { type: 'string' },
      'no-owner': { type: 'boolean', default: false },
      'no-privileges': { type: 'boolean', default: false },
    },
  });
  const url = required(values.url, 'url');
  switch (positionals[0]) {
    case 'backup':
      await backupSchema({
        url,
        schema: required(values.schema, 'schema'),
        file: required(values.file, 'file'),
      });
      process.stdout.write(`backed up schema ${values.schema} to ${values.file}\n`);
      return 0;
    case 'restore':
      await restoreBackup({
        url,
        file: required(values.file, 'file'),
        noOwner: values['no-owner'],
        noPrivileges: values['no-privileges'],
      });
      process.stdout.write(`restored ${values.file}\n`);
      return 0;
    case 'verify': {
      const check = await verifyRestore({
        sourceUrl: url,
        targetUrl: required(values.target, 'target'),
        schema: required(values.schema, 'schema'),
      });
      process.stdout.write(`${JSON.stringify(check, null, 2)}\n`);
      return check.ok ? 0 : 1;
    }
    default:
      process.stderr.write(
        'usage: backup-cli.ts backup|restore|verify [--url] [--target] [--schema] [--file]\n',
      );
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
