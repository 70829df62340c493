/**
 * The manager: informers (on every replica, so a standby is ready to take over with warm caches),
 * leader election, the reconcile loop (only while leading), and the health and metrics servers.
 */
import type { Server } from 'node:http';
import { type Logger, silentLogger } from '../log.ts';
import type { BackoffPolicy } from './backoff.ts';
import type { Controller, ReconcileContext } from './controller.ts';
import { EventRecorder } from './event-recorder.ts';
import {
  type BindAddress,
  close,
  createMetricsServer,
  createProbeServer,
  listen,
  parseBindAddress,
} from './http-endpoints.ts';
import { Informer, type InformerOptions } from './informer.ts';
import type { KubePort } from './kube/port.ts';
import { type LeaderElectionConfig, LeaderElector } from './leader-election.ts';
import { OperatorMetrics } from './metrics.ts';
import type { CacheReader } from './object-cache.ts';
import { ReconcileLoop } from './reconcile-loop.ts';
import { type KubeObject, keyOf, type ObjectKey, type ResourceKind } from './resource.ts';

export type InformerTuning = Pick<
  InformerOptions,
  'watchTimeoutSeconds' | 'idleTimeoutMs' | 'resyncMs' | 'reconnectBackoff' | 'minWatchMs' | 'livenessBoundMs'
>;

export interface ManagerOptions {
  readonly kube: KubePort;
  readonly controllers: readonly Controller[];
  /** Namespaces to watch; empty or undefined: all namespaces. */
  readonly namespaces?: readonly string[];
  /** Leader election on a Lease; undefined: this replica always leads (a single replica). */
  readonly leaderElection?: LeaderElectionConfig;
  /** This replica, in Events and the Lease. */
  readonly identity: string;
  /** ":8080", "127.0.0.1:0", "0" (off). @default "0" */
  readonly metricsBindAddress?: string;
  /** ":8081", "127.0.0.1:0", "0" (off). @default "0" */
  readonly healthProbeBindAddress?: string;
  /** Reconciles running at once, over all kinds. @default 4 */
  readonly maxConcurrentReconciles?: number;
  /** How long shutdown waits for reconciles in progress before aborting them. @default 20000 */
  readonly gracePeriodMs?: number;
  readonly informer?: InformerTuning;
  readonly queueBackoff?: BackoffPolicy;
  readonly metrics?: OperatorMetrics;
  readonly log?: Logger;
}

export type StopReason = 'stopped' | 'leadership-lost';

export class Manager {
  readonly metrics: OperatorMetrics;
  readonly recorder: EventRecorder;
  private readonly log: Logger;
  private readonly informers: Informer[] = [];
  private readonly caches = new Map<string, CacheReader>();
  private readonly loop: ReconcileLoop;
  private readonly elector: LeaderElector | undefined;
  private readonly servers: Server[] = [];
  private readonly bound: { metrics?: string; health?: string } = {};
  private readonly metricsAddress: BindAddress | undefined;
  private readonly healthAddress: BindAddress | undefined;
  private leading = false;
  private started = false;
  private stopping: Promise<void> | undefined;
  private resolveDone: (reason: StopReason) => void = () => {};
  /** Resolves when the manager has stopped, with why. */
  readonly done: Promise<StopReason>;

