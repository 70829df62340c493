/**
 * Runs controllers' reconciles from one keyed work queue with a bounded number of workers: one
 * reconcile per object at a time, at most `concurrency` in all. Started when this replica becomes
 * the leader, stopped when it stops leading or shuts down.
 */
import { type Logger, silentLogger } from '../log.ts';
import { type BackoffPolicy, sleep } from './backoff.ts';
import type { Controller, ReconcileContext } from './controller.ts';
import { isTerminal } from './errors.ts';
import type { OperatorMetrics } from './metrics.ts';
import type { ObjectKey, ResourceKind } from './resource.ts';
import { WorkQueue } from './work-queue.ts';

export interface ReconcileLoopOptions {
  readonly controllers: readonly Controller[];
  /** @default 4 */
  readonly concurrency?: number;
  /** Builds what a reconcile gets besides its key. */
  readonly context: (
    kind: ResourceKind,
    key: ObjectKey,
    signal: AbortSignal,
    log: Logger,
  ) => ReconcileContext;
  readonly queueBackoff?: BackoffPolicy;
  readonly metrics?: OperatorMetrics;
  readonly log?: Logger;
  readonly random?: () => number;
  /** How long stop() waits for reconciles to return once their signal is aborted. @default 5000 */
  readonly abandonAfterMs?: number;
}

/** Queue keys are kind/namespace/name: the kind routes to its controller. */
const encode = (kind: string, key: ObjectKey) => `${kind}/${key.namespace}/${key.name}`;

function decode(id: string): { kind: string; key: ObjectKey } {
  const [kind = '', namespace = '', ...rest] = id.split('/');
  return { kind, key: { namespace, name: rest.join('/') } };
}

export class ReconcileLoop {
  private readonly controllers = new Map<string, Controller>();
  private readonly concurrency: number;
  private readonly log: Logger;
  private queue: WorkQueue | undefined;
  private abort = new AbortController();
  private workers: Promise<void>[] = [];
  private readonly abandonAfterMs: number;
  /** Reconciles still running when stop() gave up on them (the process should exit). */
  abandoned = 0;

  constructor(private readonly options: ReconcileLoopOptions) {
    for (const controller of options.controllers) {
      if (this.controllers.has(controller.kind.kind)) {
        throw new Error(`two controllers for kind ${controller.kind.kind}`);
      }
      this.controllers.set(controller.kind.kind, controller);
    }
    this.concurrency = options.concurrency ?? 4;
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1) {
      throw new Error(`concurrency must be a whole number of at least 1, got ${this.concurrency}`);
    }
    this.log = options.log ?? silentLogger;
    this.abandonAfterMs = options.abandonAfterMs ?? 5000;
    // Zero-valued series from the start, so dashboards and alerts see every kind before its first error.
    for (const kind of this.controllers.keys()) {
      options.metrics?.reconcileErrors.inc({ kind }, 0);
      options.metrics?.reconcilesInFlight.set({ kind }, 0);
    }
  }

  get running(): boolean {
    return this.queue !== undefined && !this.queue.isShutDown;
  }

  /** Keys waiting (for tests and the depth metric). */
  get depth(): number {
    return this.queue?.depth ?? 0;
  }

  start(): void {
    if (this.running) return;
    const metrics = this.options.metrics;
    this.queue = new WorkQueue({
      backoff: this.options.queueBackoff,
      random: this.options.random,
      onDepth: (depth) => metrics?.queueDepth.set(depth),
      onAdd: () => metrics?.queueAdds.inc(),
    });
    this.abort = new AbortController();
    const queue = this.queue;
    this.workers = Array.from({ length: this.concurrency }, () => this.work(queue, this.abort.signal));
  }

  /** Queues a reconcile of the object, unless the loop is stopped (only the leader reconciles). */
  enqueue(kind: ResourceKind, key: ObjectKey): void {
    if (!this.controllers.has(kind.kind)) return;
    this.queue?.add(encode(kind.kind, key));
  }

  /**
   * Stops taking work and waits up to `graceMs` for reconciles in progress; then aborts their
   * signal and waits for them to return. `graceMs: 0` aborts at once (leadership lost).
   */
  async stop(graceMs: number): Promise<void> {
    const queue = this.queue;
    if (!queue) return;
    queue.shutDown();
    if (queue.inProgress > 0 && graceMs > 0) {
      const grace = new AbortController();
      await Promise.race([queue.drained(), sleep(graceMs, grace.signal)]);
      grace.abort();
    }
    if (queue.inProgress > 0) {
      this.log.warn('aborting reconciles still in progress', { inProgress: queue.inProgress });
    }
    this.abort.abort();
    // A reconcile that ignores its signal must not keep a replica that lost the Lease (or is
    // shutting down) from going away: wait a little, then abandon it.
    const waited = new AbortController();
    const returned = await Promise.race([
      Promise.all(this.workers).then(() => true),
      sleep(this.abandonAfterMs, waited.signal).then(() => false),
    ]);
    waited.abort();
    if (!returned) {
      this.abandoned = queue.inProgress;
      this.log.error('reconciles ignored their abort signal: abandoning them', {
        inProgress: queue.inProgress,
        waitedMs: this.abandonAfterMs,
      });
    }
    this.workers = [];
  }

  private async work(queue: WorkQueue, signal: AbortSignal): Promise<void> {
    for (;;) {
      const id = await queue.get();
      if (id === undefined) return;
      try {
        await this.reconcileOne(queue, id, signal);
      } finally {
        queue.done(id);
      }
    }
  }

  private async reconcileOne(queue: WorkQueue, id: string, signal: AbortSignal): Promise<void> {
    const { kind, key } = decode(id);
    const controller = this.controllers.get(kind);
    if (!controller) return;
    const metrics = this.options.metrics;
    const log = this.log.child({ kind, namespace: key.namespace, name: key.name });
    const stopTimer = metrics?.reconcileDuration.startTimer({ kind });
    metrics?.reconcilesInFlight.inc({ kind });
    try {
      const result = await controller.reconcile(key, this.options.context(controller.kind, key, signal, log));
      queue.forget(id);
      const after = result?.requeueAfterMs;
      if (after !== undefined && after >= 0) queue.addAfter(id, after);
      metrics?.reconcileTotal.inc({ kind, result: after !== undefined ? 'requeue' : 'success' });
      log.debug('reconciled', { requeueAfterMs: after });
    } catch (error) {
      metrics?.reconcileErrors.inc({ kind });
      if (isTerminal(error)) {
        queue.forget(id);
        metrics?.reconcileTotal.inc({ kind, result: 'terminal_error' });
        log.error('reconcile failed with a terminal error: not retrying until the object changes', { error });
        return;
      }
      metrics?.reconcileTotal.inc({ kind, result: 'error' });
      if (signal.aborted) {
        log.info('reconcile ended by shutdown or lost leadership', { error });
        return;
      }
      const delay = queue.addRateLimited(id);
      metrics?.queueRetries.inc();
      log.warn('reconcile failed: retrying with backoff', {
        error,
        retryInMs: delay,
        retries: queue.retries(id),
      });
    } finally {
      stopTimer?.();
      metrics?.reconcilesInFlight.dec({ kind });
    }
  }
}
