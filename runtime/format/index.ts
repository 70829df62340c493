/**
 * The backup format, v1 (specification: docs/format/v1.md; Rust-tool import: docs/format/oso-rust.md).
 *
 * API in one page — what the engine uses:
 *
 *   const repo = new BackupRepository(store);                       // store: ObjectStore (runtime/storage)
 *   const backup = await repo.openOrCreate({ backupId, compression: 'zstd', encryption?: { key } });
 *   const m = await backup.manifest();                               // merged view of all commits
 *   findPartition(m, topic, p)?.nextOffset                           // where a new run / resume continues
 *
 *   // backup: one writer per partition, bounded memory (one segment buffer each)
 *   const w = backup.newSegmentWriter({ topic, partition }, { maxBytes: 16 << 20 });
 *   if (w.append(record)) entries.push(await backup.writeSegment(await w.seal(), runId));
 *   // ... at a checkpoint or the end of a run: seal what is buffered, then commit atomically
 *   await backup.commit({ runId, mode, final, topics: [TopicMetadata], partitions: [{ topic, partition,
 *     segments: entries, covered: { start, end /* next offset to read *\/ }, gaps: [{ start, end, reason }] }] });
 *   await backup.putDocument('consumer-groups/<runId>', snapshot);   // {backupId}/documents/<name>.json
 *
 *   // restore: open (v1 or the Rust tool's format), plan, read verified segments
 *   const b = await repo.open(backupId, { encryption });             // ReadableBackup
 *   for (const plan of planRestore(await b.manifest(), { startTime, endTime, toOffset }, topics))
 *     for (const read of plan.reads)
 *       for (const r of selectRecords((await b.readSegment(read.segment)).records, read, bounds)) produce(r);
 *
 *   repo.list() / repo.latest()                                      // catalog, no full scan
 *   encodeSegment(records, opts) / decodeSegment(bytes, { key, ... }) // the codec on its own
 *
 *   // storage: runtime/storage/index.ts — await createObjectStore(crdStorageBlock, resolvedCredentials,
 *   //   { resilience: { bytesPerSecond, circuitBreaker, retry } }) gives an ObjectStore for all of this.
 *
 * Guarantees: readSegment() verifies size and SHA-256 against the manifest, then the frame CRC, the
 * AES-GCM tag and every record before returning anything; any failure throws CorruptObjectError
 * { key, reason }. A commit is one if-none-match object creation: concurrent runs never overwrite each
 * other, and uncommitted segments of an interrupted run are ignored (resume from nextOffset). Every
 * 50th commit also writes a snapshot of all commits, so a continuous backup opens in a few reads.
 * Every JSON object (descriptor, commits, snapshots, documents) carries a SHA-256 of its own bytes.
 * backup.orphanSegments({ olderThanMs }) lists what interrupted runs left behind, for cleanup.
 * backup.prune({ keepLast, maxAgeDays, minSuccessful }, { dryRun }) is retention's safe delete: it
 * records a prune commit first, then deletes the segments no kept run needs (callers hold the run lease).
 */

export type { KafkaRecord, RecordHeader, TimestampType, TopicPartition } from '../record.ts';
export { COMPRESSION_CODES, DEFAULT_ZSTD_LEVEL } from './compression.ts';
export { keyId } from './encryption.ts';
export {
  BackupExistsError,
  BackupNotFoundError,
  CorruptObjectError,
  EncryptionKeyError,
  FormatUsageError,
  UnsupportedFormatError,
} from './errors.ts';
export * as keys from './keys.ts';
export { OSO_RUN_ID, OsoBackup } from './legacy/oso-backup.ts';
export { INJECTED_HEADERS, stripInjected } from './legacy/oso-segment.ts';
export { findPartition, mergeCommits, subtractRanges, uncoveredRanges, unionRanges } from './manifest.ts';
export {
  type PartitionPlan,
  planPartition,
  planRestore,
  type RestoreBounds,
  recordInBounds,
  type SegmentRead,
  selectRecords,
} from './planner.ts';
export { pruneFacts, segmentsToDelete } from './prune.ts';
export {
  Backup,
  BackupRepository,
  type CreateBackupInput,
  type OpenBackupOptions,
  type PruneOptions,
  type PruneResult,
  type ReadableBackup,
  type RepositoryOptions,
} from './repository.ts';
export {
  checkRetentionPolicy,
  type EligibleReason,
  type KeptReason,
  planRetention,
  type RetentionDecision,
  type RetentionPlan,
  type RetentionPolicy,
  type RetentionRun,
} from './retention-plan.ts';
export {
  type DecodedSegment,
  type DecodeSegmentOptions,
  decodeSegment,
  type EncodedSegment,
  type EncodeSegmentOptions,
  encodeSegment,
  readSegmentHeader,
  type SegmentHeader,
  sha256Hex,
} from './segment.ts';
export {
  DEFAULT_SEGMENT_MAX_BYTES,
  PartitionBatchWriter,
  PartitionSegmentWriter,
  type SealedSegment,
  type SegmentWriterOptions,
} from './segment-writer.ts';
export * from './types.ts';
