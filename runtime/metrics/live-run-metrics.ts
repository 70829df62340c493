/**
 * Live figures of backup and restore runs while they move data. One definition wherever a run
 * executes: the operator serves them on its /metrics for every run it executes in-process,
 * `kafka-backup backup|restore` on its own endpoint (the spec's `metrics` block) and in a textfile
 * (`--metrics-file`), so one dashboard reads both. Every series names its resource
 * (`kind`, `namespace`, `name`); counters add up over the runs of a resource.
 *
 * - `kafka_backup_records_total`, `kafka_backup_bytes_total`: records (and their bytes) moved:
 *   read by backups (stored by their next commit), produced by restores;
 * - `kafka_backup_stored_bytes_total`: bytes of segments written to storage (compressed, encrypted);
 * - `kafka_backup_segments_total`: segments written by backups, read by restores;
 * - `kafka_backup_commits_total`, `kafka_backup_last_commit_timestamp_seconds`: checkpoints made
 *   durable in storage (a backup's commits, a restore's checkpoints);
 * - `kafka_backup_partition_lag_records{topic,partition}`: records a backup has still to read, per
 *   partition (to the end captured at the start, or the last stable offset while continuous), for
 *   at most maxPartitionLabels partitions; the others are summed into `topic="__other__"`;
 *   `kafka_backup_lag_records`: the same summed over every partition;
 * - `kafka_backup_run_expected_records`, `kafka_backup_run_progress_ratio`: the run's total and how
 *   much of it is done (0 to 1), for runs whose total is known (one-shot backups, restores);
 * - `kafka_backup_run_in_progress`: 1 while a run of the resource is going;
 * - `kafka_backup_retries_total{source,class}`: requests retried (`source` kafka or storage; `class`
 *   what failed, e.g. connection-refused, transient, throttled);
 * - `kafka_backup_errors_total{reason}`: runs that failed, by the reason a condition would name.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { CheckpointEvent, Progress, RunObserver } from '../engine/progress.ts';

/** The resource whose run is measured. The CLI names it after its YAML (metadata, else the backup id). */
export interface MeteredResource {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

export interface MeterOptions {
  /** How often the figures are published (the spec's metrics.updateIntervalMs). */
  readonly updateIntervalMs: number;
  /** Partitions with a lag series of their own; 0: every partition (the spec's maxPartitionLabels). */
  readonly maxPartitionLabels: number;
}

export const DEFAULT_METER_OPTIONS: MeterOptions = { updateIntervalMs: 500, maxPartitionLabels: 100 };

/** The label value of the series that sums the partitions beyond maxPartitionLabels. */
export const OTHER_PARTITIONS = '__other__';

type ResourceLabel = 'kind' | 'namespace' | 'name';

export class LiveRunMetrics {
  readonly records: Counter<ResourceLabel>;
  readonly bytes: Counter<ResourceLabel>;
  readonly storedBytes: Counter<ResourceLabel>;
  readonly segments: Counter<ResourceLabel>;
  readonly commits: Counter<ResourceLabel>;
  readonly lastCommit: Gauge<ResourceLabel>;
  readonly partitionLag: Gauge<ResourceLabel | 'topic' | 'partition'>;
  readonly lag: Gauge<ResourceLabel>;
  readonly expectedRecords: Gauge<ResourceLabel>;
  readonly progressRatio: Gauge<ResourceLabel>;
  readonly inProgress: Gauge<ResourceLabel>;
  readonly retries: Counter<ResourceLabel | 'source' | 'class'>;
  readonly errors: Counter<ResourceLabel | 'reason'>;
  /** Label sets with a series, per resource, so forget() removes exactly those. */
  readonly #series = new Map<string, Set<string>>();

