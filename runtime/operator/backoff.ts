/**
 * Jittered exponential backoff, shared by the work queue (per-key retries) and the informers
 * (reconnects). Jitter spreads retries out so that many keys or watches failing together (an API
 * server outage) do not come back in one burst.
 */
export interface BackoffPolicy {
  /** Delay of the first retry. */
  readonly initialMs: number;
  /** Upper bound of any delay. */
  readonly maxMs: number;
  /** Fraction (0..1) taken off at random: a delay lies in ((1 - jitter) * d, d]. */
  readonly jitter: number;
}

/** The delay before retry number `attempt` (1-based): initialMs * 2^(attempt-1), capped, less jitter. */
export function backoffDelay(
  policy: BackoffPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const exponent = Math.max(0, Math.min(attempt - 1, 52));
  const ceiling = Math.min(policy.maxMs, policy.initialMs * 2 ** exponent);
  return Math.max(1, Math.round(ceiling * (1 - policy.jitter * random())));
}

/** `base` stretched by up to `fraction` at random: spreads periodic work (watch timeouts, resyncs). */
export function withJitter(base: number, fraction: number, random: () => number = Math.random): number {
  return Math.round(base * (1 + fraction * random()));
}

/** A sleep that ends early (without throwing) when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
