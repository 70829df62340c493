import { randomBytes } from 'node:crypto';
import { batchStats, sliceBatch } from '../format/kafka-batch.ts';
import { checkBackupId } from '../format/keys.ts';
import type { Backup, BackupRepository } from '../format/repository.ts';
import type { PartitionBatchWriter } from '../format/segment-writer.ts';
import type {
  Compression,
  EncryptionKey,
  OffsetGap,
  RunMode,
  SegmentEntry,
  TopicMetadata,
} from '../format/types.ts';
import type { KafkaPort, SkippedRange } from '../kafka/port.ts';
import type { CommittedBatch } from '../kafka/record-batches.ts';
import { type Logger, silentLogger } from '../log.ts';
import { groupOffsetsToJson } from '../offsets/group-offsets.ts';
import { partitionKey, type TopicPartition } from '../record.ts';
import { sourceWatermarksDocument, sourceWatermarksDocumentName } from '../validation/source-watermarks.ts';
import { EngineError } from './errors.ts';
import { GapTracker } from './gap-tracker.ts';
import { partitionsAtOnce, segmentBuffersPerPartition } from './memory-budget.ts';
import {
  type CheckpointEvent,
  type Progress,
  ProgressTracker,
  progressReporter,
  type RunObserver,
  type RunOutcome,
} from './progress.ts';
import { RateLimiter, type RateLimits } from './rate-limit.ts';
import { RunLease } from './run-lease.ts';
import { missingExactTopics, selectTopics, type TopicSelection } from './topic-selection.ts';

export interface BackupOptions {
  readonly backupId: string;
  readonly topics: TopicSelection;
  /** Stop at the ends captured when the run starts (default) or keep streaming until `signal` aborts. */
  readonly continuous?: boolean;
  readonly compression?: Compression;
  readonly compressionLevel?: number;
  readonly encryption?: EncryptionKey;
  /** Uncompressed size at which a segment is sealed. Default 128 MiB, the CRD's default. */
  readonly segmentMaxBytes?: number;
  /** Age at which a partly filled segment is sealed (continuous mode). Default 60 s. */
  readonly segmentMaxIntervalMs?: number;
  /** How often sealed segments are committed to the manifest. Default 30 s. */
  readonly checkpointIntervalMs?: number;
  readonly maxConcurrentPartitions?: number;
  /** Continuous mode: wait between polls of a caught-up partition. Default 100 ms. */
  readonly pollIntervalMs?: number;
  readonly consumerGroupSnapshot?: boolean;
  readonly rateLimits?: RateLimits;
  /** Bytes asked for per fetch. Default 4 MiB. */
  readonly fetchMaxBytes?: number;
  readonly signal?: AbortSignal;
  readonly labels?: Readonly<Record<string, string>>;
  /** Lifetime of the storage lease that keeps a second run of the same backup from writing. Default 30 s. */
  readonly leaseTtlMs?: number;
}

export interface BackupDeps {
  readonly kafka: KafkaPort;
  readonly repository: BackupRepository;
  readonly log?: Logger;
  /** Called at most once a second while records are read, and once with the final numbers. */
  readonly onProgress?: (progress: Progress) => void;
  /** Called after every commit to the manifest. */
  readonly onCheckpoint?: (checkpoint: CheckpointEvent) => void;
  /** Live metrics: every figure as it changes (runtime/metrics). */
  readonly observer?: RunObserver;
}

export interface PartitionBackupResult extends TopicPartition {
  readonly startOffset: bigint;
  readonly endOffset: bigint;
  readonly records: number;
  readonly gaps: readonly OffsetGap[];
}

export interface BackupResult {
  /** `interrupted`: a one-shot run stopped by its signal before its end; the next run continues it. */
  readonly outcome: RunOutcome;
  readonly backupId: string;
  readonly runId: string;
  readonly mode: RunMode;
  readonly topics: readonly string[];
  readonly partitions: readonly PartitionBackupResult[];
  readonly records: number;
  /** Bytes of keys, values and headers read from Kafka. */
  readonly bytes: number;
  /** Bytes written to storage (segments). */
  readonly storedBytes: number;
  readonly segments: number;
  readonly commits: number;
  readonly durationMs: number;
  readonly recordsPerSec: number;
  readonly bytesPerSec: number;
  /** Every offset range passed without a record, by reason (retention gaps are data loss upstream). */
  readonly gaps: {
    readonly retention: number;
    readonly compaction: number;
    readonly transactionMarkers: number;
  };
}

