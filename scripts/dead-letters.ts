// `pnpm dead-letters list [consumer]` shows what consumers gave up on; `pnpm dead-letters
// replay <sequence>... | --all [consumer]` puts them back once the cause is fixed (see
// docs/operations.md). NATS_URL and NATS_NAMESPACE as for the services.
import { connectNats, createLogger } from '@shop/service-kit';
import { listDeadLetters, replayDeadLetters } from './lib/dead-letters.js';

const [command, ...args] = process.argv.slice(2);
const namespace = process.env.NATS_NAMESPACE ?? '';
const logger = createLogger({ service: 'dead-letters', level: process.env.LOG_LEVEL ?? 'warn' });
const nc = await connectNats({
  servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
  name: 'dead-letters',
  logger,
  maxAttempts: 3,
});

try {
  if (command === 'list') {
    for (const { sequence, letter } of await listDeadLetters(nc, namespace, args[0])) {
      const envelope = letter.envelope;
      console.log(
        [
          sequence,
          letter.deadLetteredAt,
          letter.consumer,
          envelope ? `${envelope.type}@${envelope.version}` : '(not an envelope)',
          envelope?.id ?? '',
          `correlation=${envelope?.correlationId ?? ''}`,
          `after ${letter.deliveries} deliveries: ${letter.error}`,
        ].join('  '),
      );
    }
  } else if (command === 'replay') {
    const all = args[0] === '--all';
    const sequences = all
      ? (await listDeadLetters(nc, namespace, args[1])).map((stored) => stored.sequence)
      : args.map(Number);
    if (sequences.length === 0 || sequences.some((n) => !Number.isInteger(n) || n < 1)) {
      throw new Error('replay takes dead-letter sequences (from `list`) or --all [consumer]');
    }
    for (const outcome of await replayDeadLetters(nc, namespace, sequences)) {
      console.log(
        outcome.replayed
          ? `${outcome.sequence}  replayed on ${outcome.subject}`
          : `${outcome.sequence}  not replayed: ${outcome.reason}`,
      );
    }
  } else {
    throw new Error(
      'usage: dead-letters list [consumer] | replay <sequence>... | replay --all [consumer]',
    );
  }
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
} finally {
  await nc.drain();
}