  constructor(private readonly options: ManagerOptions) {
    this.log = options.log ?? silentLogger;
    this.metrics = options.metrics ?? new OperatorMetrics();
    this.metricsAddress = parseBindAddress('--metrics-bind-address', options.metricsBindAddress ?? '0');
    this.healthAddress = parseBindAddress(
      '--health-probe-bind-address',
      options.healthProbeBindAddress ?? '0',
    );
    this.done = new Promise((resolve) => {
      this.resolveDone = resolve;
    });
    this.recorder = new EventRecorder(options.kube, { instance: options.identity, log: this.log });
    const namespaces = options.namespaces?.length ? [...new Set(options.namespaces)] : [undefined];
    // The controllers' own kinds enqueue their keys; kinds they only read (cacheOf) are cached too.
    const reconciled = new Set(options.controllers.map((c) => c.kind.kind));
    const kinds = new Map<string, ResourceKind>();
    for (const controller of options.controllers) {
      for (const kind of [controller.kind, ...(controller.watches ?? []).map((w) => w.kind)]) {
        kinds.set(kind.kind, kind);
      }
    }
    for (const kind of kinds.values()) {
      const perNamespace = namespaces.map(
        (namespace) =>
          new Informer({
            ...options.informer,
            kind,
            namespace,
            client: options.kube,
            log: this.log,
            metrics: this.metrics,
          }),
      );
      for (const informer of perNamespace) {
        if (reconciled.has(kind.kind)) informer.on(({ object }) => this.loop.enqueue(kind, keyOf(object)));
        this.informers.push(informer);
      }
      this.caches.set(kind.kind, mergedCache(perNamespace));
    }
    // A change of a watched object reconciles the objects that depend on it.
    for (const controller of options.controllers) {
      for (const watched of controller.watches ?? []) {
        const keysFor = watched.keysFor;
        if (!keysFor) continue;
        for (const informer of this.informers.filter((i) => i.kind.kind === watched.kind.kind)) {
          informer.on(({ object }) => {
            for (const key of keysFor(object, this.cacheOf(controller.kind))) {
              this.loop.enqueue(controller.kind, key);
            }
          });
        }
      }
    }
    this.loop = new ReconcileLoop({
      controllers: options.controllers,
      concurrency: options.maxConcurrentReconciles,
      queueBackoff: options.queueBackoff,
      metrics: this.metrics,
      log: this.log,
      context: (kind, _key, signal, log) => this.contextFor(kind, signal, log),
    });
    this.elector = options.leaderElection
      ? new LeaderElector(
          options.kube,
          options.leaderElection,
          {
            onStartedLeading: () => void this.startLeading(),
            onStoppedLeading: () => this.stopLeading(),
          },
          this.log,
        )
      : undefined;
  }