/** State of one partition during a run. Mutated only by the worker that holds it. */
interface PartitionRun {
  readonly tp: TopicPartition;
  readonly startOffset: bigint;
  /** Exclusive; undefined in continuous mode. */
  readonly stopAt: bigint | undefined;
  /** Offsets may be missing from its log (compaction); otherwise only transactions explain a hole. */
  readonly compacted: boolean;
  position: bigint;
  writer: PartitionBatchWriter;
  writerOpenedAt: number;
  readonly gaps: GapTracker;
  /** Start of the range not yet committed. */
  committedUpTo: bigint;
  /** Sealed and written segments (with the gaps before their boundary) waiting for the next commit. */
  durable: { segments: SegmentEntry[]; gaps: OffsetGap[]; upTo: bigint } | undefined;
  /** The segment being sealed and uploaded in the background, if any. */
  pending: Promise<void> | undefined;
  records: number;
  allGaps: OffsetGap[];
  done: boolean;
}

/** The CRD's default for spec.segmentMaxBytes, so the CLI and the operator write the same segments. */
export const DEFAULT_SEGMENT_MAX_BYTES = 128 * 1024 * 1024;

/** The records of a batch below `stop`, as a batch of their own; undefined when none is. */
function cutBatch(batch: CommittedBatch, stop: bigint): CommittedBatch | undefined {
  const cut = sliceBatch(batch.bytes, batch.header, batch.stats.firstOffset, stop);
  return cut ? { ...cut, stats: batchStats(cut.bytes, cut.header) } : undefined;
}

/**
 * Records the offsets a fetch passed without a record. Only compaction and transactions leave such
 * holes; on a topic that is not compacted an unexplained hole means records went missing between the
 * broker and us, so the run fails (its last commit stays valid) rather than call lost data a gap.
 */
function recordHoles(r: PartitionRun, from: bigint, to: bigint, skipped: readonly SkippedRange[]): void {
  if (!r.compacted) {
    const hole = GapTracker.unexplained(from, to, skipped);
    if (hole) {
      throw new EngineError(
        'integrity',
        `${partitionKey(r.tp)}: Kafka returned no record for offsets ${hole.start}-${hole.end - 1n} of a topic ` +
          "whose cleanup.policy has no 'compact', and no transaction explains them; the backup stopped " +
          'instead of recording them as missing. Rerun it to resume from the last commit; if it happens ' +
          'again, report it with the broker version.',
      );
    }
  }
  r.gaps.addHoles(from, to, skipped);
}

/**
 * One backup run: selects topics, captures their ends (one-shot) and copies every committed record
 * into segments, committing them to the manifest periodically and at the end. A run continues where
 * the backup's previous runs stopped (incremental), so a resumed or scheduled run reads only new data.
 */
export async function runBackup(deps: BackupDeps, options: BackupOptions): Promise<BackupResult> {
  const log = deps.log ?? silentLogger;
  const started = performance.now();
  const { kafka } = deps;
  const clusterId = await kafka.clusterId();
  // Topics first: a run that selects nothing must not leave an empty backup behind.
  const available = await kafka.listTopics({ includeInternal: options.topics.includeInternal ?? false });
  const missing = missingExactTopics(available, options.topics);
  if (missing.length > 0) {
    // Hidden from this user by an ACL rather than absent: the port says so (AuthorizationFailed).
    await kafka.describeTopics(missing);
    throw new EngineError(
      'not-found',
      `topic(s) ${missing.join(', ')} do not exist on ${kafka.description}; fix the topics list or create them`,
    );
  }
  const topics = selectTopics(available, options.topics);
  if (topics.length === 0) {
    throw new EngineError(
      'not-found',
      `no topic on ${kafka.description} matches ${JSON.stringify(options.topics.include)}`,
    );
  }
  // Fencing: one run of a backup writes at a time (concurrent runs would read the same offsets twice).
  const lease = await RunLease.acquire(
    deps.repository.store,
    backupLeasePrefix(checkBackupId(options.backupId)),
    {
      subject: `backup ${options.backupId}`,
      log,
      ...(options.leaseTtlMs !== undefined ? { ttlMs: options.leaseTtlMs } : {}),
    },
  );
  try {
    return await backupHoldingLease(deps, options, { log, started, clusterId, topics, lease });
  } finally {
    await lease.release();
  }
}

