/**
 * An informer (reflector plus cache) for one kind in one namespace (or all namespaces), written
 * for the ways watches fail in practice (see README.md): every watch is bounded, reopened from
 * the last resourceVersion, relisted on 410 Gone, killed by a watchdog when it goes quiet (no
 * event and no bookmark), and reconnected after a jittered exponential backoff, never in a tight
 * loop. A periodic resync hands every cached object to the handlers again, so an event that was
 * missed delays a reconcile instead of losing it.
 */
import { type Logger, silentLogger } from '../log.ts';
import { type BackoffPolicy, backoffDelay, sleep, withJitter } from './backoff.ts';
import { isGone, KubeApiError } from './errors.ts';
import type { ResourceClient, WatchEvent } from './kube/port.ts';
import type { OperatorMetrics } from './metrics.ts';
import { ObjectCache } from './object-cache.ts';
import { type KubeObject, keyOf, type ResourceKind } from './resource.ts';

export type InformerEventType = 'added' | 'updated' | 'deleted' | 'resync';

export interface InformerEvent {
  readonly type: InformerEventType;
  readonly object: KubeObject;
}

export type InformerHandler = (event: InformerEvent) => void;

export interface InformerOptions {
  readonly kind: ResourceKind;
  /** The namespace to watch; undefined for all namespaces. */
  readonly namespace?: string;
  readonly client: Pick<ResourceClient, 'list' | 'watch'>;
  /** Server-side bound of one watch, stretched by up to 20% at random. @default 300 */
  readonly watchTimeoutSeconds?: number;
  /** A watch with no event and no bookmark for this long is treated as dead. @default 180000 */
  readonly idleTimeoutMs?: number;
  /** How often every cached object is handed to the handlers again; 0 turns it off. @default 300000 */
  readonly resyncMs?: number;
  /** Delay before reconnecting after a failure. @default 1 s doubling to 30 s, 50% jitter */
  readonly reconnectBackoff?: BackoffPolicy;
  /** A watch that ends sooner than this with no event counts as a failure (backoff). @default 1000 */
  readonly minWatchMs?: number;
  /** isHealthy() turns false when the loop has shown no sign of life for this long. @default idle + backoff max + 120 s */
  readonly livenessBoundMs?: number;
  readonly log?: Logger;
  readonly metrics?: OperatorMetrics;
  readonly random?: () => number;
}

type WatchOutcome = 'closed' | 'stalled' | 'gone' | 'short';

const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 1000, maxMs: 30_000, jitter: 0.5 };

export class Informer {
  readonly cache = new ObjectCache();
  readonly kind: ResourceKind;
  readonly namespace: string | undefined;
  private readonly client: Pick<ResourceClient, 'list' | 'watch'>;
  private readonly handlers: InformerHandler[] = [];
  private readonly watchTimeoutSeconds: number;
  private readonly idleTimeoutMs: number;
  private readonly resyncMs: number;
  private readonly backoff: BackoffPolicy;
  private readonly minWatchMs: number;
  private readonly livenessBoundMs: number;
  private readonly log: Logger;
  private readonly metrics: OperatorMetrics | undefined;
  private readonly random: () => number;
  private readonly labels: { kind: string; namespace: string };

  private resourceVersion = '';
  private synced = false;
  private readonly syncWaiters: Array<() => void> = [];
  private watching = false;
  private failures = 0;
  private lastActivity = Date.now();
  private stopController = new AbortController();
  private loop: Promise<void> | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;

  constructor(options: InformerOptions) {
    this.kind = options.kind;
    this.namespace = options.namespace;
    this.client = options.client;
    this.watchTimeoutSeconds = options.watchTimeoutSeconds ?? 300;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 180_000;
    this.resyncMs = options.resyncMs ?? 300_000;
    this.backoff = options.reconnectBackoff ?? DEFAULT_BACKOFF;
    this.minWatchMs = options.minWatchMs ?? 1000;
    this.livenessBoundMs = options.livenessBoundMs ?? this.idleTimeoutMs + this.backoff.maxMs + 120_000;
    this.metrics = options.metrics;
    this.random = options.random ?? Math.random;
    this.labels = { kind: this.kind.kind, namespace: this.namespace ?? '' };
    this.log = (options.log ?? silentLogger).child({
      informer: this.kind.kind,
      namespace: this.namespace ?? '*',
    });
  }