  /** Addresses the servers listen on (resolved ports), once started. */
  get addresses(): { readonly metrics?: string; readonly health?: string } {
    return this.bound;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** Reconciles that ignored their abort signal at shutdown and may still be running. */
  get abandonedReconciles(): number {
    return this.loop.abandoned;
  }

  /** Asks for a reconcile of `key` (a run of it progressed or ended); deduplicated with pending ones. */
  enqueue(kind: ResourceKind, key: ObjectKey): void {
    this.loop.enqueue(kind, key);
  }

  /** The cache of a watched kind. */
  cacheOf(kind: ResourceKind): CacheReader {
    const cache = this.caches.get(kind.kind);
    if (!cache) throw new Error(`the manager does not watch ${kind.kind}: register a controller for it`);
    return cache;
  }

  /** True once every informer holds a complete list. */
  hasSynced(): boolean {
    return this.informers.every((i) => i.hasSynced());
  }

  /** Starts the servers, the informers and the election; returns once the servers listen. */
  async start(): Promise<void> {
    if (this.started) throw new Error('the manager was already started');
    this.started = true;
    if (this.healthAddress) {
      const server = createProbeServer({
        healthz: { ping: () => undefined, informers: () => this.unhealthyInformers() },
        readyz: {
          'informers-synced': () => this.unsyncedInformers(),
          'leader-known': () => this.leaderUnknown(),
        },
      });
      this.servers.push(server);
      this.bound.health = await listen(server, this.healthAddress);
    }
    if (this.metricsAddress) {
      const server = createMetricsServer(this.metrics.registry);
      this.servers.push(server);
      this.bound.metrics = await listen(server, this.metricsAddress);
    }
    for (const informer of this.informers) informer.start();
    this.log.info('manager started', {
      controllers: this.options.controllers.map((c) => c.kind.kind),
      namespaces: this.options.namespaces?.length ? this.options.namespaces : 'all',
      leaderElection: this.options.leaderElection
        ? `${this.options.leaderElection.namespace}/${this.options.leaderElection.name}`
        : 'off',
      ...this.bound,
    });
    if (this.elector) {
      void this.elector.run().then(() => {
        // run() returns after losing the Lease; stop() handles the graceful case itself.
        if (!this.stopping && this.started) void this.shutdown('leadership-lost');
      });
    } else {
      void this.startLeading();
    }
  }

  /**
   * Graceful shutdown: stop taking work, wait up to the grace period for reconciles in progress,
   * release the Lease, stop the informers and servers.
   */
  stop(): Promise<void> {
    return this.shutdown('stopped');
  }

  private shutdown(reason: StopReason): Promise<void> {
    this.stopping ??= (async () => {
      this.log.info('manager stopping', { reason });
      const grace = reason === 'leadership-lost' ? 0 : (this.options.gracePeriodMs ?? 20_000);
      await this.loop.stop(grace);
      await this.elector?.stop({ release: true });
      this.setLeading(false);
      await Promise.all(this.informers.map((i) => i.stop()));
      await Promise.all(this.servers.map(close));
      this.log.info('manager stopped', { reason });
      this.resolveDone(reason);
    })();
    return this.stopping;
  }

  private async startLeading(): Promise<void> {
    this.setLeading(true);
    // Controllers start on complete caches, so a reconcile never sees a half-listed world.
    const synced = await Promise.all(this.informers.map((i) => i.waitForSync()));
    if (!this.leading || this.stopping || !synced.every(Boolean)) return;
    this.loop.start();
    // Everything is reconciled once on becoming leader: the previous leader may have left work undone.
    for (const controller of this.options.controllers) {
      for (const object of this.cacheOf(controller.kind).list())
        this.loop.enqueue(controller.kind, keyOf(object));
    }
    this.log.info('controllers started');
  }

  private stopLeading(): void {
    if (!this.leading) return;
    this.setLeading(false);
    // Another replica may lead already: stop at once, aborting reconciles in progress.
    void this.loop.stop(0);
  }

  private setLeading(leading: boolean): void {
    this.leading = leading;
    this.metrics.leader.set(leading ? 1 : 0);
  }

  private contextFor(kind: ResourceKind, signal: AbortSignal, log: Logger): ReconcileContext {
    return {
      cache: this.cacheOf(kind),
      cacheOf: (other) => this.cacheOf(other),
      client: this.options.kube,
      recorder: this.recorder,
      log,
      signal,
    };
  }

  private unhealthyInformers(): string | undefined {
    const dead = this.informers.filter((i) => !i.isHealthy() && this.started && !this.stopping);
    return dead.length ? `watch loop stuck: ${dead.map(describe).join(', ')}` : undefined;
  }

  private unsyncedInformers(): string | undefined {
    const unsynced = this.informers.filter((i) => !i.hasSynced());
    return unsynced.length ? `cache not synced: ${unsynced.map(describe).join(', ')}` : undefined;
  }

  private leaderUnknown(): string | undefined {
    if (!this.elector) return undefined;
    return this.elector.leader === undefined ? 'no replica holds the Lease yet' : undefined;
  }
}

function describe(informer: Informer): string {
  return `${informer.kind.kind} in ${informer.namespace ?? 'all namespaces'}`;
}

/** One reader over the per-namespace caches of a kind. */
function mergedCache(informers: readonly Informer[]): CacheReader {
  const forNamespace = (namespace: string) =>
    informers.find((i) => i.namespace === undefined || i.namespace === namespace)?.cache;
  return {
    get: (key: ObjectKey): KubeObject | undefined => forNamespace(key.namespace)?.get(key),
    list: (namespace?: string): KubeObject[] =>
      namespace === undefined
        ? informers.flatMap((i) => i.cache.list())
        : (forNamespace(namespace)?.list(namespace) ?? []),
  };
}
