import type { KafkaRecord, TopicPartition } from '../record.ts';
import type { KafkaFailure } from './failures.ts';
import type { CommittedBatch } from './record-batches.ts';

/**
 * Consumer group administration: offsets management, validation and the engine's group snapshot
 * use it. Part of KafkaPort, so one adapter (and one connection) serves a run.
 */
export interface ConsumerGroupAdmin {
  /** `kafka://host:port,...`, without credentials, for logs and errors. */
  readonly description: string;
  listGroups(): Promise<string[]>;
  /** State and members of each group; a group that does not exist is reported with state `Dead`. */
  describeGroups(groups: readonly string[]): Promise<Map<string, GroupDescription>>;
  /** The group's committed offsets (next offset to read), for every partition it has one. */
  committedOffsets(group: string): Promise<GroupOffset[]>;
  /** Commits offsets for a group with no members; any partition-level error fails the whole call. */
  commitOffsets(group: string, offsets: readonly GroupOffset[]): Promise<void>;
  /** Removes the group's committed offsets on these partitions. */
  deleteOffsets(group: string, partitions: readonly TopicPartition[]): Promise<void>;
  /** Partition counts of existing topics; missing topics are absent from the map. */
  partitionCounts(topics: readonly string[]): Promise<Map<string, number>>;
  /** Log-start offset and high watermark, keyed by tpKey(). */
  logOffsets(partitions: readonly TopicPartition[]): Promise<Map<string, LogOffsets>>;
  /** Offset of the first record with timestamp >= `timestamp`, or -1 when none is, keyed by tpKey(). */
  offsetsForTimestamp(partitions: readonly TopicPartition[], timestamp: bigint): Promise<Map<string, bigint>>;
  close(): Promise<void>;
}

export interface LogOffsets {
  readonly earliest: bigint;
  readonly latest: bigint;
}

export interface GroupMemberInfo {
  readonly memberId: string;
  readonly clientId: string;
  readonly host: string;
  readonly groupInstanceId?: string;
}

export interface GroupDescription {
  readonly group: string;
  /** Kafka's state name: Empty, Stable, PreparingRebalance, CompletingRebalance, Dead, ... */
  readonly state: string;
  readonly members: readonly GroupMemberInfo[];
}

/**
 * The Kafka port: the only way the engine reaches a cluster. Narrow on purpose, so the engine's
 * logic is testable and the client library can be replaced (see platformatic-adapter.ts for why
 * it is @platformatic/kafka and not kafkajs).
 */
export interface KafkaPort extends ConsumerGroupAdmin {
  clusterId(): Promise<string>;
  /** Every topic name, with internal topics (`__consumer_offsets`, ...) only when asked. */
  listTopics(options?: { includeInternal?: boolean }): Promise<string[]>;
  /** Partition counts, replication factors and non-default configs. Missing topics are omitted. */
  describeTopics(topics: readonly string[]): Promise<TopicDescription[]>;
  /**
   * The log start offset and the end a committed reader can reach (the last stable offset:
   * records of open transactions lie beyond it) of each partition.
   */
  watermarks(partitions: readonly TopicPartition[]): Promise<Map<string, Watermarks>>;
  /**
   * Committed records of one partition from `offset` on, read by explicit assignment: no consumer
   * group is joined or created. Aborted transactional records and control markers are never
   * returned; the offsets they occupy are reported in `skipped`.
   */
  fetch(tp: TopicPartition, offset: bigint, options?: FetchOptions): Promise<FetchResult>;
  /**
   * The same committed data as fetch(), as Kafka's record batches kept whole (what backup stores):
   * aborted and control batches are left out and reported in `skipped`, a batch that starts below
   * `offset` is cut, and every batch passed its CRC-32C.
   */
  fetchBatches(tp: TopicPartition, offset: bigint, options?: BatchFetchOptions): Promise<BatchFetchResult>;
  /**
   * Appends records, in order, to one partition through an idempotent producer (when acks = all)
   * and returns the offset the first one got; the others follow contiguously.
   */
  produce(tp: TopicPartition, records: readonly ProduceRecord[]): Promise<{ baseOffset: bigint }>;
  /**
   * Appends one record batch as it is (a batch a backup stored) to one partition, re-stamped for this
   * port's producer (base offset, producer id, epoch and sequence, CRC: docs/format/v2.md §5), and
   * returns the offset its first record got. The batch is changed in place. Its records must be
   * numbered 0..n-1 and carry CreateTime, as a producer writes them; `recordCount` is theirs.
   * Up to batchesInFlight calls of one partition may be in flight; they land in call order.
   */
  produceBatch(tp: TopicPartition, batch: Uint8Array, recordCount: number): Promise<{ baseOffset: bigint }>;
  /**
   * How many produceBatch() calls of one partition may be in flight at once, their records landing
   * in call order whatever fails: more than 1 only when the port writes idempotently (a batch that
   * fails then fails every later one of its partition; without idempotence a later batch could land
   * in its place). Undefined: 1.
   */
  readonly batchesInFlight?: number;
  createTopic(spec: TopicSpec): Promise<void>;
  deleteTopics(topics: readonly string[]): Promise<void>;
  /** Deletes every record of the partition below `offset` (DeleteRecords). */
  deleteRecords(tp: TopicPartition, offset: bigint): Promise<void>;
  close(): Promise<void>;
}

