import { createHash } from 'node:crypto';
import type { StoredBatch } from '../format/batch-block.ts';
import { decodeBatchRecords, LOG_APPEND_TIME, splitBatch } from '../format/kafka-batch.ts';
import { type SegmentRead, selectRecords } from '../format/planner.ts';
import {
  type Backup,
  type BackupRepository,
  jsonBytes,
  parseJson,
  type ReadableBackup,
} from '../format/repository.ts';
import type { BackupManifest, EncryptionKey } from '../format/types.ts';
import type { KafkaPort, ProduceRecord } from '../kafka/port.ts';
import { type Logger, silentLogger } from '../log.ts';
import { type OffsetMapping, offsetMappingToDocument } from '../offsets/offset-mapping.ts';
import { type KafkaRecord, partitionKey } from '../record.ts';
import { type ObjectStore, StorageError } from '../storage/object-store.ts';
import { recordBytes, runLimited } from './backup.ts';
import { EngineError } from './errors.ts';
import { partitionsAtOnce, segmentReadsPerPartition } from './memory-budget.ts';
import { MappingBuilder } from './offset-map.ts';
import { Repartitioner } from './partitioner.ts';
import {
  type CheckpointEvent,
  type Progress,
  ProgressTracker,
  progressReporter,
  type RunObserver,
  type RunOutcome,
} from './progress.ts';
import { RateLimiter, type RateLimits } from './rate-limit.ts';
import {
  type CheckpointDocument,
  inconsistency,
  loadUnit,
  mappingKey,
  newUnitState,
  storeUnit,
  type UnitState,
} from './restore-checkpoint.ts';
import {
  planRestoreUnits,
  type RestoreMappingOptions,
  type RestorePlan,
  type RestoreUnit,
  targetTopicConfigs,
} from './restore-plan.ts';
import { RunLease } from './run-lease.ts';

export interface RestoreOptions extends RestoreMappingOptions {
  /** The backup to restore; the most recent one in the storage when omitted. */
  readonly backupId?: string;
  /**
   * Names the restore's checkpoint and offset mapping. Rerunning with the same id resumes; by
   * default it is derived from the backup id, target cluster and options, so rerunning the same
   * command resumes an interrupted restore.
   */
  readonly restoreId?: string;
  readonly encryption?: EncryptionKey;
  readonly createTopics?: boolean;
  /** -1: the broker default. */
  readonly defaultReplicationFactor?: number;
  /** Per target topic, configs that replace the captured ones when the topic is created. */
  readonly topicConfigOverrides?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Delete every record of the target topics before restoring (only when explicitly set). */
  readonly purgeTopics?: boolean;
  /** Records per produce request. Default 1000. */
  readonly produceBatchSize?: number;
  readonly maxConcurrentPartitions?: number;
  readonly checkpointIntervalMs?: number;
  readonly rateLimits?: RateLimits;
  readonly dryRun?: boolean;
  readonly signal?: AbortSignal;
  /** Lifetime of the storage lease that keeps a second run of the same restore from writing. Default 30 s. */
  readonly leaseTtlMs?: number;
  /** Describes the target cluster in the derived restore id (e.g. its bootstrap servers). */
  readonly targetIdentity?: string;
}

export interface RestoreDeps {
  readonly kafka: KafkaPort;
  readonly repository: BackupRepository;
  readonly log?: Logger;
  /** Called at most once a second while records are produced, and once with the final numbers. */
  readonly onProgress?: (progress: Progress) => void;
  /** Called after every checkpoint saved to storage. */
  readonly onCheckpoint?: (checkpoint: CheckpointEvent) => void;
  /** Live metrics: every figure as it changes (runtime/metrics). */
  readonly observer?: RunObserver;
}

export interface RestoreResult {
  /**
   * `interrupted`: stopped by its signal; the checkpoint is saved and rerunning with the same restore
   * id resumes (no offset mapping is written yet).
   */
  readonly outcome: RunOutcome;
  readonly backupId: string;
  readonly restoreId: string;
  readonly dryRun: boolean;
  /** True when a previous interrupted run with the same restore id was continued. */
  readonly resumed: boolean;
  readonly plan: PlanSummary;
  /** Records produced by this run. */
  readonly records: number;
  /** Records an interrupted run had written after its last checkpoint: found on the target, not produced again. */
  readonly reconciled: number;
  readonly bytes: number;
  /** Backup segments this run read. */
  readonly segments: number;
  readonly durationMs: number;
  readonly recordsPerSec: number;
  readonly bytesPerSec: number;
  readonly createdTopics: readonly string[];
  /** Document name of the offset mapping in the backup (absent for dry runs). */
  readonly offsetMapping?: string;
  readonly partitions: readonly { topic: string; partition: number; records: number; endOffset: string }[];
}

