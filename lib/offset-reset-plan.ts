import type { ApiObjectMetadata } from 'cdk8s';
import { Lazy } from 'cdk8s';
import type { Construct } from 'constructs';
import { KafkaOffsetReset, type KafkaOffsetResetSpec } from '../imports/kafkaoffsetreset-kafka.oso.sh.ts';
import { type ApprovalOptions, approvalSpec, compact, type RunOptions, wholeSeconds } from './common.ts';
import type { KafkaClusterConnection } from './kafka-cluster.ts';
import { type OffsetSnapshotReference, offsetSnapshotRefSpec } from './offset-rollback-plan.ts';
import { KafkaResource } from './resource.ts';

/** Bound of `resetShift` in the CRD. */
const MAX_SHIFT = 1_000_000_000_000;

/** Where each consumer group's offsets go. */
export class OffsetResetStrategy {
  /** The earliest offset still in the log. */
  public static toEarliest(): OffsetResetStrategy {
    return new OffsetResetStrategy({ resetStrategy: 'to-earliest' });
  }
  /** The end of the log (skip everything not yet consumed). */
  public static toLatest(): OffsetResetStrategy {
    return new OffsetResetStrategy({ resetStrategy: 'to-latest' });
  }
  /** The first offset at or after `time`. */
  public static toTimestamp(time: Date): OffsetResetStrategy {
    if (Number.isNaN(time.getTime()))
      throw new Error('OffsetResetStrategy.toTimestamp(): the Date is invalid');
    return new OffsetResetStrategy({ resetStrategy: 'to-timestamp', resetTimestamp: time.getTime() });
  }
  /** The same absolute offset on every partition. */
  public static toOffset(offset: number): OffsetResetStrategy {
    if (!Number.isInteger(offset) || offset < 0) {
      throw new Error(
        `OffsetResetStrategy.toOffset(${offset}): the offset must be a whole number, 0 or more`,
      );
    }
    return new OffsetResetStrategy({ resetStrategy: 'to-offset', resetOffset: offset });
  }
  /**
   * Move each committed offset by `records`: positive skips records, negative re-reads them. Partitions
   * without a committed offset are skipped; a target outside the log is clamped to its start or end.
   * @param records a whole number other than 0 (e.g. -100 to re-read the last 100 records)
   */
  public static shiftBy(records: number): OffsetResetStrategy {
    if (!Number.isInteger(records) || records === 0 || Math.abs(records) > MAX_SHIFT) {
      throw new Error(
        `OffsetResetStrategy.shiftBy(${records}): resetShift must be a whole number other than 0, between -${MAX_SHIFT} and ${MAX_SHIFT} (e.g. -100 to re-read the last 100 records)`,
      );
    }
    return new OffsetResetStrategy({ resetStrategy: 'shift-by', resetShift: records });
  }
  /**
   * Commit the offsets stored in an offset snapshot (taken before a reset or restore, or by
   * `kafka-backup offsets snapshot`): only the snapshot's partitions of the selected groups and topics.
   * @param snapshot the snapshot id, or a full reference (e.g. with the storage holding it)
   */
  public static fromSnapshot(snapshot: OffsetSnapshotReference | string): OffsetResetStrategy {
    const ref = typeof snapshot === 'string' ? { name: snapshot } : snapshot;
    if (ref.name === '')
      throw new Error('OffsetResetStrategy.fromSnapshot(): the snapshot name (its id) is empty');
    offsetSnapshotRefSpec(ref, 'OffsetResetStrategy.fromSnapshot()');
    return new OffsetResetStrategy({ resetStrategy: 'from-snapshot' }, () => ({
      snapshotRef: offsetSnapshotRefSpec(ref, 'OffsetResetStrategy.fromSnapshot()'),
    }));
  }
  /**
   * Translate offsets through the offset mapping a restore wrote, e.g. after restoring into a new cluster.
   * @param restore the KafkaRestore (a `KafkaRestorePlan` or its name) whose mapping to use
   */
  public static fromRestore(restore: { readonly name: string } | string): OffsetResetStrategy {
    return new OffsetResetStrategy({ resetStrategy: 'from-mapping' }, () => ({
      offsetMappingRef: { restoreName: typeof restore === 'string' ? restore : restore.name },
    }));
  }
  /**
   * Translate offsets through an offset-mapping file.
   * @param path the file's path (relative to the volume when `pvcName` is given)
   * @param pvcName the PersistentVolumeClaim holding the file
   */
  public static fromMappingFile(path: string, pvcName?: string): OffsetResetStrategy {
    return new OffsetResetStrategy({ resetStrategy: 'from-mapping' }, () => ({
      offsetMappingRef: { path, pvcName },
    }));
  }
  /** `from-mapping` with no explicit reference (the operator finds the mapping), as in the seed's example. */
  public static fromMapping(): OffsetResetStrategy {
    return new OffsetResetStrategy({ resetStrategy: 'from-mapping' });
  }

