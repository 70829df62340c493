import type { TopicPartition } from '../record.ts';

/** The version of the format this code writes; readers accept every version listed in docs/format/. */
export const FORMAT_VERSION = 1;

export type Compression = 'zstd' | 'lz4' | 'gzip' | 'none';
export const COMPRESSIONS: readonly Compression[] = ['zstd', 'lz4', 'gzip', 'none'];

/** A 32-byte AES-256-GCM key supplied by the caller (e.g. read from a Kubernetes Secret). */
export interface EncryptionKey {
  readonly key: Uint8Array;
}

/** Offsets as a half-open range [start, end). */
export interface OffsetRange {
  readonly start: bigint;
  /** Exclusive: the next offset to read after this range. */
  readonly end: bigint;
}

export type GapReason =
  /** The log start moved past offsets before they were read (retention or DeleteRecords). */
  | 'retention'
  /** Offsets that exist in no batch any more because the log cleaner removed them. */
  | 'compaction'
  /** Offsets held by transaction control markers or aborted transactional records. */
  | 'transaction-markers'
  /** Offsets whose records a retention prune deleted (docs/format/v1.md §5.6): known, not corruption. */
  | 'pruned'
  | 'unknown';

/** Offsets of a partition that the backup covers but holds no record for, and why. */
export interface OffsetGap extends OffsetRange {
  readonly reason: GapReason;
  /** When the engine noticed the gap (epoch ms). */
  readonly detectedAt?: number;
}

/** Everything about one stored segment object; recorded in the manifest. */
export interface SegmentEntry extends TopicPartition {
  /** Object key relative to the store's root (bucket + prefix). */
  readonly key: string;
  /** Offset of the first and the last record in the segment (inclusive). */
  readonly firstOffset: bigint;
  readonly lastOffset: bigint;
  /** Minimum and maximum record timestamps (not first/last: CreateTime is not monotonic). */
  readonly minTimestamp: bigint;
  readonly maxTimestamp: bigint;
  readonly recordCount: number;
  /** Stored object size in bytes. */
  readonly size: number;
  /** Size of the encoded records block before compression. */
  readonly uncompressedSize: number;
  readonly compression: Compression;
  readonly encrypted: boolean;
  /** Lower-case hex SHA-256 of the whole stored object; undefined only for imported legacy backups. */
  readonly sha256: string | undefined;
  /** The run that wrote it. */
  readonly runId: string;
  /**
   * False when minTimestamp/maxTimestamp are not true bounds (legacy backups store the first and last
   * record's timestamps): a time-window planner must then not skip the segment on timestamps.
   */
  readonly timestampsAreBounds: boolean;
}

/** Topic metadata captured at backup time, restorable on a target cluster. */
export interface TopicMetadata {
  readonly name: string;
  readonly partitionCount: number;
  readonly replicationFactor?: number;
  /** Non-default topic configs (cleanup.policy, retention.ms, ...). */
  readonly configs: Readonly<Record<string, string>>;
}

/** What one commit says about one partition. */
export interface PartitionCommit extends TopicPartition {
  /** Segments written since the previous commit, in offset order. */
  readonly segments: readonly SegmentEntry[];
  /**
   * The offsets this commit covers: every offset in it is either in a segment or in a gap.
   * `covered.end` is where the next run or a resume continues.
   */
  readonly covered: OffsetRange;
  readonly gaps: readonly OffsetGap[];
}

export type RunMode = 'snapshot' | 'continuous' | 'incremental' | 'one-shot';

/** The engine's input to BackupHandle.commit(): what became durable since the last commit. */
export interface CommitInput {
  readonly runId: string;
  readonly mode: RunMode;
  /** The run is finished (no more commits for this runId). */
  readonly final: boolean;
  /** Topic metadata as of this run; later commits replace earlier ones per topic. */
  readonly topics: readonly TopicMetadata[];
  readonly partitions: readonly PartitionCommit[];
  /** Free-form engine data kept with the commit (e.g. captured high watermarks). */
  readonly extra?: Readonly<Record<string, unknown>>;
}

