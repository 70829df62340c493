import { ApiObject, type ApiObjectMetadata, type Duration, Lazy } from 'cdk8s';
import type { Construct } from 'constructs';
import { KafkaRestore, type KafkaRestoreSpec } from '../imports/kafkarestore-kafka.oso.sh.ts';
import type { BackupSource } from './backup-source.ts';
import {
  type ApprovalOptions,
  approvalSpec,
  type CircuitBreakerOptions,
  circuitBreakerSpec,
  compact,
  type RateLimit,
  type RunMetricsOptions,
  type RunOptions,
  rateLimitSpec,
  rfc3339,
  runMetricsSpec,
  wholeMillis,
  wholeSeconds,
} from './common.ts';
import type { Encryption } from './encryption.ts';
import type { KafkaClusterConnection } from './kafka-cluster.ts';
import { KafkaResource } from './resource.ts';

/** Acknowledgements the restore's producer waits for. */
export enum ProduceAcks {
  /** All in-sync replicas (the safe default). */
  ALL = -1,
  /** No acknowledgement: fastest, may lose records on a broker failure. */
  NONE = 0,
  /** The partition leader only. */
  LEADER = 1,
}

/** How records of a topic are spread over a different number of target partitions. */
export enum RepartitionStrategy {
  /** Re-hash the record key with Kafka's default partitioner (murmur2), as producers would. */
  MURMUR2 = 'murmur2',
  /** Let the engine choose (keyless records round-robin). */
  AUTOMATIC = 'automatic',
  /** Spread records evenly regardless of key (key order per partition is not kept). */
  ROUND_ROBIN = 'round-robin',
}

/** A point-in-time window: only records with timestamps inside it are restored. */
export interface PointInTime {
  /**
   * Earliest record time (inclusive).
   * @default - from the beginning of the backup
   */
  readonly start?: Date;
  /**
   * Latest record time (inclusive).
   * @default - to the end of the backup
   */
  readonly end?: Date;
}

/** Consumer offsets snapshot taken before the restore, to undo its offset changes. */
export interface RestoreRollbackOptions {
  /**
   * Snapshot the target's consumer group offsets before restoring.
   * @default true
   */
  readonly snapshotBeforeRestore?: boolean;
  /**
   * How long the snapshot is kept (whole hours).
   * @default Duration.hours(24)
   */
  readonly snapshotRetention?: Duration;
  /**
   * Roll the offsets back automatically when the restore fails.
   * @default false
   */
  readonly autoRollbackOnFailure?: boolean;
}

/** Post-restore consumer offset handling. */
export interface RestoreOffsetReset {
  /** Consumer groups whose offsets are translated to the restored topics. */
  readonly consumerGroups: string[];
  /**
   * How target offsets are found: `header-based` (from the original offsets stored with each record),
   * `timestamp`, `cluster-scan`, `dry-run` (report only) or `manual` (do nothing).
   * @default 'manual'
   */
  readonly strategy?: 'manual' | 'dry-run' | 'header-based' | 'timestamp' | 'cluster-scan';
}

