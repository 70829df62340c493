import { type Clock, systemClock } from './clock.ts';
import type { ByteRange, ListOptions, ObjectInfo, ObjectStore, PutOptions } from './object-store.ts';
import { StorageError } from './object-store.ts';

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. Default 5. */
  readonly failureThreshold?: number;
  /** How long the circuit stays open before one trial call. Default 60 s. */
  readonly resetTimeoutMs?: number;
  /** Successful trial calls needed to close it again. Default 1. */
  readonly successThreshold?: number;
  /**
   * Longest a single call may take, per started 16 MiB it moves; a slower one fails with a transient
   * StorageError (an outage, so retried and counted by the breaker). Applies to metadata calls,
   * deletes, writes of a body held in memory and ranged reads; streamed uploads and whole-object
   * reads (of unknown size) are bounded by the SDKs' socket timeouts instead. Default: none.
   */
  readonly operationTimeoutMs?: number;
  readonly clock?: Clock;
  readonly onStateChange?: (state: CircuitState) => void;
}

export type CircuitState = 'closed' | 'open' | 'half-open';

/**
 * Closed: calls pass; N consecutive failures open it. Open: calls fail fast with a 'throttled'
 * StorageError until the cool-down has passed. Half-open: one trial call at a time; success closes
 * (after successThreshold), failure opens again. Only outages count as failures (transient,
 * throttled, unknown errors): not-found or a failed precondition are answers, not outages.
 */
export class CircuitBreaker {
  private state: CircuitState = 'closed';
  private failures = 0;
  private successes = 0;
  private openedAt = 0;
  private trialInFlight = false;
  /** The outage that last counted as a failure: the open circuit's message names it. */
  private lastFailure: unknown;
  private readonly failureThreshold: number;
  private readonly resetTimeoutMs: number;
  private readonly successThreshold: number;
  private readonly clock: Clock;

  constructor(
    readonly name: string,
    private readonly options: CircuitBreakerOptions = {},
  ) {
    this.failureThreshold = options.failureThreshold ?? 5;
    this.resetTimeoutMs = options.resetTimeoutMs ?? 60_000;
    this.successThreshold = options.successThreshold ?? 1;
    this.clock = options.clock ?? systemClock;
  }

  get operationTimeoutMs(): number | undefined {
    return this.options.operationTimeoutMs;
  }

  get currentState(): CircuitState {
    if (this.state === 'open' && this.clock.now() - this.openedAt >= this.resetTimeoutMs) return 'half-open';
    return this.state;
  }

  /** Runs `fn` if the circuit allows it; throws StorageError('throttled') without calling it otherwise. */
  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    this.admit(key);
    const trial = this.state === 'half-open';
    try {
      const result = await fn();
      this.onSuccess();
      return result;
    } catch (e) {
      if (isOutage(e)) this.onFailure(e);
      else this.onSuccess();
      throw e;
    } finally {
      if (trial) this.trialInFlight = false;
    }
  }

  /** Checks admission, for calls whose outcome is reported later with record(). */
  admit(key: string): void {
    const state = this.currentState;
    if (state === 'open' || (state === 'half-open' && this.trialInFlight)) {
      const waitMs = Math.max(0, this.resetTimeoutMs - (this.clock.now() - this.openedAt));
      const last = this.lastFailure instanceof Error ? this.lastFailure.message : undefined;
      throw new StorageError(
        'throttled',
        `storage ${this.name} is failing${last ? ` (last error: ${last})` : ''}; the circuit breaker is open and calls are paused for ${Math.ceil(waitMs / 1000)} s more`,
        { key, ...(this.lastFailure === undefined ? {} : { cause: this.lastFailure }) },
      );
    }
    if (state === 'half-open') {
      this.setState('half-open');
      this.trialInFlight = true;
    }
  }

  record(error: unknown | undefined): void {
    if (error !== undefined && isOutage(error)) this.onFailure(error);
    else this.onSuccess();
    this.trialInFlight = false;
  }

  private onSuccess(): void {
    this.failures = 0;
    if (this.state === 'half-open') {
      this.successes++;
      if (this.successes >= this.successThreshold) this.setState('closed');
    }
  }

  private onFailure(error: unknown): void {
    this.lastFailure = error;
    if (this.state === 'half-open') {
      this.open();
      return;
    }
    this.failures++;
    if (this.state === 'closed' && this.failures >= this.failureThreshold) this.open();
  }

  private open(): void {
    this.openedAt = this.clock.now();
    this.failures = 0;
    this.setState('open');
  }

  private setState(state: CircuitState): void {
    if (state === this.state) return;
    this.state = state;
    this.successes = 0;
    this.options.onStateChange?.(state);
  }
}

const TIMEOUT_UNIT_BYTES = 16 * 1024 * 1024;

/** The call's result, or a transient StorageError once `ms` have passed (the call is abandoned). */
async function withTimeout<T>(call: Promise<T>, ms: number, what: string, key: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new StorageError(
            'transient',
            `${what} took longer than ${ms} ms (circuitBreaker.operationTimeoutMs)`,
            {
              key,
            },
          ),
        ),
      ms,
    );
  });
  try {
    return await Promise.race([call, timeout]);
  } finally {
    clearTimeout(timer);
    call.catch(() => {}); // an abandoned call's late failure is of no interest
  }
}

function isOutage(e: unknown): boolean {
  return !(e instanceof StorageError) || e.kind === 'transient' || e.kind === 'throttled';
}

/** Consults `breaker` before every call to `store`. */
export function withCircuitBreaker(store: ObjectStore, breaker: CircuitBreaker): ObjectStore {
  async function* guarded<T>(key: string, source: () => AsyncIterable<T>): AsyncIterable<T> {
    breaker.admit(key);
    let error: unknown;
    try {
      yield* source();
    } catch (e) {
      error = e;
      throw e;
    } finally {
      breaker.record(error);
    }
  }
  const timeoutMs = breaker.operationTimeoutMs;
  // The allowance grows with the bytes moved: one timeout per started 16 MiB.
  const bounded = <T>(what: string, key: string, bytes: number, call: () => Promise<T>) => {
    if (timeoutMs === undefined) return call;
    const ms = timeoutMs * Math.max(1, Math.ceil(bytes / TIMEOUT_UNIT_BYTES));
    return () => withTimeout(call(), ms, `${what} ${key}`, key);
  };
  return {
    description: store.description,
    close: () => store.close?.(),
    put: (key: string, body: Uint8Array | AsyncIterable<Uint8Array>, options?: PutOptions) =>
      breaker.run(
        key,
        body instanceof Uint8Array
          ? bounded('writing', key, body.length, () => store.put(key, body, options))
          : () => store.put(key, body, options),
      ),
    // A whole-object read has no known size (a segment may be 128 MiB): only ranged reads are bounded.
    get: (key: string, range?: ByteRange) =>
      breaker.run(
        key,
        range
          ? bounded('reading', key, range.end - range.start, () => store.get(key, range))
          : () => store.get(key),
      ),
    head: (key: string) =>
      breaker.run(
        key,
        bounded('checking', key, 0, () => store.head(key)),
      ),
    delete: (key: string) =>
      breaker.run(
        key,
        bounded('deleting', key, 0, () => store.delete(key)),
      ),
    stream: (key: string) => guarded(key, () => store.stream(key)),
    list: (prefix: string, options?: ListOptions): AsyncIterable<ObjectInfo> =>
      guarded(prefix, () => store.list(prefix, options)),
  };
}