export interface PlanSummary {
  readonly backupId: string;
  readonly topics: readonly {
    readonly source: readonly string[];
    readonly target: string;
    readonly partitions: number;
    readonly repartitioned: boolean;
  }[];
  readonly partitions: number;
  /** Upper bound (whole segments); the time window and offset bound are applied per record. */
  readonly maxRecords: number;
  readonly bytes: number;
  readonly segments: number;
  readonly timeRange: { readonly start: string; readonly end: string } | null;
  readonly window: { readonly startTime?: string; readonly endTime?: string; readonly toOffset?: string };
}

const MAX_PRODUCE_BYTES = 900 * 1024;

export function summarizePlan(plan: RestorePlan): PlanSummary {
  const iso = (ms: bigint | undefined) => (ms === undefined ? undefined : new Date(Number(ms)).toISOString());
  const start = iso(plan.minTimestamp);
  const end = iso(plan.maxTimestamp);
  return {
    backupId: plan.backupId,
    topics: plan.targets.map((t) => ({
      source: t.sourceTopics,
      target: t.name,
      partitions: t.partitionsNeeded,
      repartitioned: t.repartitioned,
    })),
    partitions: plan.units.reduce((n, u) => n + u.sources.length, 0),
    maxRecords: plan.maxRecords,
    bytes: plan.bytes,
    segments: plan.segments,
    timeRange: start && end ? { start, end } : null,
    window: {
      ...(plan.bounds.startTime !== undefined ? { startTime: iso(plan.bounds.startTime) } : {}),
      ...(plan.bounds.endTime !== undefined ? { endTime: iso(plan.bounds.endTime) } : {}),
      ...(plan.bounds.toOffset !== undefined ? { toOffset: plan.bounds.toOffset.toString() } : {}),
    },
  };
}

export function deriveRestoreId(backupId: string, options: RestoreOptions): string {
  const material = JSON.stringify(
    {
      backupId,
      target: options.targetIdentity ?? '',
      topics: options.topics ?? [],
      exclude: options.excludeTopics ?? [],
      topicMapping: options.topicMapping ?? {},
      partitionMapping: options.partitionMapping ?? {},
      repartitioning: options.repartitioning ?? {},
      bounds: options.bounds ?? {},
    },
    (_k, v) => (typeof v === 'bigint' ? v.toString() : v),
  );
  return `restore-${createHash('sha256').update(material).digest('hex').slice(0, 16)}`;
}

/**
 * Restores a backup into a cluster. Each unit (restore-plan.ts) reads its source partitions in
 * offset order, keeps the records inside the window, routes them to target partitions and produces
 * them in batches through the idempotent producer. After every chunk the unit's position and the
 * expected end of each target partition are updated together; they are checkpointed to storage
 * periodically. A rerun with the same restore id reads the targets' current ends: the records beyond
 * the checkpointed end were written after the last checkpoint, so exactly that many routed records
 * are skipped (and mapped) before producing resumes - no gap, no duplicate. This needs the restore to
 * be the only writer of its target partitions while it runs.
 */
export async function runRestore(deps: RestoreDeps, options: RestoreOptions): Promise<RestoreResult> {
  const log = deps.log ?? silentLogger;
  const started = performance.now();
  const backupId = options.backupId ?? (await deps.repository.latest({ includeLegacy: true }))?.backupId;
  if (!backupId) {
    throw new EngineError(
      'not-found',
      `no backup found in ${deps.repository.store.description}; run a backup first or check storage`,
    );
  }
  const backup = await deps.repository.open(
    backupId,
    options.encryption ? { encryption: options.encryption } : {},
  );
  const manifest = await backup.manifest();
  const plan = planRestoreUnits(manifest, options);
  const summary = summarizePlan(plan);
  const restoreId = options.restoreId ?? deriveRestoreId(backupId, options);

  if (options.dryRun) {
    return {
      outcome: 'complete',
      backupId,
      restoreId,
      dryRun: true,
      resumed: false,
      plan: summary,
      records: 0,
      reconciled: 0,
      bytes: 0,
      segments: 0,
      durationMs: performance.now() - started,
      recordsPerSec: 0,
      bytesPerSec: 0,
      createdTopics: [],
      partitions: [],
    };
  }
  const writable = restoreDocuments(deps.repository, backup);
  const checkpointName = `restores/${restoreId}/checkpoint`;
  // Fencing first: the checkpoint is read, and the target written, only while holding the lease.
  const lease = await RunLease.acquire(writable.store, writable.leasePrefix(restoreId), {
    subject: `restore ${restoreId}`,
    log,
    ...(options.leaseTtlMs !== undefined ? { ttlMs: options.leaseTtlMs } : {}),
  });
  try {
    return await restoreHoldingLease(deps, options, {
      log,
      started,
      backupId,
      backup,
      manifest,
      plan,
      summary,
      restoreId,
      writable,
      checkpointName,
      lease,
    });
  } finally {
    await lease.release();
  }
}

