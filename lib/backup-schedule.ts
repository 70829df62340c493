import type { ApiObjectMetadata, Duration, Size } from 'cdk8s';
import { Lazy } from 'cdk8s';
import type { Construct } from 'constructs';
import { KafkaBackup, type KafkaBackupSpec } from '../imports/kafkabackup-kafka.oso.sh.ts';
import {
  type CircuitBreakerOptions,
  circuitBreakerSpec,
  compact,
  type RateLimit,
  type RunMetricsOptions,
  type RunOptions,
  rateLimitSpec,
  runMetricsSpec,
  wholeMillis,
  wholeSeconds,
} from './common.ts';
import type { Compression } from './compression.ts';
import type { Encryption } from './encryption.ts';
import type { KafkaClusterConnection } from './kafka-cluster.ts';
import { KafkaResource } from './resource.ts';
import type { Schedule } from './schedule.ts';
import type { BackupStorage } from './storage.ts';

/** What happens when a scheduled run is due while the previous one still runs. */
export enum ConcurrencyPolicy {
  /** Skip the new run (never two runs of one backup at a time). */
  FORBID = 'Forbid',
  /** Stop the running one and start the new run. */
  REPLACE = 'Replace',
}

/**
 * How long the backup's runs are kept. Runs are deleted whole, oldest first, after each successful
 * run; the newest `minSuccessful` finished runs are always kept, and every kept run stays fully
 * restorable.
 */
export interface RetentionOptions {
  /**
   * Delete runs whose last commit is older than this (whole days).
   * @default - no age limit
   */
  readonly maxAge?: Duration;
  /**
   * Keep the newest N runs that stored records (runs of a quiet topic that stored nothing are not
   * counted), and the runs after the oldest of them.
   * @default - no count limit
   */
  readonly keepLast?: number;
  /**
   * The newest N finished runs that stored records are never deleted, whatever their age or keepLast.
   * @default 1
   */
  readonly minSuccessful?: number;
  /**
   * Only report what would be deleted (status and an Event); nothing is deleted.
   * @default false
   */
  readonly dryRun?: boolean;
}

/** Props of a KafkaBackupSchedule. */
/** A backup's metrics: the run metrics plus the bound on per-partition lag series. */
export interface BackupMetricsOptions extends RunMetricsOptions {
  /**
   * Partitions with a lag series of their own; the others are summed into one `__other__` series.
   * 0: every partition.
   * @default 100
   */
  readonly maxPartitionLabels?: number;
}

function backupMetricsSpec(metrics: boolean | BackupMetricsOptions | undefined) {
  const spec = runMetricsSpec(metrics);
  if (!spec || typeof metrics !== 'object') return spec;
  return { ...spec, maxPartitionLabels: metrics.maxPartitionLabels };
}

