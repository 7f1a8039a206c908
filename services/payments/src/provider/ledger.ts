import {
  appendFileSync,
  closeSync,
  fdatasyncSync,
  mkdirSync,
  openSync,
  readFileSync,
} from 'node:fs';
import path from 'node:path';
import type { Charge, Refund } from './api.js';

/**
 * The sandbox's memory of every charge and refund, so that after a crash and restart it still
 * answers "was this key charged?" truthfully, as a real provider would.
 *
 * Why a JSON-lines file and not a table: the sandbox stands in for an external system, so it
 * must not share the shop's database (a test that breaks or drops the shop's database must
 * not make the "bank" forget), and it is one process, so an append-only file with a write and
 * fdatasync before every answer is all the durability it needs. The file is replayed into
 * memory at start; a torn last line (killed mid-write) is a request that never took effect.
 */

export type LedgerEntry =
  | { kind: 'charge'; key: string; fingerprint: string; charge: Charge }
  | { kind: 'refund'; key: string; fingerprint: string; refund: Refund };

export interface Ledger {
  /** The entry an idempotency key produced, if any (one key space, as at Stripe). */
  byKey(key: string): LedgerEntry | undefined;
  charge(id: string): Charge | undefined;
  /** Durable before it returns: the caller answers only after this. */
  append(entry: LedgerEntry): void;
  readonly size: { charges: number; refunds: number };
  close(): void;
}

export function openLedger(file: string): Ledger {
  mkdirSync(path.dirname(file), { recursive: true });
  const keys = new Map<string, LedgerEntry>();
  const charges = new Map<string, Charge>();
  let refunds = 0;

  function apply(entry: LedgerEntry): void {
    keys.set(entry.key, entry);
    if (entry.kind === 'charge') {
      charges.set(entry.charge.id, { ...entry.charge });
      return;
    }
    refunds += 1;
    const charge = charges.get(entry.refund.charge);
    if (charge) charge.amountRefunded += entry.refund.amount;
  }

  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      apply(JSON.parse(line) as LedgerEntry);
    } catch {
      // Only the last line can be torn, by a kill during the write it never acknowledged.
    }
  }

  const fd = openSync(file, 'a');
  return {
    byKey: (key) => keys.get(key),
    charge: (id) => charges.get(id),
    append(entry) {
      appendFileSync(fd, `${JSON.stringify(entry)}\n`);
      fdatasyncSync(fd);
      apply(entry);
    },
    get size() {
      return { charges: charges.size, refunds };
    },
    close: () => closeSync(fd),
  };
}
