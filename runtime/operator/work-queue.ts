/**
 * A keyed work queue in the manner of client-go's workqueue: a key is pending at most once
 * (dedup), is handed to at most one worker at a time (a key added while it is being processed is
 * handed out again once it is done), can be added after a delay, and retried with a per-key
 * jittered exponential backoff. Bounded concurrency comes from the number of workers calling get().
 */
import { type BackoffPolicy, backoffDelay } from './backoff.ts';

export interface WorkQueueOptions {
  /** Per-key backoff of addRateLimited(). @default 1 s doubling to 5 min, 20% jitter */
  readonly backoff?: BackoffPolicy;
  readonly random?: () => number;
  /** Called with the number of pending keys whenever it changes (the depth metric). */
  readonly onDepth?: (depth: number) => void;
  readonly onAdd?: () => void;
}

export const DEFAULT_QUEUE_BACKOFF: BackoffPolicy = { initialMs: 1000, maxMs: 300_000, jitter: 0.2 };

export class WorkQueue {
  private readonly order: string[] = [];
  /** Keys waiting to be handed out (in `order`, or to be re-queued when their processing ends). */
  private readonly pending = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly delayed = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly failures = new Map<string, number>();
  private readonly waiters: Array<(key: string | undefined) => void> = [];
  private readonly idleWaiters: Array<() => void> = [];
  private closed = false;
  private readonly backoff: BackoffPolicy;
  private readonly random: () => number;
  private readonly onDepth: (depth: number) => void;
  private readonly onAdd: () => void;

  constructor(options: WorkQueueOptions = {}) {
    this.backoff = options.backoff ?? DEFAULT_QUEUE_BACKOFF;
    this.random = options.random ?? Math.random;
    this.onDepth = options.onDepth ?? (() => {});
    this.onAdd = options.onAdd ?? (() => {});
  }

  /** Keys waiting to be processed (in progress ones not counted). */
  get depth(): number {
    return this.order.length;
  }

  get inProgress(): number {
    return this.processing.size;
  }

  get isShutDown(): boolean {
    return this.closed;
  }

  /** Queues the key unless it is already pending; after shutdown, does nothing. */
  add(key: string): void {
    if (this.closed || this.pending.has(key)) return;
    this.onAdd();
    this.pending.add(key);
    // A key being processed is handed out again by done(), never to a second worker now.
    if (this.processing.has(key)) return;
    this.dispatch(key);
  }

  /** Queues the key after `delayMs`; an earlier pending delay of the same key wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.closed) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const at = Date.now() + delayMs;
    const existing = this.delayed.get(key);
    if (existing && existing.at <= at) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.delayed.set(key, { at, timer });
  }

  /** Queues the key after its next backoff delay (grows with each call until forget()); returns the delay. */
  addRateLimited(key: string): number {
    const attempt = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, attempt);
    const delay = backoffDelay(this.backoff, attempt, this.random);
    this.addAfter(key, delay);
    return delay;
  }

  /** Ends the backoff of a key (after a success, or a terminal error). */
  forget(key: string): void {
    this.failures.delete(key);
  }

  /** How often the key has been retried since it last succeeded. */
  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** The next key to process, exclusively for the caller until done(key); undefined after shutdown. */
  get(): Promise<string | undefined> {
    const key = this.order.shift();
    if (key !== undefined) {
      this.take(key);
      this.onDepth(this.order.length);
      return Promise.resolve(key);
    }
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Ends the processing of a key; if it was added meanwhile, it is queued again. */
  done(key: string): void {
    this.processing.delete(key);
    if (this.pending.has(key) && !this.closed) this.dispatch(key);
    if (this.processing.size === 0) for (const wake of this.idleWaiters.splice(0)) wake();
  }

  /**
   * Stops handing out work: waiting workers get undefined, pending and delayed keys are dropped
   * (a resync or the next leader brings them back). Keys in progress finish normally.
   */
  shutDown(): void {
    this.closed = true;
    for (const { timer } of this.delayed.values()) clearTimeout(timer);
    this.delayed.clear();
    this.order.length = 0;
    this.pending.clear();
    this.onDepth(0);
    for (const wake of this.waiters.splice(0)) wake(undefined);
  }

  /** Resolves once no key is being processed. */
  drained(): Promise<void> {
    if (this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private dispatch(key: string): void {
    const waiter = this.waiters.shift();
    if (waiter) {
      this.take(key);
      waiter(key);
      return;
    }
    this.order.push(key);
    this.onDepth(this.order.length);
  }

  private take(key: string): void {
    this.pending.delete(key);
    this.processing.add(key);
  }
}