/** Props of a KafkaRestorePlan. */
export interface KafkaRestorePlanProps extends RunOptions, ApprovalOptions {
  /**
   * Metadata of the KafkaRestore; set `name` for a readable, stable name in Git.
   * @default - a name generated from the construct path
   */
  readonly metadata?: ApiObjectMetadata;
  /** Which backup to restore. */
  readonly source: BackupSource;
  /** The cluster to restore into. */
  readonly cluster: KafkaClusterConnection;
  /**
   * Topics to restore (exact names).
   * @default - every topic of the backup
   */
  readonly topics?: string[];
  /**
   * Topics of the backup to leave out (names or patterns with `*` and `?`).
   * @default - none
   */
  readonly excludeTopics?: string[];
  /**
   * Configs of topics the restore creates, by target topic, e.g. `{ orders: { 'retention.ms': '-1' } }`.
   * Needs `createTopics`.
   * @default - the configs recorded in the backup
   */
  readonly topicConfigs?: Record<string, Record<string, string>>;
  /**
   * Source topic to target topic, e.g. `{ orders: 'orders-restored' }`. More with `mapTopic()`.
   * @default - same names
   */
  readonly topicMapping?: Record<string, string>;
  /**
   * Source partition to target partition.
   * @default - same partitions
   */
  readonly partitionMapping?: Record<number, number>;
  /**
   * Restore only records inside this time window.
   * @default - everything
   */
  readonly pointInTime?: PointInTime;
  /**
   * Target topics restored into a different partition count: target topic to partitions and strategy.
   * @default - same partition counts
   */
  readonly repartitioning?: Record<string, { targetPartitions: number; strategy?: RepartitionStrategy }>;
  /**
   * Translate consumer group offsets after the restore.
   * @default - none
   */
  readonly offsetReset?: RestoreOffsetReset;
  /**
   * Snapshot consumer offsets before the restore so a KafkaOffsetRollback can undo it.
   * @default - the engine's defaults (snapshot taken, kept 24 hours)
   */
  readonly rollback?: RestoreRollbackOptions;
  /**
   * Restore the consumer groups saved by a backup with `consumerGroupSnapshot`.
   * @default false
   */
  readonly autoConsumerGroups?: boolean;
  /**
   * Delete the target topics' records before restoring. Destructive: consider `requireApproval`.
   * @default false
   */
  readonly purgeTopics?: boolean;
  /**
   * Create missing target topics.
   * @default false
   */
  readonly createTopics?: boolean;
  /**
   * Replication factor of topics the restore creates.
   * @default - the broker's default
   */
  readonly defaultReplicationFactor?: number;
  /**
   * Producer acknowledgements.
   * @default ProduceAcks.ALL
   */
  readonly produceAcks?: ProduceAcks;
  /**
   * Records per produce batch.
   * @default 1000
   */
  readonly produceBatchSize?: number;
  /**
   * Broker-side produce timeout.
   * @default Duration.seconds(30)
   */
  readonly produceTimeout?: Duration;
  /**
   * Check everything and report, without writing.
   * @default false
   */
  readonly dryRun?: boolean;
  /**
   * Decryption settings when the backup was encrypted.
   * @default - none
   */
  readonly encryption?: Encryption;
  /**
   * Throughput limits.
   * @default - unlimited
   */
  readonly rateLimit?: RateLimit;
  /**
   * Circuit breaker.
   * @default - the engine's defaults
   */
  readonly circuitBreaker?: CircuitBreakerOptions;
  /**
   * This restore's Prometheus metrics: `false` leaves its own series off the operator's /metrics;
   * options also set where `kafka-backup restore` serves them.
   * @default true
   */
  readonly metrics?: boolean | RunMetricsOptions;
}

/**
 * The generated L1 maps `pitr` times from `Date` objects, which cdk8s cannot resolve out of a lazy
 * spec; the spec here is already wire JSON (checked against the CRD at synth), so render it as is.
 */
class KafkaRestoreObject extends KafkaRestore {
  public override toJson(): unknown {
    return ApiObject.prototype.toJson.call(this);
  }
}

/**
 * A `KafkaRestore`: restores a backup (optionally a point-in-time window, remapped topics) into a cluster.
 */
export class KafkaRestorePlan extends KafkaResource {
  public readonly resourceType = 'kafkarestores';
  protected readonly apiObject: KafkaRestore;
  private readonly topicMapping: Record<string, string>;

