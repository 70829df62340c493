import { Counter, Histogram, type Registry } from 'prom-client';
import type { ResourceKind } from '../resource.ts';

const PREFIX = 'kafka_backup_operator_';

/**
 * Metrics of one-shot runs (restores, offset resets and rollbacks) on the manager's registry:
 * runs by kind and result, their durations, and records moved. Registered once per registry, so
 * the three controllers share them.
 */
export class RunMetrics {
  readonly runs: Counter<'kind' | 'result'>;
  readonly duration: Histogram<'kind' | 'result'>;
  readonly records: Counter<'kind'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.runs = metric(
      registry,
      `${PREFIX}oneshot_runs_total`,
      () =>
        new Counter({
          name: `${PREFIX}oneshot_runs_total`,
          help: 'One-shot runs (restore, offset reset, offset rollback) by kind and result (started, succeeded, failed, deadline_exceeded)',
          labelNames: ['kind', 'result'],
          registers,
        }),
    );
    this.duration = metric(
      registry,
      `${PREFIX}oneshot_run_duration_seconds`,
      () =>
        new Histogram({
          name: `${PREFIX}oneshot_run_duration_seconds`,
          help: 'Duration of finished one-shot runs, from status.startTime',
          labelNames: ['kind', 'result'],
          buckets: [1, 5, 15, 60, 300, 900, 3600, 14400, 86400],
          registers,
        }),
    );
    this.records = metric(
      registry,
      `${PREFIX}oneshot_records_total`,
      () =>
        new Counter({
          name: `${PREFIX}oneshot_records_total`,
          help: 'Records written by finished restores (by kind)',
          labelNames: ['kind'],
          registers,
        }),
    );
  }

  started(kind: ResourceKind): void {
    this.runs.inc({ kind: kind.kind, result: 'started' });
  }

  finished(kind: ResourceKind, result: string, startTime: unknown, now: Date, records?: number): void {
    this.runs.inc({ kind: kind.kind, result });
    const started = typeof startTime === 'string' ? Date.parse(startTime) : Number.NaN;
    if (!Number.isNaN(started)) {
      this.duration.observe({ kind: kind.kind, result }, Math.max(0, (now.getTime() - started) / 1000));
    }
    if (records) this.records.inc({ kind: kind.kind }, records);
  }
}

const shared = new WeakMap<Registry, RunMetrics>();

/** The RunMetrics of a registry, created on first use. */
export function runMetricsOf(registry: Registry): RunMetrics {
  let metrics = shared.get(registry);
  if (!metrics) {
    metrics = new RunMetrics(registry);
    shared.set(registry, metrics);
  }
  return metrics;
}

function metric<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}
