/**
 * A deployment namespace lets several copies of the system (test files running in parallel,
 * a staging copy) share one NATS server without seeing each other's streams or subjects.
 * In production the prefix is empty and names are used as they are.
 *
 * The envelope's `type` is always the bare subject (`inventory.commands.reserve`); only the
 * wire subject and the stream name carry the prefix.
 */
export interface Namespace {
  readonly prefix: string;
  /** `inventory.commands.reserve` → `<prefix>.inventory.commands.reserve` */
  subject(subject: string): string;
  /** `INVENTORY` → `<prefix>_INVENTORY` (stream names may not contain dots). */
  stream(name: string): string;
  /** The bare subject of a wire subject, or undefined if it is outside this namespace. */
  strip(wireSubject: string): string | undefined;
}

export function createNamespace(prefix = ''): Namespace {
  if (prefix !== '' && !/^[A-Za-z0-9_-]+$/.test(prefix)) {
    throw new Error(`invalid messaging namespace "${prefix}": use letters, digits, _ and -`);
  }
  const subjectPrefix = prefix === '' ? '' : `${prefix}.`;
  return {
    prefix,
    subject: (subject) => `${subjectPrefix}${subject}`,
    stream: (name) => (prefix === '' ? name : `${prefix}_${name}`),
    strip: (wireSubject) =>
      wireSubject.startsWith(subjectPrefix) ? wireSubject.slice(subjectPrefix.length) : undefined,
  };
}

/** Bare subject prefix under which dead letters are published: `dlq.<consumer>`. */
export const DEAD_LETTER_SUBJECT_ROOT = 'dlq';
export const DEAD_LETTER_STREAM = 'DEAD_LETTERS';