  /** Adds a handler of cache changes and resyncs. Handlers must not throw and must not block. */
  on(handler: InformerHandler): void {
    this.handlers.push(handler);
  }

  start(): void {
    if (this.loop) return;
    this.stopController = new AbortController();
    this.lastActivity = Date.now();
    this.loop = this.run();
    this.scheduleResync();
  }

  async stop(): Promise<void> {
    this.stopController.abort();
    clearTimeout(this.resyncTimer);
    await this.loop;
    this.loop = undefined;
    this.watching = false;
    for (const wake of this.syncWaiters.splice(0)) wake();
  }

  /** True once the cache has held a complete list (it stays true while reconnecting). */
  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves true once synced, false if stopped (or the signal aborted) first. */
  async waitForSync(signal?: AbortSignal): Promise<boolean> {
    if (this.synced) return true;
    await new Promise<void>((resolve) => {
      this.syncWaiters.push(resolve);
      signal?.addEventListener('abort', () => resolve(), { once: true });
    });
    return this.synced;
  }

  /**
   * False when the informer is stopped or its loop has shown no sign of life (an event, a
   * bookmark, a list, a handled failure) within the liveness bound: a stuck informer that only
   * a restart can fix. An API server that is down is not "unhealthy" here: the loop keeps trying.
   */
  isHealthy(now = Date.now()): boolean {
    return (
      this.loop !== undefined &&
      !this.stopController.signal.aborted &&
      now - this.lastActivity <= this.livenessBoundMs
    );
  }

  /** A summary for health endpoints and logs. */
  state(now = Date.now()) {
    return {
      kind: this.kind.kind,
      namespace: this.namespace ?? '',
      synced: this.synced,
      watching: this.watching,
      consecutiveFailures: this.failures,
      lastActivityMsAgo: now - this.lastActivity,
      resourceVersion: this.resourceVersion,
    };
  }

  private async run(): Promise<void> {
    const stop = this.stopController.signal;
    let needList = true;
    while (!stop.aborted) {
      try {
        if (needList) {
          await this.relist();
          needList = false;
        }
        const outcome = await this.watchOnce();
        this.touch();
        if (stop.aborted) break;
        this.metrics?.watchRestarts.inc({ ...this.labels, reason: outcome });
        if (outcome === 'closed') continue;
        if (outcome === 'gone') {
          this.log.info('resourceVersion expired (410 Gone): relisting', {
            resourceVersion: this.resourceVersion,
          });
          needList = true;
          continue;
        }
        this.failures++;
        const delay = backoffDelay(this.backoff, this.failures, this.random);
        this.log.warn(
          outcome === 'stalled'
            ? 'watch went quiet (no event, no bookmark): reopening'
            : 'watch ended at once: reopening',
          { retryInMs: delay, idleTimeoutMs: this.idleTimeoutMs },
        );
        await sleep(delay, stop);
      } catch (error) {
        this.touch();
        if (stop.aborted) break;
        this.failures++;
        if (isGone(error)) needList = true;
        this.metrics?.watchRestarts.inc({ ...this.labels, reason: isGone(error) ? 'gone' : 'error' });
        const delay = backoffDelay(this.backoff, this.failures, this.random);
        const status = error instanceof KubeApiError ? error.status : undefined;
        // 401/403 will not fix themselves by retrying, but the RBAC may be applied any moment: keep trying, loudly.
        const level = status === 401 || status === 403 ? 'error' : 'warn';
        this.log[level](
          needList
            ? 'list or watch failed: relisting after backoff'
            : 'watch failed: reopening after backoff',
          {
            error,
            status,
            retryInMs: delay,
            consecutiveFailures: this.failures,
          },
        );
        await sleep(delay, stop);
      }
    }
  }