  constructor(registry: Registry) {
    const registers = [registry];
    const resource: ResourceLabel[] = ['kind', 'namespace', 'name'];
    const counter = <L extends string>(name: string, help: string, extra: L[] = []) =>
      new Counter<ResourceLabel | L>({ name, help, labelNames: [...resource, ...extra], registers });
    const gauge = <L extends string>(name: string, help: string, extra: L[] = []) =>
      new Gauge<ResourceLabel | L>({ name, help, labelNames: [...resource, ...extra], registers });
    this.records = counter(
      'kafka_backup_records_total',
      'Records moved: read by backups (stored by their next commit), produced by restores',
    );
    this.bytes = counter(
      'kafka_backup_bytes_total',
      'Bytes of the records moved (keys, values, headers), uncompressed',
    );
    this.storedBytes = counter(
      'kafka_backup_stored_bytes_total',
      'Bytes of segments written to storage by backups, as stored (compressed, encrypted)',
    );
    this.segments = counter(
      'kafka_backup_segments_total',
      'Segments written to storage by backups, read by restores',
    );
    this.commits = counter(
      'kafka_backup_commits_total',
      "Checkpoints made durable in storage (a backup's commits, a restore's checkpoints)",
    );
    this.lastCommit = gauge(
      'kafka_backup_last_commit_timestamp_seconds',
      'When the last checkpoint was made durable in storage (Unix seconds)',
    );
    this.partitionLag = gauge(
      'kafka_backup_partition_lag_records',
      `Records a backup has still to read from a partition (to the end captured at its start, or the last stable offset while continuous); partitions beyond maxPartitionLabels are summed into topic="${OTHER_PARTITIONS}"`,
      ['topic', 'partition'],
    );
    this.lag = gauge('kafka_backup_lag_records', 'Records a backup has still to read, over every partition');
    this.expectedRecords = gauge(
      'kafka_backup_run_expected_records',
      'Records the running run moves in all, when known (one-shot backups, restores)',
    );
    this.progressRatio = gauge(
      'kafka_backup_run_progress_ratio',
      'How much of its expected records the run has moved, 0 to 1',
    );
    this.inProgress = gauge('kafka_backup_run_in_progress', '1 while a run of the resource is going');
    this.retries = counter(
      'kafka_backup_retries_total',
      'Requests retried after a failure, by source (kafka, storage) and class of failure',
      ['source', 'class'],
    );
    this.errors = counter(
      'kafka_backup_errors_total',
      'Runs that failed, by the reason their condition names (e.g. BrokerUnreachable, StorageUnavailable)',
      ['reason'],
    );
  }

  /** Starts measuring one run of `resource`; its figures are published every updateIntervalMs. */
  meter(resource: MeteredResource, options: MeterOptions = DEFAULT_METER_OPTIONS): RunMeter {
    return new RunMeter(this, resource, options, this.#seriesOf(resource));
  }

  /** Removes every series of a resource (it was deleted, or its metrics were turned off). */
  forget(resource: MeteredResource): void {
    const key = resourceKey(resource);
    const labels = resourceLabels(resource);
    for (const metric of this.#perResource()) metric.remove(labels);
    for (const serialized of this.#series.get(key) ?? []) {
      const series: Record<string, string> = { ...labels, ...(JSON.parse(serialized) as object) };
      if (series.source !== undefined) this.retries.remove(series);
      else if (series.reason !== undefined) this.errors.remove(series);
      else this.partitionLag.remove(series);
    }
    this.#series.delete(key);
  }

  #perResource() {
    return [
      this.records,
      this.bytes,
      this.storedBytes,
      this.segments,
      this.commits,
      this.lastCommit,
      this.lag,
      this.expectedRecords,
      this.progressRatio,
      this.inProgress,
    ];
  }

  #seriesOf(resource: MeteredResource): Set<string> {
    const key = resourceKey(resource);
    let set = this.#series.get(key);
    if (!set) {
      set = new Set();
      this.#series.set(key, set);
    }
    return set;
  }
}

const shared = new WeakMap<Registry, LiveRunMetrics>();

/** The LiveRunMetrics of a registry, created on first use: every run on it shares one set. */
export function liveRunMetricsOf(registry: Registry): LiveRunMetrics {
  let metrics = shared.get(registry);
  if (!metrics) {
    metrics = new LiveRunMetrics(registry);
    shared.set(registry, metrics);
  }
  return metrics;
}

interface PartitionLag {
  readonly topic: string;
  readonly partition: number;
  lag: number;
}

/**
 * The meter of one run: the engine's observer (runtime/engine/progress.ts), fed at every batch,
 * keeps plain numbers; a timer publishes them to the registry every updateIntervalMs, and end()
 * or fail() publishes the last ones at once.
 */
export class RunMeter implements RunObserver {
  readonly #metrics: LiveRunMetrics;
  readonly #labels: Record<ResourceLabel, string>;
  readonly #options: MeterOptions;
  readonly #series: Set<string>;
  readonly #timer: ReturnType<typeof setInterval>;
  #latest: Progress | undefined;
  #published = { records: 0, bytes: 0, segments: 0 };
  #segmentsWritten = 0;
  #storedBytes = 0;
  #publishedStored = { segments: 0, bytes: 0 };
  readonly #partitions = new Map<string, PartitionLag>();
  #partitionsChanged = false;
  #ended = false;

