import { type Clock, systemClock } from './clock.ts';
import type { ByteRange, ListOptions, ObjectStore, PutOptions } from './object-store.ts';

/**
 * A token bucket: `ratePerSecond` tokens accrue up to `burst`. take(n) resolves once n tokens are
 * paid; a request larger than the burst goes into debt and waits it off, so the long-run rate holds
 * for any request size. Waiters are served in order. Used for bytes/s here and records/s by the engine.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private queue: Promise<void> = Promise.resolve();
  readonly burst: number;

  constructor(
    readonly ratePerSecond: number,
    options: { readonly burst?: number; readonly clock?: Clock } = {},
  ) {
    if (!(ratePerSecond > 0))
      throw new RangeError('a rate limit must be positive (use no limiter for unlimited)');
    this.clock = options.clock ?? systemClock;
    this.burst = options.burst ?? ratePerSecond;
    this.tokens = this.burst;
    this.last = this.clock.now();
  }

  private readonly clock: Clock;

  take(n: number): Promise<void> {
    const turn = this.queue.then(() => this.pay(n));
    this.queue = turn.catch(() => {});
    return turn;
  }

  private async pay(n: number): Promise<void> {
    this.refill();
    this.tokens -= n;
    if (this.tokens < 0) {
      await this.clock.sleep(Math.ceil((-this.tokens / this.ratePerSecond) * 1000));
      this.refill();
    }
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.ratePerSecond);
    this.last = now;
  }
}

/** Throttles the bytes moved through `store` (uploads and downloads share the bucket). */
export function withRateLimit(store: ObjectStore, bucket: TokenBucket): ObjectStore {
  async function* metered(body: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
    for await (const chunk of body) {
      await bucket.take(chunk.length);
      yield chunk;
    }
  }
  return {
    description: store.description,
    close: () => store.close?.(),
    async put(key: string, body: Uint8Array | AsyncIterable<Uint8Array>, options?: PutOptions) {
      if (body instanceof Uint8Array) {
        await bucket.take(body.length);
        return store.put(key, body, options);
      }
      return store.put(key, metered(body), options);
    },
    async get(key: string, range?: ByteRange) {
      if (range) await bucket.take(Math.max(0, range.end - range.start));
      const bytes = await store.get(key, range);
      if (!range) await bucket.take(bytes.length);
      return bytes;
    },
    stream: (key: string) => metered(store.stream(key)),
    head: (key: string) => store.head(key),
    list: (prefix: string, options?: ListOptions) => store.list(prefix, options),
    delete: (key: string) => store.delete(key),
  };
}
