/** What `waitFor` resolves with: the condition's value, known to be truthy. */
export type Truthy<T> = Exclude<T, false | 0 | '' | null | undefined>;

export interface WaitOptions {
  /** How long to keep polling before failing; 20 s unless told. */
  timeoutMs?: number;
  /** The pause between two polls; 50 ms unless told. */
  intervalMs?: number;
}

/**
 * Polls `condition` until it returns something truthy and resolves with that value, so tests
 * never sleep for a fixed time. A throw counts as "not yet": polling goes on, and the last error
 * is named in the timeout error, `timed out waiting for <what>: <last error>`. To say why the
 * condition is not met yet, throw an error that says so.
 */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  what: string,
  { timeoutMs = 20_000, intervalMs = 50 }: WaitOptions = {},
): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value as Truthy<T>;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