/** What runRestore prepared before taking the lease. */
interface RestoreContext {
  readonly log: Logger;
  readonly started: number;
  readonly backupId: string;
  readonly backup: ReadableBackup;
  readonly manifest: BackupManifest;
  readonly plan: RestorePlan;
  readonly summary: PlanSummary;
  readonly restoreId: string;
  readonly writable: DocumentStore;
  readonly checkpointName: string;
  readonly lease: RunLease;
}

/** The restore proper: everything that reads the checkpoint or writes happens under the lease. */
async function restoreHoldingLease(
  deps: RestoreDeps,
  options: RestoreOptions,
  context: RestoreContext,
): Promise<RestoreResult> {
  const {
    log,
    started,
    backupId,
    backup,
    manifest,
    plan,
    summary,
    restoreId,
    writable,
    checkpointName,
    lease,
  } = context;
  const previous = await writable.getDocument<CheckpointDocument>(checkpointName);
  if (previous?.status === 'complete') {
    log.info('restore already complete; nothing to do', { restoreId });
  }
  const { kafka } = deps;
  const resumed = previous !== undefined;

  // Restoring a topic onto itself on the cluster it was backed up from appends a second copy of
  // every record: allowed only when the restore purges the topic first.
  const sourceCluster = manifest.descriptor.source?.clusterId;
  if (sourceCluster && !options.purgeTopics && sourceCluster === (await kafka.clusterId())) {
    const onto = plan.targets.filter((t) => t.sourceTopics.includes(t.name)).map((t) => t.name);
    if (onto.length > 0) {
      throw new EngineError(
        'config',
        `restoring ${onto.join(', ')} onto itself on the cluster it was backed up from would duplicate every ` +
          'record: map it to another name with topicMapping, or set purgeTopics: true to replace its content',
      );
    }
  }

  // Every object the plan reads must exist with its recorded size before anything is written;
  // checksums are verified as each object is read, before any of its records is used.
  const reads = plan.units.flatMap((u) => u.sources.flatMap((s) => s.reads));
  await runLimited(reads, 8, (read) => backup.verifySegment(read.segment, false));

  // Target topics: verify or create them before anything is written.
  const createdTopics: string[] = [];
  const existing = new Map(
    (await kafka.describeTopics(plan.targets.map((t) => t.name))).map((d) => [d.name, d]),
  );
  for (const target of plan.targets) {
    const found = existing.get(target.name);
    if (!found) {
      if (!options.createTopics) {
        throw new EngineError(
          'not-found',
          `target topic '${target.name}' does not exist on ${kafka.description}; create it with at least ` +
            `${target.partitionsNeeded} partitions or set createTopics: true`,
        );
      }
      await kafka.createTopic({
        name: target.name,
        partitions: target.partitionsNeeded,
        replicationFactor: options.defaultReplicationFactor ?? -1,
        configs: targetTopicConfigs(target.source.configs, options.topicConfigOverrides?.[target.name]),
      });
      createdTopics.push(target.name);
      log.info('created target topic', { topic: target.name, partitions: target.partitionsNeeded });
    } else if (found.partitionCount < target.partitionsNeeded) {
      throw new EngineError(
        'config',
        `target topic '${target.name}' has ${found.partitionCount} partitions but the restore writes to ` +
          `${target.partitionsNeeded}; add partitions, or use partitionMapping or repartitioning`,
      );
    }
  }
  const targetPartitions = plan.units.flatMap((u) =>
    u.route.kind === 'fixed'
      ? [{ topic: u.targetTopic, partition: u.route.partition }]
      : Array.from({ length: u.route.partitions }, (_, partition) => ({ topic: u.targetTopic, partition })),
  );
  if (options.purgeTopics && !resumed) {
    const ends = await kafka.watermarks(targetPartitions);
    for (const tp of targetPartitions) {
      const end = ends.get(partitionKey(tp))?.endOffset ?? 0n;
      if (end > 0n) await kafka.deleteRecords(tp, end);
    }
    log.warn('purged the target topics before restoring', { topics: plan.targets.map((t) => t.name) });
  }
  const ends = await kafka.watermarks(targetPartitions);
  const endOf = (topic: string, partition: number): bigint => {
    const m = ends.get(`${topic}/${partition}`);
    if (!m) throw new Error(`no end offset returned for ${topic}/${partition}`);
    return m.endOffset;
  };

  const states = new Map<string, UnitState>();
  const skips = new Map<string, Map<number, bigint>>();
  for (const unit of plan.units) {
    const saved = previous?.units[unit.id];
    let state = newUnitState();
    if (saved) {
      const loaded = loadUnit(saved, unit.sources[saved.sourceIndex]);
      state = loaded.state;
      if (loaded.repairs.length > 0) {
        log.warn('restore checkpoint was taken mid-chunk (written by an earlier version); repaired it', {
          restoreId,
          unit: unit.id,
          repairs: loaded.repairs,
        });
      }
      const problem = inconsistency(state);
      if (problem) throw inconsistentCheckpoint(writable.location(checkpointName), unit.id, problem);
    }
    const unitSkips = new Map<number, bigint>();
    const partitions =
      unit.route.kind === 'fixed'
        ? [unit.route.partition]
        : Array.from({ length: unit.route.partitions }, (_, i) => i);
    for (const p of partitions) {
      const now = endOf(unit.targetTopic, p);
      const expected = state.targets.get(p);
      if (expected === undefined) {
        state.targets.set(p, now);
      } else if (now < expected) {
        throw new EngineError(
          'conflict',
          `${unit.targetTopic}/${p} ends at ${now}, before the ${expected} this restore had written: ` +
            'records were deleted from the target meanwhile; start a new restore (another restoreId)',
        );
      } else if (now > expected) {
        unitSkips.set(p, now - expected);
      }
    }
    states.set(unit.id, state);
    skips.set(unit.id, unitSkips);
  }
  if (resumed) {
    log.info('resuming restore', {
      restoreId,
      alreadyWrittenAfterCheckpoint: [...skips.values()].reduce(
        (n, m) => n + [...m.values()].reduce((a, b) => a + Number(b), 0),
        0,
      ),
    });
  }

  // Built synchronously from the states, which only change in whole chunks: always a consistent cut.
  const checkpointDocument = (status: 'running' | 'complete'): CheckpointDocument => ({
    version: 1,
    restoreId,
    backupId,
    status,
    updatedAt: new Date().toISOString(),
    units: Object.fromEntries([...states].map(([id, s]) => [id, storeUnit(s)])),
  });
  let progressRecords = () => 0;
  let saving: Promise<void> = Promise.resolve();
  const saveCheckpoint = (status: 'running' | 'complete'): Promise<void> => {
    const doc = checkpointDocument(status);
    saving = saving
      .catch(() => {})
      .then(() => {
        lease.assertHeld(); // a run that lost its lease must not overwrite the holder's checkpoint
        return writable.putDocument(checkpointName, doc);
      })
      .then(() => {
        const records = progressRecords();
        log.info('restore checkpoint saved', { status, records });
        deps.onCheckpoint?.({ at: Date.now(), records, final: status === 'complete' });
      });
    return saving;
  };
  // The first checkpoint holds the targets' ends before anything is produced: the base of every resume.
  if (!resumed) await saveCheckpoint('running');

  const progress = new ProgressTracker(plan.maxRecords);
  const progressReports = progressReporter(deps);
  let reconciled = 0;
  progressRecords = () => progress.snapshot().records;
  const limiter = new RateLimiter(options.rateLimits);
  const batchSize = options.produceBatchSize ?? 1000;
  const batchesInFlight = Math.max(1, kafka.batchesInFlight ?? 1);
  const timer = setInterval(() => {
    saveCheckpoint('running').catch((error) => log.warn('restore checkpoint failed; will retry', { error }));
  }, options.checkpointIntervalMs ?? 5000);
  timer.unref();

  const runUnit = async (unit: RestoreUnit): Promise<void> => {
    const state = states.get(unit.id) as UnitState;
    if (state.done) return;
    const pendingSkips = skips.get(unit.id) as Map<number, bigint>;
    const router =
      unit.route.kind === 'repartition'
        ? new Repartitioner(unit.route.partitions, unit.route.strategy, state.roundRobin)
        : undefined;
    const fixed = unit.route.kind === 'fixed' ? unit.route.partition : -1;

    progress.working(unit.targetTopic);
    // Stored batches go to the target as they are when nothing splits them: one target partition
    // (no repartitioning) and, per batch, every record selected (readAhead decides the rest).
    const wholeBatches = fixed >= 0 ? { maxRecords: batchSize } : undefined;
    for (let si = state.sourceIndex; si < unit.sources.length; si++) {
      const source = unit.sources[si] as (typeof unit.sources)[number];
      const from = si === state.sourceIndex ? state.nextOffset : undefined;
      const reads = source.reads.filter((r) => from === undefined || r.toOffset >= from);

      /** Records of the source, in order: routed, produced in chunks, mapped, then the state moves. */
      const produceRecords = async (records: readonly KafkaRecord[]): Promise<void> => {
        const selected = from === undefined ? records : records.filter((r) => r.offset >= from);
        for (let i = 0; i < selected.length; i += batchSize) {
          const chunk = selected.slice(i, i + batchSize);
          const routed = new Map<number, KafkaRecord[]>();
          for (const r of chunk) {
            const p = router ? router.choose(r.key) : fixed;
            const list = routed.get(p);
            if (list) list.push(r);
            else routed.set(p, [r]);
          }
          lease.assertHeld();
          // Produce first, then change the unit's state in one synchronous step (below), so a
          // checkpoint taken while a produce is in flight never holds half a chunk.
          const written = await Promise.all(
            [...routed].map(async ([p, list]) => {
              const tp = { topic: unit.targetTopic, partition: p };
              const start = state.targets.get(p) as bigint;
              let end = start;
              const skip = Math.min(Number(pendingSkips.get(p) ?? 0n), list.length);
              // Written by an interrupted run after its last checkpoint: mapped, not produced again.
              end += BigInt(skip);
              let bytes = 0;
              for (const batch of produceBatchesOf(list.slice(skip), batchSize)) {
                const { baseOffset } = await kafka.produce(tp, batch.map(toProduceRecord));
                checkLanded(tp, baseOffset, end);
                end += BigInt(batch.length);
                for (const r of batch) bytes += recordBytes(r);
              }
              return { p, list, start, end, skip, bytes };
            }),
          );
          let bytes = 0;
          let produced = 0;
          for (const w of written) {
            const mapping = mappingFor(state, source.topic, source.partition, w.p);
            for (let k = 0; k < w.list.length; k++) {
              addMapping(mapping, (w.list[k] as KafkaRecord).offset, w.start + BigInt(k), () =>
                describeUnit(unit, source, w.p),
              );
            }
            state.targets.set(w.p, w.end);
            if (w.skip > 0) pendingSkips.set(w.p, (pendingSkips.get(w.p) ?? 0n) - BigInt(w.skip));
            bytes += w.bytes;
            produced += w.list.length - w.skip;
          }
          const last = chunk[chunk.length - 1] as KafkaRecord;
          state.sourceIndex = si;
          state.nextOffset = last.offset + 1n;
          state.roundRobin = router?.roundRobinPosition ?? 0;
          state.records += chunk.length;
          progress.advance(produced, bytes);
          reconciled += chunk.length - produced;
          progressReports.report(progress.snapshot());
          await limiter.take(chunk.length, bytes);
        }
      };

      /**
       * Stored batches produced as they are, oldest first, not yet acknowledged: up to
       * kafka.batchesInFlight of them, so the partition does not wait a round trip per batch. Each
       * lands contiguously after the one before; the unit's state moves only as they are
       * acknowledged, in order, so a checkpoint never counts a batch still in flight.
       */
      const inFlight: { batch: StoredBatch; start: bigint; written: Promise<{ baseOffset: bigint }> }[] = [];
      const tp = { topic: unit.targetTopic, partition: fixed };

      const settleOldest = async (): Promise<void> => {
        const { batch, start, written } = inFlight[0] as (typeof inFlight)[number];
        const { baseOffset } = await written;
        inFlight.shift();
        checkLanded(tp, baseOffset, start);
        const { stats } = batch;
        const mapping = mappingFor(state, source.topic, source.partition, fixed);
        for (let k = 0; k < stats.recordCount; k++) {
          addMapping(mapping, stats.firstOffset + BigInt(k), start + BigInt(k), () =>
            describeUnit(unit, source, fixed),
          );
        }
        state.targets.set(fixed, start + BigInt(stats.recordCount));
        state.sourceIndex = si;
        state.nextOffset = stats.lastOffset + 1n;
        state.records += stats.recordCount;
        progress.advance(stats.recordCount, stats.payloadBytes);
        progressReports.report(progress.snapshot());
        await limiter.take(stats.recordCount, stats.payloadBytes);
      };
      const settleAll = async (): Promise<void> => {
        while (inFlight.length > 0) await settleOldest();
      };

      /**
       * A stored batch, sent as it is: its records land right after those of the batches in flight
       * (or at the partition's end); settleOldest() takes its acknowledgement in turn.
       */
      const produceWhole = async (batch: StoredBatch): Promise<void> => {
        const last = inFlight.at(-1);
        const start = last
          ? last.start + BigInt(last.batch.stats.recordCount)
          : (state.targets.get(fixed) as bigint);
        lease.assertHeld();
        const written = kafka.produceBatch(tp, batch.bytes, batch.stats.recordCount);
        written.catch(() => {}); // observed in order by settleOldest()
        inFlight.push({ batch, start, written });
        if (inFlight.length >= batchesInFlight) await settleOldest();
      };

      for await (const piece of readAhead(backup, reads, plan.bounds, wholeBatches)) {
        if (options.signal?.aborted) {
          // What is in flight lands or fails now: the checkpoint then counts every batch written.
          await settleAll().catch(() => {});
          throw new EngineError('interrupted', 'restore interrupted');
        }
        if (piece.kind === 'segment-end') {
          progress.segmentRead();
          progressReports.report(progress.snapshot());
        } else if (piece.kind === 'records') {
          await settleAll();
          await produceRecords(piece.records);
        } else if (from !== undefined && piece.batch.stats.lastOffset < from) {
          // Produced by the run this one resumes.
        } else if (
          (from !== undefined && piece.batch.stats.firstOffset < from) ||
          (pendingSkips.get(fixed) ?? 0n) > 0n
        ) {
          // A resume inside the batch, or records an interrupted run wrote past its checkpoint.
          await settleAll();
          await produceRecords(decodeBatchRecords(piece.batch.bytes, piece.batch.header));
        } else {
          await produceWhole(piece.batch);
        }
      }
      await settleAll();
      state.sourceIndex = si + 1;
      state.nextOffset = undefined;
    }
    state.done = true;
  };

  let failure: unknown;
  try {
    const atOnce = partitionsAtOnce(
      Math.min(options.maxConcurrentPartitions ?? 4, plan.units.length),
      segmentReadsPerPartition(
        plan.units.flatMap((u) => u.sources.flatMap((s) => s.reads.map((r) => r.segment))),
      ),
      log,
      'raise the memory limit to restore more partitions at once (a backup with a smaller segmentMaxBytes needs less)',
    );
    await runLimited(plan.units, atOnce, runUnit, options.signal);
  } catch (error) {
    failure = error;
  } finally {
    clearInterval(timer);
  }
  // Stopped by the signal (between chunks, or inside one): a result that says so, like a backup's.
  const interrupted =
    Boolean(options.signal?.aborted) &&
    (failure === undefined || (failure instanceof EngineError && failure.kind === 'interrupted'));
  if (failure && !interrupted) {
    await saveCheckpoint('running').catch(() => {});
    throw failure;
  }

  const mapping: OffsetMapping = {
    backupId,
    restoreId,
    partitions: [...states.entries()].flatMap(([id, s]) => {
      const unit = plan.units.find((u) => u.id === id) as RestoreUnit;
      return [...s.mappings.values()].map((m) => ({
        sourceTopic: m.sourceTopic,
        sourcePartition: m.sourcePartition,
        targetTopic: unit.targetTopic,
        targetPartition: m.targetPartition,
        ranges: m.b.ranges(),
      }));
    }),
  };
  const mappingName = `offset-mappings/${restoreId}`;
  if (interrupted) {
    await saveCheckpoint('running');
  } else {
    lease.assertHeld();
    await writable.putDocument(mappingName, offsetMappingToDocument(mapping));
    await saveCheckpoint('complete');
  }
  progressReports.flush();

  const durationMs = performance.now() - started;
  const p = progress.snapshot();
  const result: RestoreResult = {
    outcome: interrupted ? 'interrupted' : 'complete',
    backupId,
    restoreId,
    dryRun: false,
    resumed,
    plan: summary,
    records: p.records,
    reconciled,
    bytes: p.bytes,
    segments: p.segments ?? 0,
    durationMs,
    recordsPerSec: durationMs > 0 ? (p.records * 1000) / durationMs : 0,
    bytesPerSec: durationMs > 0 ? (p.bytes * 1000) / durationMs : 0,
    createdTopics,
    ...(interrupted ? {} : { offsetMapping: mappingName }),
    partitions: [...states.entries()].flatMap(([id, s]) => {
      const unit = plan.units.find((u) => u.id === id) as RestoreUnit;
      return [...s.targets].map(([partition, end]) => ({
        topic: unit.targetTopic,
        partition,
        records: [...s.mappings.values()]
          .filter((m) => m.targetPartition === partition)
          .reduce((n, m) => n + m.b.ranges().reduce((a, r) => a + r.count, 0), 0),
        endOffset: end.toString(),
      }));
    }),
  };
  log.info('restore finished', {
    outcome: result.outcome,
    backupId,
    restoreId,
    records: result.records,
    durationMs: Math.round(durationMs),
    recordsPerSec: Math.round(result.recordsPerSec),
    bytesPerSec: Math.round(result.bytesPerSec),
  });
  return result;
}