/** The run proper, under the lease: every commit checks it is still held. */
async function backupHoldingLease(
  deps: BackupDeps,
  options: BackupOptions,
  context: {
    readonly log: Logger;
    readonly started: number;
    readonly clusterId: string;
    readonly topics: string[];
    readonly lease: RunLease;
  },
): Promise<BackupResult> {
  const { log, started, clusterId, topics, lease } = context;
  const { kafka } = deps;
  const backup = await deps.repository.openOrCreate({
    backupId: options.backupId,
    ...(options.compression ? { compression: options.compression } : {}),
    ...(options.encryption ? { encryption: options.encryption } : {}),
    source: { clusterId },
    ...(options.labels ? { labels: options.labels } : {}),
  });
  const recorded = backup.descriptor.source?.clusterId;
  if (recorded && recorded !== clusterId) {
    // Offsets of one cluster mean nothing on another: continuing would mix two histories.
    throw new EngineError(
      'conflict',
      `backup '${options.backupId}' holds cluster ${recorded}, but ${kafka.description} is cluster ${clusterId}; ` +
        'back this cluster up under another backup id',
    );
  }
  const manifest = await backup.manifest();

  const descriptions = await kafka.describeTopics(topics);
  const metadata: TopicMetadata[] = descriptions.map((d) => ({
    name: d.name,
    partitionCount: d.partitionCount,
    replicationFactor: d.replicationFactor,
    configs: d.configs,
  }));
  const tps = descriptions.flatMap((d) =>
    Array.from({ length: d.partitionCount }, (_, partition) => ({ topic: d.name, partition })),
  );
  const marks = await kafka.watermarks(tps);
  const previous = new Map<string, bigint | undefined>();
  for (const t of manifest.topics) for (const p of t.partitions) previous.set(partitionKey(p), p.nextOffset);

  const mode: RunMode = options.continuous
    ? 'continuous'
    : manifest.lastSeq >= 0
      ? 'incremental'
      : 'snapshot';
  const runId = `${new Date().toISOString().replace(/[-:.]/g, '').slice(0, 15)}z-${randomBytes(3).toString('hex')}`;
  const segmentLimits = {
    maxBytes: options.segmentMaxBytes ?? DEFAULT_SEGMENT_MAX_BYTES,
    ...(options.compressionLevel !== undefined ? { compressionLevel: options.compressionLevel } : {}),
  };
  const compacted = new Set(descriptions.filter((d) => d.compacted).map((d) => d.name));
  const runs: PartitionRun[] = tps.map((tp) => {
    const m = marks.get(partitionKey(tp));
    if (!m) throw new Error(`no offsets returned for ${partitionKey(tp)}`);
    const prev = previous.get(partitionKey(tp));
    const gaps = new GapTracker();
    let start = prev ?? m.logStartOffset;
    if (prev !== undefined && prev < m.logStartOffset) {
      // Retention removed records the previous run had not read yet: record the loss, never skip silently.
      gaps.add(prev, m.logStartOffset, 'retention', Date.now());
      log.warn('records were deleted by retention before they were backed up', {
        partition: partitionKey(tp),
        from: prev,
        to: m.logStartOffset,
      });
      start = m.logStartOffset;
    }
    if (prev !== undefined && prev > m.endOffset) {
      throw new EngineError(
        'conflict',
        `${partitionKey(tp)} ends at offset ${m.endOffset} but backup '${options.backupId}' already holds it up to ` +
          `${prev}: the topic was probably deleted and recreated; back it up under a new backup id`,
      );
    }
    return {
      tp,
      startOffset: prev ?? m.logStartOffset,
      stopAt: options.continuous ? undefined : m.endOffset,
      compacted: compacted.has(tp.topic),
      position: start,
      writer: backup.newBatchWriter(tp, segmentLimits),
      writerOpenedAt: Date.now(),
      gaps,
      committedUpTo: prev ?? m.logStartOffset,
      durable: undefined,
      pending: undefined,
      records: 0,
      allGaps: [],
      done: false,
    };
  });

  // Validation's source-watermarks check proves against this that the backup holds every offset the
  // source had when the run started (stored before any commit names the run in the manifest).
  await backup.putDocument(
    sourceWatermarksDocumentName(runId),
    sourceWatermarksDocument(runId, new Date(), marks),
  );

  for (const r of runs) {
    log.debug('partition plan', {
      partition: partitionKey(r.tp),
      from: r.position,
      to: r.stopAt ?? 'continuous',
    });
  }
  const observer = deps.observer;
  for (const r of runs) {
    const m = marks.get(partitionKey(r.tp));
    observer?.partition?.(r.tp.topic, r.tp.partition, r.position, r.stopAt ?? m?.endOffset ?? r.position);
  }
  const totalRecords = runs.reduce((n, r) => n + Number((r.stopAt ?? r.position) - r.position), 0);
  const progress = new ProgressTracker(totalRecords > 0 && !options.continuous ? totalRecords : undefined);
  const progressReports = progressReporter(deps);
  const limiter = new RateLimiter(options.rateLimits);
  log.info('backup started', {
    backupId: options.backupId,
    runId,
    mode,
    topics: topics.length,
    partitions: runs.length,
    recordsToRead: options.continuous ? undefined : totalRecords,
  });

  let segments = 0;
  let storedBytes = 0;
  let commits = 0;
  let committing: Promise<void> = Promise.resolve();
  const commit = (final: boolean): Promise<void> => {
    const attempt = async () => {
      const taken: { r: PartitionRun; d: NonNullable<PartitionRun['durable']>; from: bigint }[] = [];
      for (const r of runs) {
        const d = r.durable;
        if (!d) continue;
        taken.push({ r, d, from: r.committedUpTo });
        r.committedUpTo = d.upTo;
        r.durable = undefined;
      }
      if (taken.length === 0 && !final) return;
      try {
        lease.assertHeld();
        await backup.commit({
          runId,
          mode,
          final,
          topics: metadata,
          partitions: taken.map(({ r, d, from }) => ({
            topic: r.tp.topic,
            partition: r.tp.partition,
            segments: d.segments,
            covered: { start: from, end: d.upTo },
            gaps: d.gaps,
          })),
          extra: { clusterId },
        });
        commits++;
        const records = progress.snapshot().records;
        log.info('checkpoint committed', { commit: commits, final, records });
        deps.onCheckpoint?.({ at: Date.now(), records, final });
        // A stream has no end to snapshot the groups at: it snapshots them with every checkpoint.
        if (options.continuous && options.consumerGroupSnapshot && !final) {
          await snapshotGroups(kafka, backup, new Set(topics), runId, log).catch((error) =>
            log.warn('consumer group snapshot failed; the next checkpoint tries again', { error }),
          );
        }
      } catch (error) {
        // Put the uncommitted work back so the next commit includes it (no hole in the covered ranges).
        for (const { r, d, from } of taken) {
          const later = r.durable;
          r.durable = later
            ? {
                segments: [...d.segments, ...later.segments],
                gaps: [...d.gaps, ...later.gaps],
                upTo: later.upTo,
              }
            : d;
          r.committedUpTo = from;
        }
        throw error;
      }
    };
    committing = committing.catch(() => {}).then(attempt);
    return committing;
  };

  /**
   * Seals the buffered records (if any) and makes everything below the current position durable.
   * Compression, encryption and the upload run in the background while the partition keeps
   * fetching into the same writer; at most one such job per partition is in flight (memory: two
   * segments per partition), and jobs finish in order so `durable` only ever grows contiguously.
   */
  const flush = async (r: PartitionRun, wait: boolean): Promise<void> => {
    if (r.pending) await r.pending;
    const upTo = r.position;
    const gaps = r.gaps.take();
    // seal() detaches the buffered block at once; the same writer (and its right-sized buffer) keeps going.
    const sealing = r.writer.seal();
    r.writerOpenedAt = Date.now();
    const job = (async () => {
      const sealed = await sealing;
      let entry: SegmentEntry | undefined;
      if (sealed) {
        entry = await backup.writeSegment(sealed, runId);
        segments++;
        storedBytes += entry.size;
        progress.stored(entry.size);
        observer?.segmentWritten?.(entry.size);
      }
      r.allGaps.push(...gaps);
      const d = r.durable ?? { segments: [], gaps: [], upTo };
      if (entry) d.segments.push(entry);
      d.gaps.push(...gaps);
      d.upTo = upTo;
      r.durable = d;
    })();
    r.pending = job;
    job.catch(() => {}); // observed by the next flush or the final one
    if (wait) {
      await job;
      r.pending = undefined;
    }
  };

  const checkpointMs = options.checkpointIntervalMs ?? 30_000;
  const timer = setInterval(() => {
    commit(false).catch((error) => log.warn('checkpoint commit failed; will retry', { error }));
  }, checkpointMs);
  timer.unref();

  const permits = new Semaphore(options.maxConcurrentPartitions ?? 4);
  const processPartition = async (r: PartitionRun): Promise<void> => {
    const key = partitionKey(r.tp);
    const maxAge = options.segmentMaxIntervalMs ?? 60_000;
    while (!r.done) {
      if (options.signal?.aborted) break;
      if (r.stopAt !== undefined && r.position >= r.stopAt) break;
      await fetchInto(r, key, maxAge);
    }
    await flush(r, true);
    // Its segment buffers (up to twice segmentMaxBytes) go now: memory is bounded by the partitions
    // in progress (maxConcurrentPartitions), not by how many partitions the backup has done.
    r.writer.release();
    r.done = true;
  };

  /**
   * One fetch of a partition, its batches appended to the partition's segment: the fetch copies its
   * bytes straight into the segment's buffer (lend()), where they are kept without a second copy.
   */
  const fetchInto = async (r: PartitionRun, key: string, maxAge: number): Promise<void> => {
    const release = await permits.acquire();
    let result: Awaited<ReturnType<KafkaPort['fetchBatches']>>;
    try {
      result = await kafka.fetchBatches(r.tp, r.position, {
        maxBytes: options.fetchMaxBytes ?? 4 * 1024 * 1024,
        maxWaitMs: options.continuous ? 500 : 100,
        into: (length) => r.writer.lend(length),
      });
    } finally {
      release();
    }
    if (result.kind === 'out-of-range') {
      if (result.logStartOffset > r.position) {
        r.gaps.add(r.position, result.logStartOffset, 'retention', Date.now());
        log.warn('records were deleted by retention before they were backed up', {
          partition: key,
          from: r.position,
          to: result.logStartOffset,
        });
        r.position = result.logStartOffset;
        return;
      }
      throw new EngineError(
        'conflict',
        `${key}: offset ${r.position} is beyond the partition's end (${result.lastStableOffset}); ` +
          'the topic was probably deleted and recreated: back it up under a new backup id',
      );
    }
    const stop = r.stopAt;
    let count = 0;
    let bytes = 0;
    let expected = r.position;
    for (const fetched of result.batches) {
      if (stop !== undefined && fetched.stats.firstOffset >= stop) break;
      // A batch reaching past the run's end (appended after the end was captured) is cut there;
      // it is the last one appended, so its new bytes overwrite no batch still to come (lend()).
      const batch =
        stop !== undefined && fetched.stats.lastOffset >= stop ? cutBatch(fetched, stop) : fetched;
      if (!batch) break;
      const { stats } = batch;
      if (stats.firstOffset > expected) recordHoles(r, expected, stats.firstOffset, result.skipped);
      for (const hole of stats.holes) recordHoles(r, hole.start, hole.end, result.skipped);
      if (r.writer.appendBatch(batch.bytes, stats)) {
        r.position = stats.lastOffset + 1n;
        await flush(r, false);
      }
      expected = stats.lastOffset + 1n;
      count += stats.recordCount;
      bytes += stats.payloadBytes;
    }
    let next = result.nextOffset;
    if (stop !== undefined && next > stop) next = stop;
    if (next > expected) recordHoles(r, expected, next, result.skipped);
    if (next > r.position) r.position = next;
    r.records += count;
    observer?.partition?.(r.tp.topic, r.tp.partition, r.position, stop ?? result.lastStableOffset);
    if (count > 0) {
      progress.advance(count, bytes);
      progressReports.report(progress.snapshot());
      await limiter.take(count, bytes);
    }
    if (r.writer.bufferedRecords > 0 && Date.now() - r.writerOpenedAt >= maxAge) await flush(r, false);
    if (count === 0 && result.batches.length === 0 && options.continuous) {
      await sleep(options.pollIntervalMs ?? 100, options.signal);
    } else if (count === 0 && stop !== undefined && result.nextOffset <= r.position && r.position < stop) {
      // Nothing returned below the captured end: the records there are not readable yet
      // (e.g. behind a slow replica); try again shortly.
      await sleep(50, options.signal);
    }
  };

  let failure: unknown;
  try {
    // Continuous runs keep every partition open (they mostly wait); the limit bounds concurrent fetches.
    await runLimited(
      runs,
      options.continuous
        ? runs.length
        : partitionsAtOnce(
            Math.min(options.maxConcurrentPartitions ?? 4, runs.length),
            segmentBuffersPerPartition(segmentLimits.maxBytes),
            log,
            'lower segmentMaxBytes, or raise the memory limit, to back up more partitions at once',
          ),
      processPartition,
      options.signal,
    );
  } catch (error) {
    failure = error;
  } finally {
    clearInterval(timer);
  }
  if (failure) {
    // Keep what is durable: the next run resumes from it.
    await commit(false).catch((error) => log.warn('could not commit before failing', { error }));
    throw failure;
  }
  // An interrupted one-shot run did not reach its end: its last commit says so (the next run continues).
  const interrupted = Boolean(options.signal?.aborted) && !options.continuous;
  await commit(!interrupted);
  progressReports.flush();
  if (options.consumerGroupSnapshot) await snapshotGroups(kafka, backup, new Set(topics), runId, log);

  const durationMs = performance.now() - started;
  const p = progress.snapshot();
  const allGaps = runs.flatMap((r) => r.allGaps);
  const count = (reason: string) =>
    allGaps.filter((g) => g.reason === reason).reduce((n, g) => n + Number(g.end - g.start), 0);
  const result: BackupResult = {
    outcome: interrupted ? 'interrupted' : 'complete',
    backupId: options.backupId,
    runId,
    mode,
    topics,
    partitions: runs.map((r) => ({
      topic: r.tp.topic,
      partition: r.tp.partition,
      startOffset: r.startOffset,
      endOffset: r.position,
      records: r.records,
      gaps: r.allGaps,
    })),
    records: p.records,
    bytes: p.bytes,
    storedBytes,
    segments,
    commits,
    durationMs,
    recordsPerSec: durationMs > 0 ? (p.records * 1000) / durationMs : 0,
    bytesPerSec: durationMs > 0 ? (p.bytes * 1000) / durationMs : 0,
    gaps: {
      retention: count('retention'),
      compaction: count('compaction'),
      transactionMarkers: count('transaction-markers'),
    },
  };
  log.info('backup finished', {
    outcome: result.outcome,
    backupId: result.backupId,
    runId,
    records: result.records,
    segments,
    durationMs: Math.round(durationMs),
    recordsPerSec: Math.round(result.recordsPerSec),
    bytesPerSec: Math.round(result.bytesPerSec),
  });
  return result;
}

