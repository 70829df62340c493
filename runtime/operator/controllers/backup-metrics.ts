import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * Run metrics on the operator's registry. Per-resource series (records, bytes, last success) exist
 * only for KafkaBackups with `metrics.enabled` (the default), so they can be kept off /metrics.
 */
export class RunMetrics {
  readonly runs: Counter<'kind' | 'result'>;
  readonly duration: Histogram<'kind'>;
  readonly records: Counter<'kind' | 'namespace' | 'name'>;
  readonly bytes: Counter<'kind' | 'namespace' | 'name'>;
  readonly lastSuccess: Gauge<'kind' | 'namespace' | 'name'>;

  constructor(registry: Registry) {
    this.runs = new Counter({
      name: 'kafka_backup_runs_total',
      help: 'Finished runs by kind and result (succeeded, failed, interrupted).',
      labelNames: ['kind', 'result'],
      registers: [registry],
    });
    this.duration = new Histogram({
      name: 'kafka_backup_run_duration_seconds',
      help: 'Duration of finished runs.',
      labelNames: ['kind'],
      buckets: [1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600],
      registers: [registry],
    });
    this.records = new Counter({
      name: 'kafka_backup_run_records_total',
      help: 'Records moved by finished runs, per resource.',
      labelNames: ['kind', 'namespace', 'name'],
      registers: [registry],
    });
    this.bytes = new Counter({
      name: 'kafka_backup_run_bytes_total',
      help: 'Bytes moved by finished runs, per resource.',
      labelNames: ['kind', 'namespace', 'name'],
      registers: [registry],
    });
    this.lastSuccess = new Gauge({
      name: 'kafka_backup_last_success_timestamp_seconds',
      help: 'When the last successful run of a resource ended (Unix seconds).',
      labelNames: ['kind', 'namespace', 'name'],
      registers: [registry],
    });
  }
}