/** Adds to a unit's mapping; a mapping that would go backwards is a bug, reported with what to do. */
function addMapping(mapping: MappingBuilder, source: bigint, target: bigint, where: () => string): void {
  try {
    mapping.add(source, target);
  } catch (error) {
    throw new EngineError(
      'internal',
      `restore state is inconsistent for ${where()}: source offset ${source} would map to target offset ` +
        `${target}, but the offset mapping already covers it (${(error as Error).message}). Nothing of this ` +
        'chunk was recorded; the checkpoint still describes what the target held before it. Please report ' +
        'this with the log; rerunning continues from the checkpoint.',
      { cause: error },
    );
  }
}

function describeUnit(
  unit: RestoreUnit,
  source: { topic: string; partition: number },
  target: number,
): string {
  return `${source.topic}/${source.partition} -> ${unit.targetTopic}/${target}`;
}

function inconsistentCheckpoint(location: string, unit: string, problem: string): EngineError {
  return new EngineError(
    'internal',
    `the restore checkpoint ${location} contradicts itself (unit ${unit}): ${problem}. Nothing was written by ` +
      'this run. The target holds what earlier runs wrote, in order; inspect that document, and either ' +
      'restore into fresh target topics with another restoreId or report it with the document attached.',
  );
}

function mappingFor(state: UnitState, topic: string, partition: number, target: number): MappingBuilder {
  const key = mappingKey(topic, partition, target);
  let m = state.mappings.get(key);
  if (!m) {
    m = { sourceTopic: topic, sourcePartition: partition, targetPartition: target, b: new MappingBuilder() };
    state.mappings.set(key, m);
  }
  return m.b;
}