export interface KafkaBackupScheduleProps extends RunOptions {
  /**
   * Metadata of the KafkaBackup; set `name` for a readable, stable name in Git.
   * @default - a name generated from the construct path
   */
  readonly metadata?: ApiObjectMetadata;
  /** The Kafka cluster to back up. */
  readonly cluster: KafkaClusterConnection;
  /** Where backup sets are written. */
  readonly storage: BackupStorage;
  /**
   * Topics to back up: names or patterns with `*` and `?`, e.g. `orders` or `events-*`.
   * More can be added with `addTopics()`.
   * @default - none yet; at least one is needed by synth time
   */
  readonly topics?: string[];
  /**
   * Topics to leave out even when `topics` selects them.
   * @default - none
   */
  readonly excludeTopics?: string[];
  /**
   * Let patterns select topics whose names start with `__`. Kafka's own internal topics
   * (`__consumer_offsets`, `__transaction_state`) are not backed up by this version: a backup that
   * selects one fails before reading any record, naming it; leave them out with `excludeTopics`, and
   * save consumer group offsets with `consumerGroupSnapshot`.
   * @default false
   */
  readonly includeInternalTopics?: boolean;
  /**
   * When to run. Without a schedule (and without `continuous`) the backup runs once.
   * @default - run once
   */
  readonly schedule?: Schedule;
  /**
   * Follow new records forever instead of running to an end. Excludes `schedule`.
   * @default false
   */
  readonly continuous?: boolean;
  /**
   * Stop each run at the end offsets seen when it started, so it finishes while producers write.
   * @default - true unless `continuous`
   */
  readonly stopAtCurrentOffsets?: boolean;
  /**
   * Pause the schedule.
   * @default false
   */
  readonly suspend?: boolean;
  /**
   * What to do when a run is due while the previous one still runs.
   * @default ConcurrencyPolicy.FORBID
   */
  readonly concurrencyPolicy?: ConcurrencyPolicy;
  /**
   * Successful runs whose status and Jobs are kept.
   * @default 3
   */
  readonly successfulRunsHistoryLimit?: number;
  /**
   * Failed runs whose status and Jobs are kept.
   * @default 1
   */
  readonly failedRunsHistoryLimit?: number;
  /**
   * Compression of segments.
   * @default Compression.zstd(3)
   */
  readonly compression?: Compression;
  /**
   * Client-side encryption.
   * @default - none (rely on the store's encryption at rest)
   */
  readonly encryption?: Encryption;
  /**
   * Also save the consumer groups' committed offsets with each run (for `autoConsumerGroups` on restore).
   * @default false
   */
  readonly consumerGroupSnapshot?: boolean;
  /**
   * Retention: deletion of the oldest runs after each successful run.
   * @default - keep everything
   */
  readonly retention?: RetentionOptions;
  /**
   * How often progress is checkpointed, so an interrupted run resumes without gap or duplicate.
   * @default Duration.seconds(30)
   */
  readonly checkpointInterval?: Duration;
  /**
   * Store each record's original offset with it (needed to translate consumer offsets after a restore).
   * Always on (incremental runs and resume need the offsets too): `false` is refused.
   * @default true
   */
  readonly includeOffsetHeaders?: boolean;
  /**
   * How often a continuous backup polls for new records.
   * @default Duration.millis(100)
   */
  readonly pollInterval?: Duration;
  /**
   * This backup's Prometheus metrics: `false` leaves its own series off the operator's /metrics;
   * options also set where `kafka-backup backup` serves them and how many partitions get a lag
   * series of their own.
   * @default true
   */
  readonly metrics?: boolean | BackupMetricsOptions;
  /**
   * Throughput limits.
   * @default - unlimited, 4 partitions in parallel
   */
  readonly rateLimit?: RateLimit;
  /**
   * Circuit breaker for failing brokers or stores.
   * @default - the engine's defaults
   */
  readonly circuitBreaker?: CircuitBreakerOptions;
  /**
   * Segment size at which a new segment object starts.
   * @default Size.mebibytes(128)
   */
  readonly segmentMaxSize?: Size;
  /**
   * Segment age at which a new segment object starts.
   * @default Duration.minutes(1)
   */
  readonly segmentMaxInterval?: Duration;
  /**
   * An id of the source cluster recorded in the backup's manifest.
   * @default - none
   */
  readonly sourceClusterId?: string;
}

/**
 * A `KafkaBackup`: backs topics up to storage on a schedule (or once, or continuously).
 *
 * @example
 * new KafkaBackupSchedule(chart, 'orders', {
 *   metadata: { name: 'hourly-backup' },
 *   cluster: KafkaClusterConnection.plaintext('kafka:9092'),
 *   storage: BackupStorage.s3({ bucket: 'kafka-backups', region: 'us-west-2', credentialsSecret: 's3-credentials' }),
 *   topics: ['orders', 'payments'],
 *   schedule: Schedule.hourly(),
 * });
 */
export class KafkaBackupSchedule extends KafkaResource {
  public readonly resourceType = 'kafkabackups';
  protected readonly apiObject: KafkaBackup;
  /** The cluster it backs up. */
  public readonly cluster: KafkaClusterConnection;
  /** Where it writes. */
  public readonly storage: BackupStorage;
  /** When it runs, if scheduled. */
  public readonly schedule?: Schedule;
  private readonly topics: string[];
  private readonly excluded: string[];