export interface TopicDescription {
  readonly name: string;
  readonly partitionCount: number;
  readonly replicationFactor: number;
  /** Configs set on the topic (not broker defaults). */
  readonly configs: Readonly<Record<string, string>>;
  /**
   * The effective `cleanup.policy` (set on the topic or inherited from the broker) includes
   * `compact`: only then may offsets be missing from the log without explanation.
   */
  readonly compacted: boolean;
}

export interface Watermarks {
  readonly logStartOffset: bigint;
  /** The last stable offset: the end a READ_COMMITTED reader can reach now. */
  readonly endOffset: bigint;
}

export interface FetchOptions {
  /** Upper bound of bytes for this partition (the first batch is returned even when larger). */
  readonly maxBytes?: number;
  /** How long the broker may wait for data when none is available. */
  readonly maxWaitMs?: number;
}

export interface BatchFetchOptions extends FetchOptions {
  /**
   * Lends the region the fetched bytes are copied into (exactly `length` bytes; undefined: the port
   * allocates its own), so a caller that keeps the batches (backup's segment buffer) copies them
   * once. Batches returned as views of the region lie in it in order, each after the previous; a
   * batch cut below the offset, and every batch after it, has bytes of its own. The caller writes
   * the region only from its start, batch by batch, as it keeps them.
   */
  readonly into?: (length: number) => Uint8Array | undefined;
}

export interface SkippedRange {
  readonly start: bigint;
  /** Exclusive. */
  readonly end: bigint;
  readonly reason: 'transaction-markers';
}

export type FetchResult =
  | {
      readonly kind: 'records';
      /** In offset order, all >= the requested offset. */
      readonly records: KafkaRecord[];
      /** Where the next fetch continues: after the last batch looked at (records, markers or aborted). */
      readonly nextOffset: bigint;
      /** Offsets of control markers and aborted records in [requested offset, nextOffset). */
      readonly skipped: SkippedRange[];
      readonly logStartOffset: bigint;
      readonly lastStableOffset: bigint;
      readonly highWatermark: bigint;
      /** Bytes of key, value and headers returned. */
      readonly bytes: number;
    }
  | {
      /** The offset is below the log start (retention or DeleteRecords removed it) or beyond the end. */
      readonly kind: 'out-of-range';
      readonly logStartOffset: bigint;
      readonly lastStableOffset: bigint;
    };

export type BatchFetchResult =
  | {
      readonly kind: 'batches';
      /** In offset order; each holds at least one record, all >= the requested offset. */
      readonly batches: readonly CommittedBatch[];
      /** Where the next fetch continues: after the last batch looked at. */
      readonly nextOffset: bigint;
      readonly skipped: SkippedRange[];
      readonly logStartOffset: bigint;
      readonly lastStableOffset: bigint;
      readonly highWatermark: bigint;
      /** Bytes of the batches kept, as Kafka stores them. */
      readonly bytes: number;
      /** Bytes of their records' keys, values and headers (fetch()'s `bytes`). */
      readonly payloadBytes: number;
      readonly records: number;
    }
  | Extract<FetchResult, { kind: 'out-of-range' }>;

export interface ProduceRecord {
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
  readonly headers: KafkaRecord['headers'];
  readonly timestamp: bigint;
}

export interface TopicSpec {
  readonly name: string;
  readonly partitions: number;
  /** -1: the broker default. */
  readonly replicationFactor: number;
  readonly configs: Readonly<Record<string, string>>;
}

/** A committed offset of a group on one partition: the next offset it will read. */
export interface GroupOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
}

/** A Kafka operation failed in a way the caller should report; `retriable` says whether to retry. */
export class KafkaError extends Error {
  readonly retriable: boolean;
  /** The connection failure behind it, when one was recognised (runtime/kafka/failures.ts). */
  readonly failure?: KafkaFailure;
  constructor(
    message: string,
    options: { retriable?: boolean; cause?: unknown; failure?: KafkaFailure } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'KafkaError';
    this.retriable = options.retriable ?? false;
    if (options.failure) this.failure = options.failure;
  }
}
