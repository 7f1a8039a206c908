import { execFile } from 'node:child_process';
import {
  constants,
  createCipheriv,
  createDecipheriv,
  createHash,
  createPrivateKey,
  createPublicKey,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, mkdtemp, open, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { withClient } from './bootstrap.js';
import { assertIdentifier, quoteIdentifier } from './identifiers.js';

const run = promisify(execFile);

/**
 * Logical backups per service schema (database-design 3.5.1, tier 3): `pg_dump -Fc` (custom
 * format: compressed, restorable selectively and in parallel) and `pg_restore` into a target
 * database, then a row-count comparison as the sanity check the restore drill asks for.
 * The password travels in PGPASSWORD, never on the command line where `ps` would show it.
 *
 * Around that, what a daily job needs (docs/disaster-recovery.md):
 * - encryption at rest of a dump before it leaves the host, to a public key, so the host that
 *   makes backups can never read one back (format below, `encryptFile`/`decryptFile`);
 * - one file name convention, `<schema>-<YYYYMMDD>T<HHMMSS>Z.dump[.enc]` (UTC, the time the
 *   dump started), from which retention (`pruneBackups`) and the freshness check
 *   (`checkBackupFreshness`) read each file's age: a copy or a restore of the directory keeps
 *   the name, not necessarily the mtime.
 */

function clientEnvironment(url: string): { dbUrl: string; env: NodeJS.ProcessEnv } {
  const parsed = new URL(url);
  const password = decodeURIComponent(parsed.password);
  parsed.password = '';
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (password) env.PGPASSWORD = password;
  return { dbUrl: parsed.toString(), env };
}

/** A PEM text or buffer, or a key object. */
export type BackupKey = string | Buffer | KeyObject;

export interface BackupSettings {
  /** URL of the database holding the schema (a role that can read all of it). */
  url: string;
  schema: string;
  /** Where the archive goes, e.g. `backups/users-20260101T030000Z.dump` (see `backupFileName`). */
  file: string;
  /** Default `pg_dump` from PATH; must be the server's major version or newer. */
  pgDumpPath?: string;
  /**
   * RSA public key to encrypt the archive to (`file` then holds the encrypted form; name it
   * `.dump.enc`). The plain dump exists only in a private directory under `tempDir` while it is
   * encrypted, and is deleted right after.
   */
  encryptTo?: BackupKey;
  /** Where that plain dump is written while it is encrypted. Default `os.tmpdir()`. */
  tempDir?: string;
}

/**
 * `pg_dump -Fc --schema=<schema>`: the schema, its tables, data, functions and grants. Written
 * under a temporary name and renamed when complete, with mode 0600, so a failed run never leaves
 * a file that looks like a backup.
 */
export async function backupSchema(settings: BackupSettings): Promise<void> {
  const schema = assertIdentifier(settings.schema, 'schema');
  const dump = async (file: string) => {
    const { dbUrl, env } = clientEnvironment(settings.url);
    await run(
      settings.pgDumpPath ?? 'pg_dump',
      ['--format=custom', `--schema=${schema}`, `--file=${file}`, `--dbname=${dbUrl}`],
      { env, maxBuffer: 16 * 1024 * 1024 },
    );
    await chmod(file, 0o600);
  };

  if (!settings.encryptTo) {
    const partial = `${settings.file}.partial`;
    try {
      await dump(partial);
      await rename(partial, settings.file);
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
    return;
  }

  // A file, not a pipe: pg_dump seeks back to record where each table's data starts, which
  // `pg_restore --jobs` and selective restores need; written to a pipe the archive lacks that.
  const recipient = toPublicKey(settings.encryptTo);
  await withPrivateDirectory(settings.tempDir, async (dir) => {
    const plain = join(dir, `${schema}.dump`);
    await dump(plain);
    await encryptFile(plain, settings.file, recipient);
  });
}

export interface RestoreSettings {
  /** URL of the target database: a scratch database for a drill, an empty one for recovery. */
  url: string;
  file: string;
  /**
   * Skip ownership (ALTER ... OWNER) and grants: for a cluster where the original roles do not
   * exist. Default false, i.e. a faithful copy.
   */
  noOwner?: boolean;
  noPrivileges?: boolean;
  /** Parallel jobs for data and indexes. Default 1. */
  jobs?: number;
  pgRestorePath?: string;
  /** Private key for an encrypted archive (required for one, ignored for a plain one). */
  decryptWith?: BackupKey;
  /** Passphrase of an encrypted private key PEM. */
  passphrase?: string;
  /** Where an encrypted archive is decrypted to for `pg_restore`. Default `os.tmpdir()`. */
  tempDir?: string;
}

/** `pg_restore --exit-on-error`: a partial restore fails loudly instead of passing quietly. */
export async function restoreBackup(settings: RestoreSettings): Promise<void> {
  const restore = async (file: string) => {
    const { dbUrl, env } = clientEnvironment(settings.url);
    const args = ['--exit-on-error', `--dbname=${dbUrl}`, `--jobs=${settings.jobs ?? 1}`];
    if (settings.noOwner) args.push('--no-owner');
    if (settings.noPrivileges) args.push('--no-privileges');
    args.push(file);
    await run(settings.pgRestorePath ?? 'pg_restore', args, { env, maxBuffer: 16 * 1024 * 1024 });
  };

  if ((await backupFormatOf(settings.file)) !== 'encrypted') {
    await restore(settings.file);
    return;
  }
  if (!settings.decryptWith) {
    throw new Error(`${settings.file} is encrypted: give the private key (--decrypt-with)`);
  }
  const key = toPrivateKey(settings.decryptWith, settings.passphrase);
  await withPrivateDirectory(settings.tempDir, async (dir) => {
    const plain = join(dir, 'restore.dump');
    await decryptFile(settings.file, plain, key);
    await restore(plain);
  });
}

/** Runs `work` in a new mode-0700 directory that is removed afterwards, whatever happens. */
async function withPrivateDirectory<T>(
  parent: string | undefined,
  work: (dir: string) => Promise<T>,
): Promise<T> {
  const dir = await mkdtemp(join(parent ?? tmpdir(), 'shop-backup-'));
  try {
    return await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Exact `count(*)` of every table of the schema (not the planner's estimate). */
export async function countRows(url: string, schema: string): Promise<Record<string, number>> {
  assertIdentifier(schema, 'schema');
  return withClient(url, async (client) => {
    const tables = await client.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables
        WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY table_name`,
      [schema],
    );
    const counts: Record<string, number> = {};
    for (const { table_name } of tables.rows) {
      const result = await client.query<{ count: string }>(
        `SELECT count(*) AS count FROM ${quoteIdentifier(schema)}.${quoteIdentifier(table_name)}`,
      );
      counts[table_name] = Number(result.rows[0]?.count ?? 0);
    }
    return counts;
  });
}

export interface RestoreCheck {
  ok: boolean;
  source: Record<string, number>;
  target: Record<string, number>;
  /** Tables whose counts differ or that exist on one side only. */
  mismatches: string[];
}

/** Compares the row counts of `schema` in the source and restored databases. */
export async function verifyRestore(settings: {
  sourceUrl: string;
  targetUrl: string;
  schema: string;
}): Promise<RestoreCheck> {
  const source = await countRows(settings.sourceUrl, settings.schema);
  const target = await countRows(settings.targetUrl, settings.schema);
  const tables = new Set([...Object.keys(source), ...Object.keys(target)]);
  const mismatches = [...tables].filter((table) => source[table] !== target[table]).sort();
  return { ok: mismatches.length === 0 && tables.size > 0, source, target, mismatches };
}

// ── Encryption ────────────────────────────────────────────────────────────────────────────
//
// Hybrid, so that any size streams through in constant memory and only the public key is
// needed to write: a fresh random AES-256-GCM key per file, wrapped with RSA-OAEP (SHA-256)
// for the recipient's public key. Layout of an encrypted file:
//
//   "SHOPENC1"                  8 bytes, format and version
//   header length               4 bytes, unsigned big-endian
//   header                      UTF-8 JSON: { cipher: 'aes-256-gcm', keyWrap: 'rsa-oaep-sha256',
//                               recipient: 'sha256:<hex of the public key's SPKI DER>',
//                               wrappedKey: <base64>, iv: <base64, 12 bytes> }
//   ciphertext                  the dump, AES-256-GCM
//   tag                         16 bytes, GCM authentication tag
//
// The first three parts are GCM's additional authenticated data, so a changed header fails
// authentication just as a changed byte of ciphertext does. Decryption writes to a temporary
// name and renames only once the tag has verified: nothing unauthenticated is left behind.

const MAGIC = Buffer.from('SHOPENC1', 'ascii');
const PG_CUSTOM_MAGIC = Buffer.from('PGDMP', 'ascii');
const TAG_BYTES = 16;
const MAX_HEADER_BYTES = 64 * 1024;

interface EncryptionHeader {
  cipher: 'aes-256-gcm';
  keyWrap: 'rsa-oaep-sha256';
  recipient: string;
  wrappedKey: string;
  iv: string;
}

/** The suffix an encrypted archive carries: `users-20260101T030000Z.dump.enc`. */
export const ENCRYPTED_SUFFIX = '.enc';

/** The public half of any key: a public key as it is, else derived from the private key. */
function publicHalf(key: BackupKey): KeyObject {
  return typeof key === 'object' && !Buffer.isBuffer(key) && key.type === 'public'
    ? key
    : createPublicKey(key);
}

function toPublicKey(key: BackupKey): KeyObject {
  const object = publicHalf(key);
  const bits = object.asymmetricKeyDetails?.modulusLength ?? 0;
  if (object.asymmetricKeyType !== 'rsa' || bits < 2048) {
    throw new Error(
      'backup encryption needs an RSA public key of 2048 bits or more ' +
        '(openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:4096 ...)',
    );
  }
  return object;
}

function toPrivateKey(key: BackupKey, passphrase?: string): KeyObject {
  if (typeof key !== 'string' && !Buffer.isBuffer(key)) return key;
  return createPrivateKey(passphrase === undefined ? key : { key, passphrase });
}

/** `sha256:<hex>` of the public key: names the key a file was encrypted for. */
export function keyFingerprint(key: BackupKey): string {
  const der = publicHalf(key).export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(der).digest('hex')}`;
}

/** Encrypts `input` to `output` for `publicKey`'s holder; `output` gets mode 0600. */
export async function encryptFile(
  input: string,
  output: string,
  publicKey: BackupKey,
): Promise<void> {
  const recipient = toPublicKey(publicKey);
  const dataKey = randomBytes(32);
  const iv = randomBytes(12);
  const header: EncryptionHeader = {
    cipher: 'aes-256-gcm',
    keyWrap: 'rsa-oaep-sha256',
    recipient: keyFingerprint(recipient),
    wrappedKey: publicEncrypt(
      { key: recipient, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      dataKey,
    ).toString('base64'),
    iv: iv.toString('base64'),
  };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(headerBytes.length);
  const preamble = Buffer.concat([MAGIC, length, headerBytes]);
  const cipher = createCipheriv('aes-256-gcm', dataKey, iv);
  cipher.setAAD(preamble);

  await writeAtomically(output, (partial) =>
    pipeline(
      createReadStream(input),
      cipher,
      async function* (ciphertext: AsyncIterable<Buffer>) {
        yield preamble;
        for await (const chunk of ciphertext) yield chunk;
        // The cipher has ended (final() ran), so its tag is known.
        yield cipher.getAuthTag();
      },
      createWriteStream(partial, { mode: 0o600 }),
    ),
  );
}

/**
 * Decrypts what `encryptFile` wrote. Fails, leaving no `output`, when the key is not the one the
 * file was encrypted for or when any byte of the file was changed.
 */
export async function decryptFile(
  input: string,
  output: string,
  privateKey: BackupKey,
  passphrase?: string,
): Promise<void> {
  const key = toPrivateKey(privateKey, passphrase);
  const { header, preamble, tag, dataStart, dataEnd } = await readEncryptedLayout(input);
  const holder = keyFingerprint(key);
  if (holder !== header.recipient) {
    throw new Error(
      `${basename(input)} was encrypted for key ${header.recipient}, not for the given key (${holder})`,
    );
  }
  const dataKey = privateDecrypt(
    { key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
    Buffer.from(header.wrappedKey, 'base64'),
  );
  const decipher = createDecipheriv('aes-256-gcm', dataKey, Buffer.from(header.iv, 'base64'));
  decipher.setAAD(preamble);
  decipher.setAuthTag(tag);
  const ciphertext =
    dataEnd > dataStart
      ? createReadStream(input, { start: dataStart, end: dataEnd - 1 })
      : Readable.from([]);

  try {
    await writeAtomically(output, (partial) =>
      pipeline(ciphertext, decipher, createWriteStream(partial, { mode: 0o600 })),
    );
  } catch (error) {
    if (error instanceof Error && /authenticate/i.test(error.message)) {
      throw new Error(`${basename(input)} failed authentication: it is damaged or was altered`, {
        cause: error,
      });
    }
    throw error;
  }
}

async function readEncryptedLayout(file: string) {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    const fixed = Buffer.alloc(MAGIC.length + 4);
    await handle.read(fixed, 0, fixed.length, 0);
    if (!fixed.subarray(0, MAGIC.length).equals(MAGIC)) {
      throw new Error(`${basename(file)} is not an encrypted backup`);
    }
    const headerLength = fixed.readUInt32BE(MAGIC.length);
    const dataStart = fixed.length + headerLength;
    const dataEnd = size - TAG_BYTES;
    if (headerLength > MAX_HEADER_BYTES || dataEnd < dataStart) {
      throw new Error(`${basename(file)} is truncated or not an encrypted backup`);
    }
    const headerBytes = Buffer.alloc(headerLength);
    await handle.read(headerBytes, 0, headerLength, fixed.length);
    const tag = Buffer.alloc(TAG_BYTES);
    await handle.read(tag, 0, TAG_BYTES, dataEnd);
    const header = JSON.parse(headerBytes.toString('utf8')) as Partial<EncryptionHeader>;
    if (
      header.cipher !== 'aes-256-gcm' ||
      header.keyWrap !== 'rsa-oaep-sha256' ||
      typeof header.recipient !== 'string' ||
      typeof header.wrappedKey !== 'string' ||
      typeof header.iv !== 'string'
    ) {
      throw new Error(`${basename(file)} has an encryption header this version cannot read`);
    }
    return {
      header: header as EncryptionHeader,
      preamble: Buffer.concat([fixed, headerBytes]),
      tag,
      dataStart,
      dataEnd,
    };
  } finally {
    await handle.close();
  }
}

/** Writes through `<output>.partial`, flushed to disk, then renamed: all or nothing. */
async function writeAtomically(
  output: string,
  write: (partial: string) => Promise<void>,
): Promise<void> {
  const partial = `${output}.partial`;
  try {
    await rm(partial, { force: true });
    await write(partial);
    const handle = await open(partial, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(partial, output);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
}

export type BackupFormat = 'pg-custom' | 'encrypted' | 'unknown';

/** What a file holds, from its first bytes: a `pg_dump -Fc` archive, an encrypted one, other. */
export async function backupFormatOf(file: string): Promise<BackupFormat> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(MAGIC.length);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    if (bytesRead === MAGIC.length && head.equals(MAGIC)) return 'encrypted';
    if (head.subarray(0, PG_CUSTOM_MAGIC.length).equals(PG_CUSTOM_MAGIC)) return 'pg-custom';
    return 'unknown';
  } finally {
    await handle.close();
  }
}

// ── Backup directory: names, retention, freshness ──────────────────────────────────────────

const BACKUP_NAME =
  /^([a-z_][a-z0-9_]{0,62})-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})?Z?\.dump(\.enc)?$/;

/** `users-20260101T030000Z.dump`, or `.dump.enc` when encrypted; the time in UTC. */
export function backupFileName(schema: string, takenAt: Date, encrypted = false): string {
  assertIdentifier(schema, 'schema');
  const stamp = takenAt
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
  return `${schema}-${stamp}.dump${encrypted ? ENCRYPTED_SUFFIX : ''}`;
}

export interface BackupName {
  schema: string;
  takenAt: Date;
  encrypted: boolean;
}

/**
 * Reads a name `backupFileName` made (also without seconds or the `Z`, as older docs wrote
 * them: `users-20260101T0300.dump`, taken as UTC). Null for any other name.
 */
export function parseBackupFileName(name: string): BackupName | null {
  const match = BACKUP_NAME.exec(name);
  if (!match) return null;
  const [, schema, year, month, day, hour, minute, second, encrypted] = match;
  const takenAt = new Date(
    Date.UTC(
      Number(year),
      Number(month) - 1,
      Number(day),
      Number(hour),
      Number(minute),
      Number(second ?? 0),
    ),
  );
  // Date.UTC rolls 20260231 over into March: such a name is not one of ours.
  if (takenAt.getUTCDate() !== Number(day) || takenAt.getUTCHours() !== Number(hour)) return null;
  return { schema: schema!, takenAt, encrypted: encrypted !== undefined };
}

export interface BackupFile extends BackupName {
  name: string;
  path: string;
  bytes: number;
}

/** The backups in `dir` (not its subdirectories), by schema, newest first. Other files are ignored. */
export async function listBackups(dir: string): Promise<BackupFile[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const found: BackupFile[] = [];
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const parsed = parseBackupFileName(entry.name);
    if (!parsed) continue;
    const path = join(dir, entry.name);
    found.push({ ...parsed, name: entry.name, path, bytes: (await stat(path)).size });
  }
  return found.sort(
    (a, b) =>
      a.schema.localeCompare(b.schema) ||
      b.takenAt.getTime() - a.takenAt.getTime() ||
      a.name.localeCompare(b.name),
  );
}

export interface PruneSettings {
  dir: string;
  /** Delete backups taken more than this many days ago ... */
  keepDays: number;
  /** ... except the newest `keepLast` of each schema, whatever their age. */
  keepLast: number;
  /** List what would go, delete nothing. */
  dryRun?: boolean;
  now?: Date;
}

export interface PruneResult {
  deleted: BackupFile[];
  kept: BackupFile[];
}

/**
 * Retention for a backup directory: files named as `backupFileName` makes them, older than
 * `keepDays` by the time in their name, are deleted, but the newest `keepLast` of every schema
 * always stay, so a job that stopped running never has its last good backups pruned away. Files
 * with other names are never touched.
 */
export async function pruneBackups(settings: PruneSettings): Promise<PruneResult> {
  const { keepDays, keepLast } = settings;
  if (!Number.isFinite(keepDays) || keepDays < 0) throw new Error('keepDays must be >= 0');
  if (!Number.isInteger(keepLast) || keepLast < 1) throw new Error('keepLast must be >= 1');
  const cutoff = (settings.now ?? new Date()).getTime() - keepDays * 24 * 60 * 60 * 1000;
  const seen = new Map<string, number>();
  const result: PruneResult = { deleted: [], kept: [] };
  for (const backup of await listBackups(settings.dir)) {
    const rank = (seen.get(backup.schema) ?? 0) + 1;
    seen.set(backup.schema, rank);
    if (rank <= keepLast || backup.takenAt.getTime() >= cutoff) {
      result.kept.push(backup);
      continue;
    }
    if (!settings.dryRun) await rm(backup.path);
    result.deleted.push(backup);
  }
  return result;
}

export interface FreshnessSettings {
  dir: string;
  maxAgeHours: number;
  /** Schemas that must have a fresh backup; default every schema with a backup in `dir`. */
  schemas?: string[];
  now?: Date;
}

export interface SchemaFreshness {
  schema: string;
  ok: boolean;
  /** The newest backup, if any. */
  newest: (BackupFile & { ageHours: number; format: BackupFormat }) | null;
  count: number;
  problem: string | null;
}

export interface FreshnessReport {
  ok: boolean;
  checkedAt: string;
  maxAgeHours: number;
  schemas: SchemaFreshness[];
}

/**
 * For monitoring: does every schema have a backup younger than `maxAgeHours` that is not empty
 * and starts like a dump (custom format or encrypted)? Cheap: reads names, sizes and the first
 * bytes, never the key. That the dump restores is what the monthly drill proves.
 */
export async function checkBackupFreshness(settings: FreshnessSettings): Promise<FreshnessReport> {
  const now = settings.now ?? new Date();
  const backups = await listBackups(settings.dir);
  const schemas = settings.schemas?.length
    ? settings.schemas.map((schema) => assertIdentifier(schema, 'schema'))
    : [...new Set(backups.map((backup) => backup.schema))];
  const results: SchemaFreshness[] = [];
  for (const schema of schemas) {
    const own = backups.filter((backup) => backup.schema === schema);
    const newest = own[0];
    if (!newest) {
      results.push({ schema, ok: false, newest: null, count: 0, problem: 'no backup found' });
      continue;
    }
    const ageHours = (now.getTime() - newest.takenAt.getTime()) / 3_600_000;
    const format = await backupFormatOf(newest.path);
    let problem: string | null = null;
    if (ageHours > settings.maxAgeHours) {
      problem = `newest backup is ${ageHours.toFixed(1)} h old (limit ${settings.maxAgeHours} h)`;
    } else if (newest.bytes === 0) {
      problem = 'newest backup is empty';
    } else if (format === 'unknown' || (format === 'encrypted') !== newest.encrypted) {
      const expected = newest.encrypted ? 'an encrypted' : 'a pg_dump custom-format';
      problem = `newest backup does not look like ${expected} archive`;
    }
    results.push({
      schema,
      ok: problem === null,
      newest: { ...newest, ageHours, format },
      count: own.length,
      problem,
    });
  }
  return {
    ok: results.length > 0 && results.every((result) => result.ok),
    checkedAt: now.toISOString(),
    maxAgeHours: settings.maxAgeHours,
    schemas: results,
  };
}

/**
 * The report in Prometheus text format, for node_exporter's textfile collector (written to a
 * temporary name and renamed, as the collector requires). Alert on
 * `shop_backup_fresh == 0` or `time() - shop_backup_newest_timestamp_seconds > 26 * 3600`.
 */
export async function writeFreshnessMetrics(report: FreshnessReport, file: string): Promise<void> {
  const lines: string[] = [];
  const gauge = (name: string, help: string, values: Array<[string | null, number]>) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
    for (const [schema, value] of values) {
      lines.push(`${name}${schema === null ? '' : `{schema="${schema}"}`} ${value}`);
    }
  };
  const each = (value: (result: SchemaFreshness) => number) =>
    report.schemas.map((result): [string, number] => [result.schema, value(result)]);
  gauge(
    'shop_backup_fresh',
    'Whether the newest logical backup of the schema is recent and looks valid (1) or not (0)',
    each((result) => (result.ok ? 1 : 0)),
  );
  gauge(
    'shop_backup_newest_timestamp_seconds',
    'When the newest logical backup of the schema was taken (Unix time, from its file name; 0 if none)',
    each((result) => Math.floor((result.newest?.takenAt.getTime() ?? 0) / 1000)),
  );
  gauge(
    'shop_backup_newest_size_bytes',
    'Size of the newest logical backup of the schema',
    each((result) => result.newest?.bytes ?? 0),
  );
  gauge(
    'shop_backup_files',
    'Logical backup files of the schema in the backup directory',
    each((result) => result.count),
  );
  gauge('shop_backup_check_timestamp_seconds', 'When the backup check last ran (Unix time)', [
    [null, Math.floor(new Date(report.checkedAt).getTime() / 1000)],
  ]);
  const partial = `${file}.${process.pid}.tmp`;
  await writeFile(partial, `${lines.join('\n')}\n`);
  await rename(partial, file);
}