/** Decoded, filtered records of each read, fetching the next segment while the current one is produced. */
/** What readAhead gives a unit, in source order. */
type RestorePiece =
  | { readonly kind: 'records'; readonly records: KafkaRecord[] }
  | { readonly kind: 'batch'; readonly batch: StoredBatch }
  | { readonly kind: 'segment-end' };

/**
 * The selected content of each planned segment, the next segment read while this one is produced.
 * With `wholeBatches`, a v2 segment's batch whose every record is selected and that a producer could
 * have written (records numbered 0..n-1, CreateTime, within the request limits) comes whole; the
 * others are decoded and their selected records gathered (docs/format/v2.md §5).
 */
async function* readAhead(
  backup: ReadableBackup,
  reads: readonly SegmentRead[],
  bounds: RestorePlan['bounds'],
  wholeBatches: { readonly maxRecords: number } | undefined,
): AsyncGenerator<RestorePiece> {
  const open = (read: SegmentRead | undefined) =>
    read === undefined
      ? undefined
      : wholeBatches && backup.readSegmentContent
        ? backup.readSegmentContent(read.segment)
        : backup.readSegment(read.segment);
  let pending = open(reads[0]);
  for (let i = 0; i < reads.length; i++) {
    const content = await (pending as NonNullable<typeof pending>);
    const read = reads[i] as SegmentRead;
    pending = open(reads[i + 1]);
    pending?.catch(() => {}); // surfaced when awaited
    if (!('batches' in content)) {
      yield { kind: 'records', records: selectRecords(content.records, read, bounds) };
    } else {
      let gathered: KafkaRecord[] = [];
      for (const batch of content.batches) {
        if (wholeBatches && producibleWhole(batch, read, bounds)) {
          if (gathered.length > 0) yield { kind: 'records', records: gathered };
          gathered = [];
          if (batch.stats.recordCount <= wholeBatches.maxRecords) {
            yield { kind: 'batch', batch };
          } else {
            // More records than one produce may carry (produceBatchSize): split, records untouched.
            for (const piece of splitBatch(batch.bytes, batch.header, wholeBatches.maxRecords)) {
              yield { kind: 'batch', batch: piece };
            }
          }
        } else {
          for (const r of selectRecords(decodeBatchRecords(batch.bytes, batch.header), read, bounds))
            gathered.push(r);
        }
      }
      if (gathered.length > 0) yield { kind: 'records', records: gathered };
    }
    yield { kind: 'segment-end' };
  }
}

