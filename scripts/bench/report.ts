export interface BenchResult {
  name: string;
  baseline: string;
  baselineMs: number;
  measuredMs: number;
}

/**
 * Absolute times on a shared machine are noise; the ratio to a baseline measured in the same
 * run, on the same servers, is the figure worth comparing between runs.
 */
export function formatResults(results: BenchResult[]): string {
  const lines = results.map((result) => {
    const ratio = result.measuredMs / result.baselineMs;
    return [
      result.name.padEnd(36),
      `${ratio.toFixed(2)}× baseline`.padEnd(16),
      `(${result.measuredMs.toFixed(0)} ms vs ${result.baselineMs.toFixed(0)} ms: ${result.baseline})`,
    ].join(' ');
  });
  return lines.join('\n');
}
