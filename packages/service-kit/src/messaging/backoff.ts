/**
 * Exponential backoff shared by every retry loop in messaging (NATS connect, relay publish
 * failures, handler naks), so they all behave alike and the arithmetic is tested once.
 */
export interface BackoffPolicy {
  /** Delay before the first retry. */
  initialMs: number;
  /** No delay ever exceeds this, however many attempts have failed. */
  maxMs: number;
  /** Growth per attempt; 2 doubles the delay each time. */
  factor?: number;
  /**
   * Fraction of the delay (0..1) that is randomised downwards, so replicas that failed
   * together do not all retry in the same millisecond. 0 makes delays exact.
   */
  jitter?: number;
}

/**
 * Delay before retry number `attempt` (1 = first retry): initial × factor^(attempt-1),
 * capped at maxMs, minus up to `jitter` of itself. `random` is injectable for tests.
 */
export function computeBackoff(
  attempt: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  const { initialMs, maxMs, factor = 2, jitter = 0 } = policy;
  const exponent = Math.max(0, Math.floor(attempt) - 1);
  // Math.min before multiplying again would be tidier, but pow can overflow to Infinity for
  // large attempts, which min() handles correctly anyway.
  const raw = Math.min(maxMs, initialMs * Math.pow(factor, exponent));
  const spread = Math.min(Math.max(jitter, 0), 1);
  return Math.max(0, Math.round(raw - raw * spread * random()));
}

/** Resolves after `ms`, or early (without throwing) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