function producibleWhole(batch: StoredBatch, read: SegmentRead, bounds: RestorePlan['bounds']): boolean {
  const { stats, header } = batch;
  return (
    stats.firstOffset >= read.fromOffset &&
    stats.lastOffset <= read.toOffset &&
    (bounds.fromOffset === undefined || stats.firstOffset >= bounds.fromOffset) &&
    (bounds.toOffset === undefined || stats.lastOffset <= bounds.toOffset) &&
    (bounds.startTime === undefined || stats.minTimestamp >= bounds.startTime) &&
    (bounds.endTime === undefined || stats.maxTimestamp <= bounds.endTime) &&
    // As a producer writes it: a compacted batch's holes or LogAppendTime need records re-encoded.
    stats.firstOffset === header.baseOffset &&
    stats.recordCount === header.lastOffsetDelta + 1 &&
    (header.attributes & LOG_APPEND_TIME) === 0 &&
    batch.bytes.length <= MAX_PRODUCE_BYTES
  );
}

/** A produce that did not land where the unit's own count says: someone else writes to the target. */
function checkLanded(tp: { topic: string; partition: number }, baseOffset: bigint, expected: bigint): void {
  if (baseOffset >= 0n && baseOffset !== expected) {
    throw new EngineError(
      'conflict',
      `${partitionKey(tp)}: the batch landed at offset ${baseOffset}, expected ${expected}; another ` +
        'producer is writing to the target partition. A restore needs exclusive use of its targets',
    );
  }
}

