/**
 * A token bucket shared by every partition of a run, so `recordsPerSec` and `bytesPerSec` bound the
 * whole run (not each partition). `take` waits until the budget allows the amount; an amount larger
 * than one second's budget is let through as soon as the bucket is full, so it never blocks forever.
 */
export class TokenBucket {
  readonly #rate: number;
  #tokens: number;
  #last: number;
  #queue: Promise<void> = Promise.resolve();

  constructor(perSecond: number) {
    this.#rate = perSecond;
    this.#tokens = perSecond;
    this.#last = performance.now();
  }

  take(amount: number): Promise<void> {
    const next = this.#queue.then(() => this.#wait(amount));
    this.#queue = next;
    return next;
  }

  async #wait(amount: number): Promise<void> {
    const need = Math.min(amount, this.#rate);
    for (;;) {
      const now = performance.now();
      this.#tokens = Math.min(this.#rate, this.#tokens + ((now - this.#last) / 1000) * this.#rate);
      this.#last = now;
      if (this.#tokens >= need) {
        this.#tokens -= amount;
        return;
      }
      await new Promise((r) => setTimeout(r, Math.ceil(((need - this.#tokens) / this.#rate) * 1000)));
    }
  }
}

export interface RateLimits {
  readonly recordsPerSec?: number;
  readonly bytesPerSec?: number;
}

export class RateLimiter {
  readonly #records: TokenBucket | undefined;
  readonly #bytes: TokenBucket | undefined;
  constructor(limits: RateLimits = {}) {
    this.#records = limits.recordsPerSec ? new TokenBucket(limits.recordsPerSec) : undefined;
    this.#bytes = limits.bytesPerSec ? new TokenBucket(limits.bytesPerSec) : undefined;
  }
  async take(records: number, bytes: number): Promise<void> {
    await Promise.all([this.#records?.take(records), this.#bytes?.take(bytes)]);
  }
}
