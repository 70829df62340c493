import type { Duration } from 'cdk8s';

/** Throughput limits of a run. */
export interface RateLimit {
  /**
   * Records per second, summed over all partitions.
   * @default - unlimited
   */
  readonly recordsPerSecond?: number;
  /**
   * Bytes per second, summed over all partitions.
   * @default - unlimited
   */
  readonly bytesPerSecond?: number;
  /**
   * Partitions processed in parallel.
   * @default 4
   */
  readonly maxConcurrentPartitions?: number;
}

/** Stops hammering a failing Kafka cluster or store, and probes it again later. */
export interface CircuitBreakerOptions {
  /**
   * Consecutive failures that open the circuit.
   * @default 5
   */
  readonly failureThreshold?: number;
  /**
   * How long the circuit stays open before a probe (whole seconds).
   * @default Duration.seconds(60)
   */
  readonly resetTimeout?: Duration;
  /**
   * Successful probes that close it again.
   * @default 3
   */
  readonly successThreshold?: number;
  /**
   * Timeout of a single operation (whole milliseconds).
   * @default Duration.seconds(30)
   */
  readonly operationTimeout?: Duration;
}

/** Settings shared by every run of the five kinds. */
export interface RunOptions {
  /**
   * Stop a run that takes longer than this (whole seconds), marking it failed.
   * @default - no deadline
   */
  readonly runDeadline?: Duration;
}

/**
 * Prometheus metrics of a backup's or restore's runs (docs/metrics.md). The operator serves every
 * run's figures on its own /metrics; `port`, `bindAddress` and `path` say where `kafka-backup
 * backup|restore` serves them when it runs the synthesized spec outside the cluster.
 */
export interface RunMetricsOptions {
  /**
   * Export this resource's own series (and serve them from the CLI).
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * The CLI's port.
   * @default 9090
   */
  readonly port?: number;
  /**
   * The address the CLI listens on.
   * @default '0.0.0.0'
   */
  readonly bindAddress?: string;
  /**
   * The CLI's URL path.
   * @default '/metrics'
   */
  readonly path?: string;
  /**
   * How often the figures of a running run are published (whole milliseconds).
   * @default Duration.millis(500)
   */
  readonly updateInterval?: Duration;
}

/** @internal */
export function runMetricsSpec(metrics: boolean | RunMetricsOptions | undefined) {
  if (metrics === undefined) return undefined;
  if (typeof metrics === 'boolean') return { enabled: metrics };
  return {
    enabled: metrics.enabled,
    port: metrics.port,
    bindAddress: metrics.bindAddress,
    path: metrics.path,
    updateIntervalMs: wholeMillis(metrics.updateInterval, 'metrics.updateInterval'),
  };
}

/** Settings of the one-shot kinds whose effects are destructive or hard to undo. */
export interface ApprovalOptions {
  /**
   * Hold the run until someone sets `spec.approval.approved: true` (e.g. with `kubectl patch`),
   * so a merged pull request alone cannot purge topics or move consumer offsets.
   * @default false
   */
  readonly requireApproval?: boolean;
  /**
   * Release a run held by `requireApproval`, e.g. in a reviewed follow-up commit.
   * @default false
   */
  readonly approved?: boolean;
}

/** @internal */
export function wholeSeconds(duration: Duration | undefined, field: string): number | undefined {
  if (duration === undefined) return undefined;
  const ms = duration.toMilliseconds();
  if (ms % 1000 !== 0 || ms < 1000) {
    throw new Error(`${field}: must be a whole number of seconds, at least 1 (got ${ms} ms)`);
  }
  return ms / 1000;
}

/** @internal */
export function wholeMillis(duration: Duration | undefined, field: string): number | undefined {
  if (duration === undefined) return undefined;
  const ms = duration.toMilliseconds();
  if (!Number.isInteger(ms) || ms < 1) throw new Error(`${field}: must be at least 1 ms (got ${ms} ms)`);
  return ms;
}

/** @internal */
export function rateLimitSpec(limit: RateLimit | undefined) {
  if (!limit) return undefined;
  return {
    recordsPerSec: limit.recordsPerSecond,
    bytesPerSec: limit.bytesPerSecond,
    maxConcurrentPartitions: limit.maxConcurrentPartitions,
  };
}

/** @internal */
export function circuitBreakerSpec(options: CircuitBreakerOptions | undefined) {
  if (!options) return undefined;
  return {
    enabled: true,
    failureThreshold: options.failureThreshold,
    resetTimeoutSecs: wholeSeconds(options.resetTimeout, 'circuitBreaker.resetTimeout'),
    successThreshold: options.successThreshold,
    operationTimeoutMs: wholeMillis(options.operationTimeout, 'circuitBreaker.operationTimeout'),
  };
}

/** @internal */
export function approvalSpec(options: ApprovalOptions): { policy: string; approved?: boolean } | undefined {
  if (options.approved && !options.requireApproval) {
    throw new Error(
      'approved only releases a run held by requireApproval; set requireApproval: true, or remove approved',
    );
  }
  return options.requireApproval ? { policy: 'Manual', approved: options.approved } : undefined;
}

/** Names of the Secrets a spec references: every `name` inside a `...Secret` object. */
export function referencedSecretNames(spec: unknown): string[] {
  const names = new Set<string>();
  const visit = (value: unknown, key: string): void => {
    if (Array.isArray(value)) {
      for (const item of value) visit(item, '');
    } else if (typeof value === 'object' && value !== null) {
      const record = value as Record<string, unknown>;
      if (key.endsWith('Secret') && typeof record.name === 'string') names.add(record.name);
      for (const [k, v] of Object.entries(record)) visit(v, k);
    }
  };
  visit(spec, '');
  return [...names].sort();
}

/** Drops undefined values recursively, so specs compare and print cleanly (Dates stay Dates). */
export function compact<T>(value: T): T {
  if (Array.isArray(value)) return value.map(compact) as T;
  if (typeof value === 'object' && value !== null && !(value instanceof Date)) {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, compact(v)]),
    ) as T;
  }
  return value;
}

/** RFC 3339 in UTC, without milliseconds when they are zero (as people write it). @internal */
export function rfc3339(date: Date | undefined): string | undefined {
  return date?.toISOString().replace(/\.000Z$/, 'Z');
}