  constructor(
    metrics: LiveRunMetrics,
    resource: MeteredResource,
    options: MeterOptions,
    series: Set<string>,
  ) {
    this.#metrics = metrics;
    this.#labels = resourceLabels(resource);
    this.#options = options;
    this.#series = series;
    // A new run may read other partitions than the last one: its lag series start afresh.
    for (const serialized of [...series]) {
      const extra = JSON.parse(serialized) as Record<string, string>;
      if (extra.topic === undefined) continue;
      metrics.partitionLag.remove({ ...this.#labels, ...extra });
      series.delete(serialized);
    }
    metrics.lag.remove(this.#labels);
    metrics.expectedRecords.remove(this.#labels);
    metrics.progressRatio.remove(this.#labels);
    // Zero-valued counters appear at once, so rate() has a start and a scrape shows the resource.
    for (const counter of [metrics.records, metrics.bytes, metrics.segments, metrics.commits]) {
      counter.inc(this.#labels, 0);
    }
    metrics.inProgress.set(this.#labels, 1);
    this.#timer = setInterval(() => this.publish(), Math.max(1, options.updateIntervalMs));
    this.#timer.unref();
  }

  progress(progress: Progress): void {
    this.#latest = progress;
  }

  partition(topic: string, partition: number, position: bigint, end: bigint): void {
    const key = `${topic}\u0000${partition}`;
    const lag = end > position ? Number(end - position) : 0;
    const known = this.#partitions.get(key);
    if (known) {
      if (known.lag !== lag) this.#partitionsChanged = true;
      known.lag = lag;
      return;
    }
    this.#partitions.set(key, { topic, partition, lag });
    this.#partitionsChanged = true;
  }

  segmentWritten(bytes: number): void {
    this.#segmentsWritten++;
    this.#storedBytes += bytes;
  }

  /** A checkpoint made durable (the run's onCheckpoint). */
  checkpoint(checkpoint: CheckpointEvent): void {
    this.#metrics.commits.inc(this.#labels);
    this.#metrics.lastCommit.set(this.#labels, checkpoint.at / 1000);
  }

  /** A request retried by the Kafka client or the storage retry policy. */
  retried(source: 'kafka' | 'storage', failureClass: string): void {
    const extra = { source, class: failureClass };
    this.#series.add(JSON.stringify(extra));
    this.#metrics.retries.inc({ ...this.#labels, ...extra });
  }

  /** The run ended without an error (complete or interrupted): the last figures, then idle. */
  end(): void {
    this.#stop();
  }

  /** The run failed with the reason its condition names. */
  fail(reason: string): void {
    const extra = { reason };
    this.#series.add(JSON.stringify(extra));
    this.#metrics.errors.inc({ ...this.#labels, ...extra });
    this.#stop();
  }

  /** Copies the figures gathered since the last call to the registry. */
  publish(): void {
    const m = this.#metrics;
    const labels = this.#labels;
    const p = this.#latest;
    if (p) {
      const segments = p.segments ?? 0;
      m.records.inc(labels, Math.max(0, p.records - this.#published.records));
      m.bytes.inc(labels, Math.max(0, p.bytes - this.#published.bytes));
      m.segments.inc(labels, Math.max(0, segments - this.#published.segments));
      this.#published = { records: p.records, bytes: p.bytes, segments };
      if (p.totalRecords !== undefined) {
        m.expectedRecords.set(labels, p.totalRecords);
        m.progressRatio.set(labels, (p.percent ?? 0) / 100);
      }
    }
    m.segments.inc(labels, this.#segmentsWritten - this.#publishedStored.segments);
    m.storedBytes.inc(labels, this.#storedBytes - this.#publishedStored.bytes);
    this.#publishedStored = { segments: this.#segmentsWritten, bytes: this.#storedBytes };
    if (this.#partitionsChanged) this.#publishLag();
  }

  #publishLag(): void {
    this.#partitionsChanged = false;
    const m = this.#metrics;
    const all = [...this.#partitions.values()].sort((a, b) =>
      a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1,
    );
    const limit = this.#options.maxPartitionLabels;
    const own = limit > 0 ? all.slice(0, limit) : all;
    const rest = limit > 0 ? all.slice(limit) : [];
    for (const p of own) this.#setLag(p.topic, String(p.partition), p.lag);
    if (rest.length > 0) {
      this.#setLag(
        OTHER_PARTITIONS,
        OTHER_PARTITIONS,
        rest.reduce((n, p) => n + p.lag, 0),
      );
    }
    m.lag.set(
      this.#labels,
      all.reduce((n, p) => n + p.lag, 0),
    );
  }

  #setLag(topic: string, partition: string, lag: number): void {
    const extra = { topic, partition };
    this.#series.add(JSON.stringify(extra));
    this.#metrics.partitionLag.set({ ...this.#labels, ...extra }, lag);
  }

  #stop(): void {
    if (this.#ended) return;
    this.#ended = true;
    clearInterval(this.#timer);
    this.publish();
    this.#metrics.inProgress.set(this.#labels, 0);
  }
}

const resourceLabels = (resource: MeteredResource): Record<ResourceLabel, string> => ({
  kind: resource.kind,
  namespace: resource.namespace,
  name: resource.name,
});

const resourceKey = (resource: MeteredResource): string =>
  `${resource.kind}/${resource.namespace}/${resource.name}`;
