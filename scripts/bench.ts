// `pnpm bench`: throughput of the hot paths, each reported as a ratio to a baseline run in the
// same process against the same servers. Set BENCH_MESSAGES to change the size.
import { benchMessaging } from './bench/messaging.js';
import { formatResults, type BenchResult } from './bench/report.js';

const count = Number(process.env.BENCH_MESSAGES ?? 2000);
const results: BenchResult[] = [...(await benchMessaging(count))];
console.log(formatResults(results));
