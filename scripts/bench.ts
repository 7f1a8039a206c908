// `pnpm bench`: throughput of the hot paths, each reported as a ratio to a baseline run in the
// same process against the same servers. Sizes: BENCH_MESSAGES (outbox relay, inbox),
// BENCH_ORDERS (reservations), BENCH_SAGAS (saga steps), BENCH_CONCURRENCY (transactions at
// once in the database benchmarks). BENCH_EXPLAIN=1 also prints the plans of the reservation
// and saga-step statements (needs the auto_explain module on the server).
import { benchMessaging } from './bench/messaging.js';
import { formatResults, type BenchResult } from './bench/report.js';
import { benchReservations } from './bench/reservations.js';
import { benchSaga } from './bench/saga.js';

const size = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const concurrency = size('BENCH_CONCURRENCY', 8);
const explain = process.env.BENCH_EXPLAIN === '1';

const results: BenchResult[] = [
  ...(await benchMessaging(size('BENCH_MESSAGES', 2000))),
  ...(await benchReservations(size('BENCH_ORDERS', 1000), concurrency, { explain })),
  ...(await benchSaga(size('BENCH_SAGAS', 1000), concurrency, { explain })),
];
console.log(formatResults(results));
