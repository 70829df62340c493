import { type Clock, systemClock } from './clock.ts';
import type { ByteRange, ListOptions, ObjectInfo, ObjectStore, PutOptions } from './object-store.ts';
import { StorageError } from './object-store.ts';

export interface RetryPolicy {
  /** Total attempts including the first. Default 6. */
  readonly maxAttempts?: number;
  /** Default 200 ms. */
  readonly baseDelayMs?: number;
  /** Default 15 s. */
  readonly maxDelayMs?: number;
  readonly clock?: Clock;
  /** Uniform in [0, 1); injectable for tests. */
  readonly random?: () => number;
  readonly onRetry?: (info: {
    operation: string;
    key: string;
    attempt: number;
    delayMs: number;
    error: StorageError;
  }) => void;
}

/**
 * Retries retryable StorageErrors ('transient', 'throttled') with exponential backoff and full jitter
 * (delay uniform in [0, min(max, base * 2^n))), so many partitions retrying at once spread out.
 * A streamed put cannot be replayed and is not retried here (the SDK retries its parts); a stream or a
 * listing is retried only before its first item, and a listing resumes after the last key it yielded.
 */
export function withRetry(store: ObjectStore, policy: RetryPolicy = {}): ObjectStore {
  const maxAttempts = policy.maxAttempts ?? 6;
  const base = policy.baseDelayMs ?? 200;
  const max = policy.maxDelayMs ?? 15_000;
  const clock = policy.clock ?? systemClock;
  const random = policy.random ?? Math.random;

  async function attempt<T>(operation: string, key: string, fn: () => Promise<T>): Promise<T> {
    for (let n = 1; ; n++) {
      try {
        return await fn();
      } catch (e) {
        if (!(e instanceof StorageError) || !e.retryable || n >= maxAttempts) throw e;
        const delayMs = Math.floor(random() * Math.min(max, base * 2 ** (n - 1)));
        policy.onRetry?.({ operation, key, attempt: n, delayMs, error: e });
        await clock.sleep(delayMs);
      }
    }
  }

  return {
    description: store.description,
    close: () => store.close?.(),
    put(key: string, body: Uint8Array | AsyncIterable<Uint8Array>, options?: PutOptions) {
      if (!(body instanceof Uint8Array)) return store.put(key, body, options);
      return attempt('put', key, () => store.put(key, body, options));
    },
    get: (key: string, range?: ByteRange) => attempt('get', key, () => store.get(key, range)),
    head: (key: string) => attempt('head', key, () => store.head(key)),
    delete: (key: string) => attempt('delete', key, () => store.delete(key)),
    async *stream(key: string): AsyncIterable<Uint8Array> {
      for (let n = 1; ; n++) {
        let started = false;
        try {
          for await (const chunk of store.stream(key)) {
            started = true;
            yield chunk;
          }
          return;
        } catch (e) {
          if (started || !(e instanceof StorageError) || !e.retryable || n >= maxAttempts) throw e;
          const delayMs = Math.floor(random() * Math.min(max, base * 2 ** (n - 1)));
          policy.onRetry?.({ operation: 'stream', key, attempt: n, delayMs, error: e });
          await clock.sleep(delayMs);
        }
      }
    },
    async *list(prefix: string, options: ListOptions = {}): AsyncIterable<ObjectInfo> {
      let after = options.startAfter;
      for (let n = 1; ; n++) {
        try {
          for await (const info of store.list(prefix, after !== undefined ? { startAfter: after } : {})) {
            after = info.key;
            n = 0; // progress resets the attempt budget
            yield info;
          }
          return;
        } catch (e) {
          if (!(e instanceof StorageError) || !e.retryable || n >= maxAttempts) throw e;
          const delayMs = Math.floor(random() * Math.min(max, base * 2 ** Math.max(0, n - 1)));
          policy.onRetry?.({ operation: 'list', key: prefix, attempt: n, delayMs, error: e });
          await clock.sleep(delayMs);
        }
      }
    },
  };
}