  private async relist(): Promise<void> {
    const { items, resourceVersion } = await this.client.list(this.kind, this.namespace);
    this.metrics?.relists.inc(this.labels);
    const seen = new Set<string>();
    for (const object of items) {
      const key = keyOf(object);
      seen.add(`${key.namespace}/${key.name}`);
      const previous = this.cache.upsert(object);
      if (!previous) this.emit('added', object);
      else if (previous.metadata.resourceVersion !== object.metadata.resourceVersion)
        this.emit('updated', object);
    }
    for (const object of this.cache.list()) {
      const key = keyOf(object);
      if (!seen.has(`${key.namespace}/${key.name}`)) {
        this.cache.delete(key);
        this.emit('deleted', object);
      }
    }
    this.resourceVersion = resourceVersion;
    this.touch();
    if (!this.synced) {
      this.synced = true;
      this.metrics?.informerSynced.set(this.labels, 1);
      this.log.info('cache synced', { objects: this.cache.size, resourceVersion });
      for (const wake of this.syncWaiters.splice(0)) wake();
    }
  }

  private async watchOnce(): Promise<WatchOutcome> {
    const stop = this.stopController.signal;
    const watch = new AbortController();
    const onStop = () => watch.abort();
    stop.addEventListener('abort', onStop, { once: true });
    const started = Date.now();
    let lastEvent = started;
    let events = 0;
    let gone = false;
    let stalled = false;
    let failure: KubeApiError | undefined;
    const watchdog = setInterval(
      () => {
        if (Date.now() - lastEvent > this.idleTimeoutMs) {
          stalled = true;
          watch.abort();
        }
      },
      Math.max(10, Math.min(5000, this.idleTimeoutMs / 4)),
    );
    watchdog.unref();
    const onEvent = (event: WatchEvent) => {
      lastEvent = Date.now();
      this.touch();
      // A watch that delivers is a healthy one: the next failure starts the backoff over.
      if (events++ === 0) this.failures = 0;
      if (event.type === 'ERROR') {
        if (event.code === 410) gone = true;
        else
          failure = new KubeApiError(
            event.code,
            `watch ${this.kind.plural}: ${event.message ?? event.reason ?? 'error event'}`,
            event.reason,
          );
        watch.abort();
        return;
      }
      this.apply(event);
    };
    this.watching = true;
    try {
      await this.client.watch(this.kind, {
        namespace: this.namespace,
        resourceVersion: this.resourceVersion,
        timeoutSeconds: withJitter(this.watchTimeoutSeconds, 0.2, this.random),
        signal: watch.signal,
        onEvent,
      });
    } finally {
      this.watching = false;
      clearInterval(watchdog);
      stop.removeEventListener('abort', onStop);
    }
    if (failure) throw failure;
    if (gone) return 'gone';
    if (stalled) return 'stalled';
    if (events > 0 || Date.now() - started >= this.minWatchMs) {
      this.failures = 0;
      return 'closed';
    }
    return 'short';
  }

  private apply(event: Exclude<WatchEvent, { type: 'ERROR' }>): void {
    if (event.type === 'BOOKMARK') {
      if (event.resourceVersion) this.resourceVersion = event.resourceVersion;
      return;
    }
    const object = event.object;
    if (object.metadata.resourceVersion) this.resourceVersion = object.metadata.resourceVersion;
    if (event.type === 'DELETED') {
      this.cache.delete(keyOf(object));
      this.emit('deleted', object);
      return;
    }
    const previous = this.cache.upsert(object);
    this.emit(previous ? 'updated' : 'added', object);
  }

  private scheduleResync(): void {
    if (this.resyncMs <= 0) return;
    this.resyncTimer = setTimeout(
      () => {
        if (this.synced) for (const object of this.cache.list()) this.emit('resync', object);
        if (!this.stopController.signal.aborted) this.scheduleResync();
      },
      withJitter(this.resyncMs, 0.1, this.random),
    );
    this.resyncTimer.unref();
  }

  private emit(type: InformerEventType, object: KubeObject): void {
    for (const handler of this.handlers) {
      try {
        handler({ type, object });
      } catch (error) {
        this.log.error('informer handler threw', { error, type });
      }
    }
  }

  private touch(): void {
    this.lastActivity = Date.now();
  }
}
