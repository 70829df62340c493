/**
 * Run metrics of the five kinds, one family each, on the registry of whoever executes runs: the
 * operator's /metrics (next to its queue, reconcile and leader metrics) and the CLI's own endpoint
 * and textfile, so one dashboard reads both:
 *
 * - `kafka_backup_runs_started_total{kind}`
 * - `kafka_backup_runs_total{kind,result}`, `kafka_backup_run_duration_seconds{kind,result}`:
 *   every run that ended, once, with one of RUN_RESULTS;
 * - `kafka_backup_run_records_total{kind}`, `kafka_backup_run_bytes_total{kind}`: moved by
 *   finished runs (backups store, restores write; the other kinds move none);
 * - `kafka_backup_last_success_timestamp_seconds{kind,namespace,name}`: the one per-resource series,
 *   left out for a KafkaBackup with `spec.metrics.enabled: false` and removed when the resource is
 *   deleted, so the series do not grow with every resource that ever existed.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { liveRunMetricsOf } from './live-run-metrics.ts';

/** The kind of a resource, as the `kind` label names it (KafkaBackup, KafkaRestore, ...). */
export interface MetricKind {
  readonly kind: string;
}

/** The resource a per-resource series names. */
export interface ResourceKey {
  readonly namespace: string;
  readonly name: string;
}

/**
 * How a run ended: `succeeded` (Ready: a backup stored, a restore or reset completed, a validation
 * passed, with or without warnings), `failed` (an error or an unsuccessful result, retried or not),
 * `deadline_exceeded` (stopped by activeDeadlineSeconds), `interrupted` (stopped at a checkpoint
 * before its end: replaced by a newer scheduled run, or the operator stopping; it is resumed).
 */
export const RUN_RESULTS = ['succeeded', 'failed', 'deadline_exceeded', 'interrupted'] as const;
export type RunResult = (typeof RUN_RESULTS)[number];

export interface FinishedRun {
  readonly result: RunResult;
  readonly startedAt: Date | undefined;
  readonly endedAt: Date;
  readonly records?: number;
  readonly bytes?: number;
}

export class RunMetrics {
  readonly started: Counter<'kind'>;
  readonly runs: Counter<'kind' | 'result'>;
  readonly duration: Histogram<'kind' | 'result'>;
  readonly records: Counter<'kind'>;
  readonly bytes: Counter<'kind'>;
  readonly lastSuccess: Gauge<'kind' | 'namespace' | 'name'>;

  readonly #registry: Registry;

  constructor(registry: Registry) {
    this.#registry = registry;
    const registers = [registry];
    this.started = new Counter({
      name: 'kafka_backup_runs_started_total',
      help: 'Runs started, by kind (started minus runs_total: runs going now)',
      labelNames: ['kind'],
      registers,
    });
    this.runs = new Counter({
      name: 'kafka_backup_runs_total',
      help: `Runs that ended, by kind and result (${RUN_RESULTS.join(', ')})`,
      labelNames: ['kind', 'result'],
      registers,
    });
    this.duration = new Histogram({
      name: 'kafka_backup_run_duration_seconds',
      help: 'Duration of runs that ended, by kind and result',
      labelNames: ['kind', 'result'],
      buckets: [1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600],
      registers,
    });
    this.records = new Counter({
      name: 'kafka_backup_run_records_total',
      help: 'Records moved by runs that ended (stored by backups, written by restores), by kind',
      labelNames: ['kind'],
      registers,
    });
    this.bytes = new Counter({
      name: 'kafka_backup_run_bytes_total',
      help: 'Bytes moved by runs that ended (stored by backups, written by restores), by kind',
      labelNames: ['kind'],
      registers,
    });
    this.lastSuccess = new Gauge({
      name: 'kafka_backup_last_success_timestamp_seconds',
      help: 'When the last successful run of a resource ended (Unix seconds)',
      labelNames: ['kind', 'namespace', 'name'],
      registers,
    });
  }

  runStarted(kind: MetricKind): void {
    this.started.inc({ kind: kind.kind });
  }

  /**
   * Counts a run that ended. `perResource: false` (KafkaBackup `spec.metrics.enabled: false`)
   * keeps the resource's own series off /metrics; the totals by kind still count the run.
   */
  runEnded(
    kind: MetricKind,
    key: ResourceKey,
    run: FinishedRun,
    options: { perResource?: boolean } = {},
  ): void {
    const labels = { kind: kind.kind, result: run.result };
    this.runs.inc(labels);
    if (run.startedAt && !Number.isNaN(run.startedAt.getTime())) {
      this.duration.observe(labels, Math.max(0, (run.endedAt.getTime() - run.startedAt.getTime()) / 1000));
    }
    if (run.records) this.records.inc({ kind: kind.kind }, run.records);
    if (run.bytes) this.bytes.inc({ kind: kind.kind }, run.bytes);
    if (run.result !== 'succeeded') return;
    if (options.perResource ?? true)
      this.lastSuccess.set(resourceLabels(kind, key), run.endedAt.getTime() / 1000);
    else this.forget(kind, key);
  }

  /**
   * Drops every series of a resource, its live run figures included: it was deleted, or its
   * per-resource metrics were turned off.
   */
  forget(kind: MetricKind, key: ResourceKey): void {
    const labels = resourceLabels(kind, key);
    this.lastSuccess.remove(labels);
    liveRunMetricsOf(this.#registry).forget(labels);
  }
}

const resourceLabels = (kind: MetricKind, key: ResourceKey) => ({
  kind: kind.kind,
  namespace: key.namespace,
  name: key.name,
});

const shared = new WeakMap<Registry, RunMetrics>();

/** The RunMetrics of a registry, created on first use: every controller on it shares one set. */
export function runMetricsOf(registry: Registry): RunMetrics {
  let metrics = shared.get(registry);
  if (!metrics) {
    metrics = new RunMetrics(registry);
    shared.set(registry, metrics);
  }
  return metrics;
}
