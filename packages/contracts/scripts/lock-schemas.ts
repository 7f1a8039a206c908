// Records every message schema in schemas.lock.json. Refuses a change old readers cannot
// follow (the fix is a new version, not a new lock). Usage:
//   pnpm --filter @shop/contracts lock:schemas [--retire <type@version> ...]
import { existsSync, writeFileSync } from 'node:fs';
import { format, resolveConfig } from 'prettier';
import {
  SCHEMA_LOCK_FILE,
  explainBreakingChanges,
  explainMissing,
  lockOf,
  readLockFile,
  reviewLock,
  sortKeys,
  type SchemaLock,
} from '../src/compatibility/schema-lock.js';

// The workspace lint allows console only in the root scripts folder.
const print = (text: string) => process.stdout.write(`${text}\n`);
const complain = (text: string) => process.stderr.write(`${text}\n`);

function retiredKeys(args: string[]): string[] {
  const keys: string[] = [];
  args.forEach((arg, index) => {
    if (arg === '--retire' && args[index + 1] !== undefined) keys.push(args[index + 1]!);
  });
  return keys;
}

async function writeLock(lock: SchemaLock) {
  // Written as prettier would, so `prettier --check` stays green after a regeneration.
  const options = (await resolveConfig(SCHEMA_LOCK_FILE)) ?? {};
  const text = await format(JSON.stringify(sortKeys(lock)), {
    ...options,
    filepath: SCHEMA_LOCK_FILE,
  });
  writeFileSync(SCHEMA_LOCK_FILE, text);
}

async function main(): Promise<number> {
  const locked: SchemaLock = existsSync(SCHEMA_LOCK_FILE) ? readLockFile() : {};
  const current = lockOf();
  const review = reviewLock(locked, current);
  const retire = retiredKeys(process.argv.slice(2));

  if (review.breaking.length > 0) {
    complain(explainBreakingChanges(review.breaking));
    return 1;
  }
  const notRetirable = retire.filter((key) => !review.missing.includes(key));
  if (notRetirable.length > 0) {
    complain(`Only versions gone from the catalog can be retired: ${notRetirable.join(', ')}`);
    return 1;
  }

  const kept = Object.fromEntries(Object.entries(locked).filter(([key]) => !retire.includes(key)));
  await writeLock({ ...kept, ...current });

  const stillMissing = review.missing.filter((key) => !retire.includes(key));
  if (stillMissing.length > 0) complain(explainMissing(stillMissing));
  const summary = [
    review.added.length > 0 ? `added ${review.added.join(', ')}` : '',
    review.changed.length > 0 ? `updated ${review.changed.join(', ')}` : '',
    retire.length > 0 ? `retired ${retire.join(', ')}` : '',
  ].filter(Boolean);
  print(`schemas.lock.json: ${summary.length > 0 ? summary.join('; ') : 'up to date'}`);
  return 0;
}

process.exitCode = await main();