/** Stores every consumer group's committed offsets on the backed-up topics, for a later restore. */
async function snapshotGroups(
  kafka: KafkaPort,
  backup: Backup,
  topics: ReadonlySet<string>,
  runId: string,
  log: Logger,
): Promise<void> {
  const groups = new Map<string, { topic: string; partition: number; offset: bigint }[]>();
  for (const group of await kafka.listGroups()) {
    const offsets = (await kafka.committedOffsets(group)).filter((o) => topics.has(o.topic));
    if (offsets.length > 0) groups.set(group, offsets);
  }
  const document = {
    version: 1,
    runId,
    takenAt: new Date().toISOString(),
    groups: groupOffsetsToJson(groups),
  };
  await backup.putDocument(`consumer-groups/${runId}`, document);
  await backup.putDocument('consumer-groups/latest', document);
  log.info('consumer group offsets saved', { groups: groups.size });
}

export function recordBytes(r: {
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: readonly (readonly [string, Uint8Array | null])[];
}): number {
  let n = (r.key?.length ?? 0) + (r.value?.length ?? 0);
  for (const [k, v] of r.headers) n += k.length + (v?.length ?? 0);
  return n;
}

/** Runs `fn` over items with at most `limit` at a time; the first failure stops taking new items. */
export async function runLimited<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  let next = 0;
  let failed = false;
  let firstError: unknown;
  const worker = async () => {
    while (!failed && next < items.length && !signal?.aborted) {
      const item = items[next++] as T;
      try {
        await fn(item);
      } catch (error) {
        if (!failed) firstError = error;
        failed = true;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failed) throw firstError;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Counts concurrent holders; acquire() resolves to the release function. */
export class Semaphore {
  #free: number;
  readonly #waiting: (() => void)[] = [];
  constructor(permits: number) {
    this.#free = Math.max(1, permits);
  }
  async acquire(): Promise<() => void> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      if (next) next();
      else this.#free++;
    };
  }
}

/** Where the lease epochs of a backup's runs live (docs/format/v1.md §2). */
export function backupLeasePrefix(backupId: string): string {
  return `${backupId}/leases/backup/`;
}