  public constructor(
    scope: Construct,
    id: string,
    private readonly props: KafkaRestorePlanProps,
  ) {
    super(scope, id, 'KafkaRestore');
    const pit = props.pointInTime;
    for (const [name, date] of [
      ['start', pit?.start],
      ['end', pit?.end],
    ] as const) {
      if (date !== undefined && Number.isNaN(date.getTime())) {
        throw new Error(`KafkaRestorePlan: pointInTime.${name} is an invalid Date`);
      }
    }
    if (pit?.start && pit.end && pit.start.getTime() >= pit.end.getTime()) {
      throw new Error(
        `KafkaRestorePlan: pointInTime.start (${pit.start.toISOString()}) must be before pointInTime.end (${pit.end.toISOString()})`,
      );
    }
    if (props.defaultReplicationFactor !== undefined && !props.createTopics) {
      throw new Error('KafkaRestorePlan: defaultReplicationFactor only applies with createTopics: true');
    }
    if (props.topicConfigs && Object.keys(props.topicConfigs).length > 0 && !props.createTopics) {
      throw new Error(
        'KafkaRestorePlan: topicConfigs only apply to topics the restore creates; set createTopics: true',
      );
    }
    this.topicMapping = { ...(props.topicMapping ?? {}) };
    this.apiObject = new KafkaRestoreObject(this, 'Resource', {
      metadata: props.metadata,
      spec: Lazy.any({ produce: () => this._toKube() }),
    });
  }

  /** Restores `source` topic into `target`. */
  public mapTopic(source: string, target: string): void {
    if (this.topicMapping[source] !== undefined && this.topicMapping[source] !== target) {
      throw new Error(
        `KafkaRestorePlan: topic "${source}" is already mapped to "${this.topicMapping[source]}"`,
      );
    }
    this.topicMapping[source] = target;
  }

  /** @internal */
  public _toKube(): KafkaRestoreSpec {
    const p = this.props;
    const mapping = Object.keys(this.topicMapping).sort();
    return compact({
      backupRef: p.source._toSpec(this.metadata.namespace),
      kafkaCluster: p.cluster._toSpec(),
      topics: p.topics ? [...p.topics] : undefined,
      excludeTopics: p.excludeTopics ? [...p.excludeTopics] : undefined,
      topicConfigs: p.topicConfigs,
      pitr: p.pointInTime
        ? { startTime: rfc3339(p.pointInTime.start), endTime: rfc3339(p.pointInTime.end) }
        : undefined,
      topicMapping:
        mapping.length > 0 ? Object.fromEntries(mapping.map((k) => [k, this.topicMapping[k]])) : undefined,
      partitionMapping: p.partitionMapping
        ? Object.fromEntries(Object.entries(p.partitionMapping).map(([k, v]) => [String(k), v]))
        : undefined,
      repartitioning: p.repartitioning,
      offsetReset: p.offsetReset
        ? {
            enabled: true,
            consumerGroups: [...p.offsetReset.consumerGroups],
            strategy: p.offsetReset.strategy,
          }
        : undefined,
      rollback: p.rollback
        ? {
            snapshotBeforeRestore: p.rollback.snapshotBeforeRestore,
            snapshotRetentionHours: p.rollback.snapshotRetention?.toHours(),
            autoRollbackOnFailure: p.rollback.autoRollbackOnFailure,
          }
        : undefined,
      autoConsumerGroups: p.autoConsumerGroups,
      purgeTopics: p.purgeTopics,
      createTopics: p.createTopics,
      defaultReplicationFactor: p.defaultReplicationFactor,
      produceAcks: p.produceAcks,
      produceBatchSize: p.produceBatchSize,
      produceTimeoutMs: wholeMillis(p.produceTimeout, 'produceTimeout'),
      dryRun: p.dryRun,
      encryption: p.encryption?._toSpec(),
      rateLimiting: rateLimitSpec(p.rateLimit),
      circuitBreaker: circuitBreakerSpec(p.circuitBreaker),
      approval: approvalSpec(p),
      activeDeadlineSeconds: wholeSeconds(p.runDeadline, 'runDeadline'),
      metrics: runMetricsSpec(p.metrics),
    }) as unknown as KafkaRestoreSpec;
  }
}