  private constructor(
    private readonly fields: {
      resetStrategy: string;
      resetTimestamp?: number;
      resetOffset?: number;
      resetShift?: number;
    },
    /** The strategy's reference (offsetMappingRef or snapshotRef), resolved at synth time. */
    private readonly reference?: () => Record<string, unknown>,
  ) {}

  /** The strategy's name as written to `spec.resetStrategy`. */
  public get name(): string {
    return this.fields.resetStrategy;
  }

  /** @internal */
  public _toSpec() {
    return { ...this.fields, ...this.reference?.() };
  }
}

/** Props of a KafkaOffsetResetPlan. */
export interface KafkaOffsetResetPlanProps extends RunOptions, ApprovalOptions {
  /**
   * Metadata of the KafkaOffsetReset; set `name` for a readable, stable name in Git.
   * @default - a name generated from the construct path
   */
  readonly metadata?: ApiObjectMetadata;
  /** The cluster whose consumer groups are reset. */
  readonly cluster: KafkaClusterConnection;
  /** The consumer groups to reset (they must have no active members). */
  readonly consumerGroups: string[];
  /** Where the offsets go. */
  readonly strategy: OffsetResetStrategy;
  /**
   * Only these topics.
   * @default - every topic the group has offsets for
   */
  readonly topics?: string[];
  /**
   * Groups reset in parallel.
   * @default 50
   */
  readonly parallelism?: number;
  /**
   * Keep going when one group fails.
   * @default false
   */
  readonly continueOnError?: boolean;
  /**
   * Snapshot the current offsets first, so a KafkaOffsetRollback can undo the reset.
   * @default true
   */
  readonly snapshotBeforeReset?: boolean;
  /**
   * Compute and report the new offsets without committing them.
   * @default false
   */
  readonly dryRun?: boolean;
}

/** A `KafkaOffsetReset`: moves consumer group offsets, e.g. after a restore. */
export class KafkaOffsetResetPlan extends KafkaResource {
  public readonly resourceType = 'kafkaoffsetresets';
  protected readonly apiObject: KafkaOffsetReset;

  public constructor(
    scope: Construct,
    id: string,
    private readonly props: KafkaOffsetResetPlanProps,
  ) {
    super(scope, id, 'KafkaOffsetReset');
    if (props.consumerGroups.length === 0) {
      throw new Error('KafkaOffsetResetPlan: name at least one consumer group in consumerGroups');
    }
    const dup = props.consumerGroups.find((g, i) => props.consumerGroups.indexOf(g) !== i);
    if (dup) throw new Error(`KafkaOffsetResetPlan: consumer group "${dup}" is listed twice`);
    this.apiObject = new KafkaOffsetReset(this, 'Resource', {
      metadata: props.metadata,
      spec: Lazy.any({ produce: () => this._toKube() }),
    });
  }

  /** @internal */
  public _toKube(): KafkaOffsetResetSpec {
    const p = this.props;
    return compact({
      consumerGroups: [...p.consumerGroups],
      kafkaCluster: p.cluster._toSpec(),
      ...p.strategy._toSpec(),
      topics: p.topics ? [...p.topics] : undefined,
      parallelism: p.parallelism,
      continueOnError: p.continueOnError,
      snapshotBeforeReset: p.snapshotBeforeReset,
      dryRun: p.dryRun,
      approval: approvalSpec(p),
      activeDeadlineSeconds: wholeSeconds(p.runDeadline, 'runDeadline'),
    }) as unknown as KafkaOffsetResetSpec;
  }
}