/** Splits records into produce requests of at most `size` records and ~900 KiB (the broker's default limit is 1 MiB). */
function* produceBatchesOf(records: readonly KafkaRecord[], size: number): Generator<KafkaRecord[]> {
  let batch: KafkaRecord[] = [];
  let bytes = 0;
  for (const r of records) {
    const n = recordBytes(r) + 64;
    if (batch.length > 0 && (batch.length >= size || bytes + n > MAX_PRODUCE_BYTES)) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(r);
    bytes += n;
  }
  if (batch.length > 0) yield batch;
}

function toProduceRecord(r: KafkaRecord): ProduceRecord {
  return { key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp };
}

interface DocumentStore {
  /** The store the documents live in, and where a restore's lease epochs go in it. */
  readonly store: ObjectStore;
  leasePrefix(restoreId: string): string;
  getDocument<T>(name: string): Promise<T | undefined>;
  putDocument(name: string, value: unknown): Promise<void>;
  /** Where documents go, for the result (the offset mapping's location). */
  readonly location: (name: string) => string;
}

/**
 * Where a restore keeps its checkpoint and offset mapping: next to a v1 backup as its documents, or
 * - for a read-only backup written by the Rust tool - under `_restores/<backupId>/` in the same store.
 */
function restoreDocuments(repository: BackupRepository, backup: ReadableBackup): DocumentStore {
  if ('putDocument' in backup) {
    const v1 = backup as Backup;
    return {
      store: repository.store,
      leasePrefix: (restoreId) => `${v1.backupId}/leases/restore/${restoreId}/`,
      getDocument: (name) => v1.getDocument(name),
      putDocument: (name, value) => v1.putDocument(name, value),
      location: (name) => `${v1.backupId}/documents/${name}.json`,
    };
  }
  const store = repository.store;
  const key = (name: string) => `_restores/${backup.backupId}/${name}.json`;
  return {
    store,
    leasePrefix: (restoreId) => `_restores/${backup.backupId}/leases/restore/${restoreId}/`,
    async getDocument<T>(name: string): Promise<T | undefined> {
      try {
        return parseJson(key(name), await store.get(key(name))) as T;
      } catch (error) {
        if (error instanceof StorageError && error.kind === 'not-found') return undefined;
        throw error;
      }
    },
    putDocument: (name, value) => store.put(key(name), jsonBytes(value), { contentType: 'application/json' }),
    location: key,
  };
}
