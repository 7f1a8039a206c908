import { performance } from 'node:perf_hooks';
import { TEST_SERVER_URL, type TestDatabase } from '@shop/service-kit/testing';
import pg from 'pg';
import type { DataSource, EntityManager } from 'typeorm';

/** Runs `work` on every item, at most `concurrency` at a time; returns the wall time in ms. */
export async function timeConcurrently<Item>(
  items: readonly Item[],
  concurrency: number,
  work: (item: Item) => Promise<void>,
): Promise<number> {
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return performance.now() - started;
}

function chunks<Item>(items: readonly Item[], count: number): Item[][] {
  const size = Math.ceil(items.length / count);
  return Array.from({ length: count }, (_, index) => items.slice(index * size, (index + 1) * size));
}

/**
 * Baseline and measured work in alternating rounds (which goes first swaps every round), so a
 * neighbour's load on a shared machine, a checkpoint or autovacuum lands on both alike rather
 * than on whichever ran second. Returns the summed wall times.
 */
export async function alternateRounds<Baseline, Measured>(settings: {
  rounds: number;
  concurrency: number;
  baselineItems: readonly Baseline[];
  measuredItems: readonly Measured[];
  baseline: (item: Baseline) => Promise<void>;
  measured: (item: Measured) => Promise<void>;
}): Promise<{ baselineMs: number; measuredMs: number }> {
  const baselineChunks = chunks(settings.baselineItems, settings.rounds);
  const measuredChunks = chunks(settings.measuredItems, settings.rounds);
  let baselineMs = 0;
  let measuredMs = 0;
  for (let round = 0; round < settings.rounds; round += 1) {
    const runBaseline = async () => {
      baselineMs += await timeConcurrently(
        baselineChunks[round]!,
        settings.concurrency,
        settings.baseline,
      );
    };
    const runMeasured = async () => {
      measuredMs += await timeConcurrently(
        measuredChunks[round]!,
        settings.concurrency,
        settings.measured,
      );
    };
    if (round % 2 === 0) {
      await runBaseline();
      await runMeasured();
    } else {
      await runMeasured();
      await runBaseline();
    }
  }
  return { baselineMs, measuredMs };
}

/** A small deterministic generator, so every run reserves the same lines. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

/**
 * The plans of the statements `work` runs, as Postgres executed them (auto_explain with
 * ANALYZE, BUFFERS and trigger times), so what is explained is the repository's own SQL rather
 * than a copy of it. `work` runs twice in one transaction that is rolled back, and only the second
 * pass is explained: the first prepares the session's cached plans (foreign-key checks among
 * them), which a running service has long done. Needs a superuser connection (LOAD) and the
 * auto_explain module.
 */
export async function explainStatements(
  admin: DataSource,
  work: (manager: EntityManager, pass: 0 | 1) => Promise<void>,
): Promise<string[]> {
  const runner = admin.createQueryRunner();
  const client = (await runner.connect()) as pg.PoolClient;
  const plans: string[] = [];
  const onNotice = (notice: { message?: string }) => {
    if (notice.message?.includes('plan:')) plans.push(notice.message);
  };
  client.on('notice', onNotice);
  try {
    await runner.query("LOAD 'auto_explain'");
    for (const setting of [
      'auto_explain.log_analyze = on',
      'auto_explain.log_buffers = on',
      'auto_explain.log_triggers = on',
      'auto_explain.log_timing = on',
      "auto_explain.log_level = 'notice'",
      "client_min_messages = 'notice'",
    ]) {
      await runner.query(`SET ${setting}`);
    }
    await runner.startTransaction();
    try {
      await work(runner.manager, 0);
      await runner.query('SET LOCAL auto_explain.log_min_duration = 0');
      await work(runner.manager, 1);
    } finally {
      await runner.rollbackTransaction();
    }
    await runner.query("SET client_min_messages = 'warning'");
  } finally {
    client.off('notice', onNotice);
    await runner.release();
  }
  return plans.filter((plan) => !/Query Text: (ROLLBACK|START TRANSACTION|SET )/.test(plan));
}

/**
 * Drops the benchmark's database once its pools' sessions have really gone: pg's pool.end()
 * resolves before the server has closed them, and DROP … WITH (FORCE) would otherwise kill a
 * closing session and make its pool log an error. Gives up waiting after two seconds.
 */
export async function dropWhenIdle(database: TestDatabase): Promise<void> {
  const client = new pg.Client({ connectionString: `${TEST_SERVER_URL}/postgres` });
  await client.connect();
  try {
    const deadline = Date.now() + 2000;
    while (Date.now() < deadline) {
      const { rows } = await client.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1',
        [database.name],
      );
      if (rows[0]!.n === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  } finally {
    await client.end();
  }
  await database.drop();
}