/** `mode` of a commit that records a prune instead of a run's data (docs/format/v1.md §5.6). */
export type CommitMode = RunMode | 'prune';

/** Offsets of one partition no longer held after a prune: the runs' ranges that no kept run covers. */
export interface PrunedPartition extends TopicPartition {
  readonly ranges: readonly OffsetRange[];
}

/** What a prune commit says: these runs are gone from the backup, and which offsets went with them. */
export interface PruneFacts {
  /** Run ids removed from the merged view; their segments are deleted after this commit. */
  readonly runs: readonly string[];
  readonly partitions: readonly PrunedPartition[];
  /** Segment objects and their bytes the prune deletes (informative). */
  readonly segments: number;
  readonly bytes: number;
}

/** A commit as stored: immutable, numbered. A prune commit has mode 'prune', `prune` set, no partitions. */
export interface CommitRecord extends Omit<CommitInput, 'mode'> {
  readonly mode: CommitMode;
  readonly prune?: PruneFacts;
  readonly formatVersion: number;
  readonly backupId: string;
  /** 0, 1, 2, ... in commit order; unique per backup (created with if-none-match). */
  readonly seq: number;
  /** Epoch ms. */
  readonly committedAt: number;
}

export interface EncryptionInfo {
  readonly algorithm: 'aes-256-gcm';
  /** Fingerprint of the key (not the key): tells a wrong key apart from corrupt data. */
  readonly keyId: string;
}

/** `backup.json`: written once when a backup is created. */
export interface BackupDescriptor {
  readonly formatVersion: number;
  readonly backupId: string;
  /** Epoch ms. */
  readonly createdAt: number;
  /** Default compression of new segments (each segment records its own). */
  readonly compression: Compression;
  readonly encryption: EncryptionInfo | null;
  readonly source?: { readonly clusterId?: string; readonly bootstrapServers?: readonly string[] };
  readonly labels?: Readonly<Record<string, string>>;
}

export interface RunSummary {
  readonly runId: string;
  readonly mode: RunMode;
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly startedAt: number;
  readonly lastCommittedAt: number;
  readonly final: boolean;
  readonly segmentCount: number;
  readonly recordCount: number;
  readonly bytes: number;
}

/** The merged state of one partition over all commits. */
export interface PartitionState extends TopicPartition {
  /** Sorted by firstOffset; a segment overlapping earlier ones keeps `skipBelow` (see planner). */
  readonly segments: readonly SegmentEntry[];
  /** Merged, sorted, non-overlapping ranges covered by all commits. */
  readonly covered: readonly OffsetRange[];
  readonly gaps: readonly OffsetGap[];
  /** Where a new run continues: the end of the last covered range, undefined if nothing yet. */
  readonly nextOffset: bigint | undefined;
  readonly recordCount: number;
  readonly bytes: number;
}

export interface TopicState {
  readonly metadata: TopicMetadata;
  /** By partition number, ascending. */
  readonly partitions: readonly PartitionState[];
}

export type BackupFormatName = 'kafka-backup-v1' | 'oso-rust';

/** The merged view of a backup: what list/describe/restore/resume read. */
export interface BackupManifest {
  readonly format: BackupFormatName;
  readonly descriptor: BackupDescriptor;
  /** The runs the backup holds, by first commit; pruned runs are not among them. */
  readonly runs: readonly RunSummary[];
  /** Runs removed by prune commits, in the order they were pruned. */
  readonly prunedRuns: readonly string[];
  /** By topic name, ascending. */
  readonly topics: readonly TopicState[];
  /** The highest commit seq included (-1 when none). */
  readonly lastSeq: number;
}

export interface BackupSummary {
  readonly backupId: string;
  readonly format: BackupFormatName;
  readonly createdAt: number;
}