  public constructor(
    scope: Construct,
    id: string,
    private readonly props: KafkaBackupScheduleProps,
  ) {
    super(scope, id, 'KafkaBackup');
    if (props.includeOffsetHeaders === false) {
      throw new Error(
        'KafkaBackupSchedule: includeOffsetHeaders: false is not supported: every backup records the original ' +
          'offsets in its format (incremental runs, resume and offset translation need them); remove it',
      );
    }
    if (props.continuous && props.schedule) {
      throw new Error(
        'KafkaBackupSchedule: a continuous backup never ends, so it cannot also have a schedule; ' +
          'remove schedule, or remove continuous for scheduled snapshot runs',
      );
    }
    if (props.continuous && props.stopAtCurrentOffsets) {
      throw new Error(
        'KafkaBackupSchedule: continuous and stopAtCurrentOffsets exclude each other; keep one',
      );
    }
    if (props.continuous && props.runDeadline) {
      throw new Error(
        'KafkaBackupSchedule: a continuous backup never ends, so runDeadline would always stop it',
      );
    }
    const retention = props.retention;
    if (retention && retention.maxAge === undefined && retention.keepLast === undefined) {
      throw new Error('KafkaBackupSchedule: retention needs maxAge, keepLast or both');
    }
    this.cluster = props.cluster;
    this.storage = props.storage;
    this.schedule = props.schedule;
    this.topics = [...(props.topics ?? [])];
    this.excluded = [...(props.excludeTopics ?? [])];
    this.apiObject = new KafkaBackup(this, 'Resource', {
      metadata: props.metadata,
      spec: Lazy.any({ produce: () => this._toKube() }),
    });
  }

  /** Adds topics (names or patterns) to back up. */
  public addTopics(...topics: string[]): void {
    this.topics.push(...topics);
  }

  /** Leaves topics (names or patterns) out even when a pattern selects them. */
  public excludeTopics(...topics: string[]): void {
    this.excluded.push(...topics);
  }

  /** @internal */
  public _toKube(): KafkaBackupSpec {
    const p = this.props;
    const retention = p.retention;
    const maxAgeDays = retention?.maxAge?.toDays({ integral: false });
    if (maxAgeDays !== undefined && !Number.isInteger(maxAgeDays)) {
      throw new Error(`KafkaBackupSchedule: retention.maxAge must be whole days, got ${maxAgeDays}`);
    }
    return compact({
      kafkaCluster: p.cluster._toSpec(),
      topics: [...this.topics],
      excludeTopics: this.excluded.length > 0 ? [...this.excluded] : undefined,
      includeInternalTopics: p.includeInternalTopics,
      storage: p.storage._toSpec(),
      schedule: p.schedule?.expressionString,
      timeZone: p.schedule?.timeZone,
      continuous: p.continuous,
      stopAtCurrentOffsets: p.stopAtCurrentOffsets ?? (p.continuous ? undefined : true),
      suspend: p.suspend,
      concurrencyPolicy: p.concurrencyPolicy,
      successfulRunsHistoryLimit: p.successfulRunsHistoryLimit,
      failedRunsHistoryLimit: p.failedRunsHistoryLimit,
      compression: p.compression?.algorithm,
      compressionLevel: p.compression?.level,
      encryption: p.encryption?._toSpec(),
      consumerGroupSnapshot: p.consumerGroupSnapshot,
      retention: retention
        ? {
            enabled: true,
            maxAgeDays,
            keepLast: retention.keepLast,
            minSuccessful: retention.minSuccessful,
            dryRun: retention.dryRun,
          }
        : undefined,
      checkpoint: p.checkpointInterval
        ? { enabled: true, intervalSecs: wholeSeconds(p.checkpointInterval, 'checkpointInterval') }
        : undefined,
      includeOffsetHeaders: p.includeOffsetHeaders,
      pollIntervalMs: wholeMillis(p.pollInterval, 'pollInterval'),
      metrics: backupMetricsSpec(p.metrics),
      rateLimiting: rateLimitSpec(p.rateLimit),
      circuitBreaker: circuitBreakerSpec(p.circuitBreaker),
      segmentMaxBytes: p.segmentMaxSize ? p.segmentMaxSize.toKibibytes() * 1024 : undefined,
      segmentMaxIntervalMs: wholeMillis(p.segmentMaxInterval, 'segmentMaxInterval'),
      sourceClusterId: p.sourceClusterId,
      activeDeadlineSeconds: wholeSeconds(p.runDeadline, 'runDeadline'),
    }) as unknown as KafkaBackupSpec;
  }
}
