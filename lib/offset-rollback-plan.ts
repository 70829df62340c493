import type { ApiObjectMetadata } from 'cdk8s';
import { Lazy } from 'cdk8s';
import type { Construct } from 'constructs';
import {
  KafkaOffsetRollback,
  type KafkaOffsetRollbackSpec,
} from '../imports/kafkaoffsetrollback-kafka.oso.sh.ts';
import { type ApprovalOptions, approvalSpec, compact, type RunOptions, wholeSeconds } from './common.ts';
import type { KafkaClusterConnection } from './kafka-cluster.ts';
import { KafkaResource } from './resource.ts';
import type { BackupStorage } from './storage.ts';

/** The offset snapshot a rollback returns to. */
export interface OffsetSnapshotReference {
  /** The snapshot's id or name (as reported in the status of the reset or restore that took it). */
  readonly name: string;
  /**
   * The KafkaOffsetReset that took the snapshot (a `KafkaOffsetResetPlan` or its name). Excludes `restore`.
   * @default - none
   */
  readonly offsetReset?: { readonly name: string } | string;
  /**
   * The KafkaRestore that took the snapshot (a `KafkaRestorePlan` or its name). Excludes `offsetReset`.
   * @default - none
   */
  readonly restore?: { readonly name: string } | string;
  /**
   * Storage holding the snapshot, when it is not the default snapshot store.
   * @default - the store of the reset or restore that took it
   */
  readonly storage?: BackupStorage;
  /**
   * A snapshot file path (on `pvcName`).
   * @default - none
   */
  readonly path?: string;
  /**
   * The PersistentVolumeClaim holding `path`.
   * @default - none
   */
  readonly pvcName?: string;
}

/** Props of a KafkaOffsetRollbackPlan. */
export interface KafkaOffsetRollbackPlanProps extends RunOptions, ApprovalOptions {
  /**
   * Metadata of the KafkaOffsetRollback; set `name` for a readable, stable name in Git.
   * @default - a name generated from the construct path
   */
  readonly metadata?: ApiObjectMetadata;
  /** The cluster whose consumer groups are rolled back. */
  readonly cluster: KafkaClusterConnection;
  /** The snapshot to return to. */
  readonly snapshot: OffsetSnapshotReference;
  /**
   * Only these consumer groups.
   * @default - every group in the snapshot
   */
  readonly consumerGroups?: string[];
  /**
   * Read the offsets back after committing them and report any difference.
   * @default true
   */
  readonly verifyAfterRollback?: boolean;
  /**
   * Report what would change without committing.
   * @default false
   */
  readonly dryRun?: boolean;
}

const nameOf = (ref: { readonly name: string } | string | undefined) =>
  ref === undefined ? undefined : typeof ref === 'string' ? ref : ref.name;

/**
 * `snapshotRef` as written by KafkaOffsetRollbackPlan and by `OffsetResetStrategy.fromSnapshot()`.
 * @internal
 */
export function offsetSnapshotRefSpec(s: OffsetSnapshotReference, who: string) {
  if (s.restore !== undefined && s.offsetReset !== undefined) {
    throw new Error(
      `${who}: snapshot.restore and snapshot.offsetReset exclude each other; keep the one that took the snapshot`,
    );
  }
  return {
    name: s.name,
    path: s.path,
    pvcName: s.pvcName,
    restoreRef: nameOf(s.restore),
    offsetResetRef: nameOf(s.offsetReset),
    storage: s.storage?._toSpec(),
  };
}

/** A `KafkaOffsetRollback`: returns consumer groups to the offsets of an earlier snapshot. */
export class KafkaOffsetRollbackPlan extends KafkaResource {
  public readonly resourceType = 'kafkaoffsetrollbacks';
  protected readonly apiObject: KafkaOffsetRollback;

  public constructor(
    scope: Construct,
    id: string,
    private readonly props: KafkaOffsetRollbackPlanProps,
  ) {
    super(scope, id, 'KafkaOffsetRollback');
    offsetSnapshotRefSpec(props.snapshot, 'KafkaOffsetRollbackPlan');
    this.apiObject = new KafkaOffsetRollback(this, 'Resource', {
      metadata: props.metadata,
      spec: Lazy.any({ produce: () => this._toKube() }),
    });
  }

  /** @internal */
  public _toKube(): KafkaOffsetRollbackSpec {
    const p = this.props;
    const s = p.snapshot;
    return compact({
      snapshotRef: offsetSnapshotRefSpec(s, 'KafkaOffsetRollbackPlan'),
      kafkaCluster: p.cluster._toSpec(),
      consumerGroups: p.consumerGroups ? [...p.consumerGroups] : undefined,
      verifyAfterRollback: p.verifyAfterRollback,
      dryRun: p.dryRun,
      approval: approvalSpec(p),
      activeDeadlineSeconds: wholeSeconds(p.runDeadline, 'runDeadline'),
    }) as unknown as KafkaOffsetRollbackSpec;
  }
}
