import { randomBytes } from 'node:crypto';
import type { TopicPartition } from '../record.ts';
import { type ObjectInfo, type ObjectStore, StorageError } from '../storage/object-store.ts';
import { keyId } from './encryption.ts';
import {
  BackupExistsError,
  BackupNotFoundError,
  CorruptObjectError,
  EncryptionKeyError,
  FormatUsageError,
} from './errors.ts';
import {
  CATALOG_PREFIX,
  catalogKey,
  checkBackupId,
  commitKey,
  commitsPrefix,
  descriptorKey,
  documentKey,
  segmentKey,
  seqFromCommitKey,
  seqFromSnapshotKey,
  snapshotKey,
  snapshotsPrefix,
} from './keys.ts';
import { mergeCommits } from './manifest.ts';
import {
  commitFromJson,
  commitToJson,
  descriptorFromJson,
  descriptorToJson,
  snapshotFromJson,
  snapshotToJson,
} from './manifest-json.ts';
import { pruneFacts, segmentsToDelete } from './prune.ts';
import { planRetention, type RetentionPlan, type RetentionPolicy } from './retention-plan.ts';
import { openSealedJson, sealJson } from './sealed-json.ts';
import {
  type DecodedSegment,
  decodeSegment,
  decodeSegmentContent,
  type SegmentBatches,
  type SegmentHeader,
} from './segment.ts';
import {
  PartitionBatchWriter,
  PartitionSegmentWriter,
  type SealedSegment,
  type SegmentWriterOptions,
} from './segment-writer.ts';
import {
  type BackupDescriptor,
  type BackupFormatName,
  type BackupManifest,
  type BackupSummary,
  type CommitInput,
  type CommitRecord,
  type Compression,
  type EncryptionKey,
  FORMAT_VERSION,
  type RunSummary,
  type SegmentEntry,
} from './types.ts';

/** What restore, describe and verify need; implemented by v1 backups and imported legacy backups. */
export interface ReadableBackup {
  readonly backupId: string;
  readonly format: BackupFormatName;
  /** A fresh merged view (re-reads what changed in storage). */
  manifest(): Promise<BackupManifest>;
  /** Fetches, verifies (size, checksum, frame, authentication, records) and decodes a segment. */
  readSegment(entry: SegmentEntry): Promise<DecodedSegment>;
  /**
   * Verified as readSegment() verifies; a v2 segment's batches are kept whole (no record decoded), a
   * segment of records (v1) gives its records. Absent on imported backups, which hold no batches.
   */
  readSegmentContent?(entry: SegmentEntry): Promise<SegmentBatches | DecodedSegment>;
  /** Quick: the object exists with the recorded size. Deep: readSegment() succeeds. Throws CorruptObjectError. */
  verifySegment(entry: SegmentEntry, deep: boolean): Promise<void>;
  getDocument<T = unknown>(name: string): Promise<T | undefined>;
}

export interface CreateBackupInput {
  readonly backupId: string;
  /** Default zstd. */
  readonly compression?: Compression;
  /** When given, every segment of the backup is encrypted with it. */
  readonly encryption?: EncryptionKey;
  readonly source?: BackupDescriptor['source'];
  readonly labels?: Readonly<Record<string, string>>;
}

export interface OpenBackupOptions {
  /** Required for encrypted backups; checked against the key id in backup.json. */
  readonly encryption?: EncryptionKey;
}

export interface RepositoryOptions {
  /** Epoch ms; injectable for tests. */
  readonly now?: () => number;
  /** Parallel object reads when loading commits or the catalog. Default 8. */
  readonly readConcurrency?: number;
  /** Write a snapshot of all commits after every this many commits (0: never). Default 50. */
  readonly snapshotEvery?: number;
}

/** The backups under one ObjectStore root. */
export class BackupRepository {
  private readonly now: () => number;
  private readonly concurrency: number;
  private readonly snapshotEvery: number;

  constructor(
    readonly store: ObjectStore,
    options: RepositoryOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.concurrency = options.readConcurrency ?? 8;
    this.snapshotEvery = options.snapshotEvery ?? 50;
  }

  /** Creates a new backup; throws BackupExistsError if the id is taken. */
  async create(input: CreateBackupInput): Promise<Backup> {
    const backupId = checkBackupId(input.backupId);
    const descriptor: BackupDescriptor = {
      formatVersion: FORMAT_VERSION,
      backupId,
      createdAt: this.now(),
      compression: input.compression ?? 'zstd',
      encryption: input.encryption ? { algorithm: 'aes-256-gcm', keyId: keyId(input.encryption) } : null,
      ...(input.source ? { source: input.source } : {}),
      ...(input.labels ? { labels: input.labels } : {}),
    };
    const body = sealJson(descriptorToJson(descriptor));
    try {
      await this.store.put(descriptorKey(backupId), body, {
        contentType: 'application/json',
        ifNoneMatch: true,
      });
    } catch (e) {
      if (e instanceof StorageError && e.kind === 'precondition-failed') {
        throw new BackupExistsError(backupId, this.store.description);
      }
      throw e;
    }
    await this.store.put(catalogKey(backupId), body, { contentType: 'application/json' });
    return new Backup(
      this.store,
      descriptor,
      input.encryption,
      this.now,
      this.concurrency,
      this.snapshotEvery,
    );
  }

  /** Opens a v1 backup, or a backup written by the Rust tool (read-only). */
  async open(backupId: string, options: OpenBackupOptions = {}): Promise<Backup | ReadableBackup> {
    const v1 = await this.tryOpenV1(backupId, options);
    if (v1) return v1;
    const { openOsoBackup } = await import('./legacy/oso-backup.ts');
    const legacy = await openOsoBackup(this.store, backupId);
    if (legacy) return legacy;
    throw new BackupNotFoundError(backupId, this.store.description);
  }

  /** Opens a v1 backup for adding runs; throws if it is missing or not v1. */
  async openForWrite(backupId: string, options: OpenBackupOptions = {}): Promise<Backup> {
    const v1 = await this.tryOpenV1(backupId, options);
    if (!v1) throw new BackupNotFoundError(backupId, this.store.description);
    return v1;
  }

  /** Opens the backup if it exists (checking its key), or creates it. */
  async openOrCreate(input: CreateBackupInput): Promise<Backup> {
    const existing = await this.tryOpenV1(
      input.backupId,
      input.encryption ? { encryption: input.encryption } : {},
    );
    if (existing) return existing;
    try {
      return await this.create(input);
    } catch (e) {
      if (e instanceof BackupExistsError) return this.openForWrite(input.backupId, input);
      throw e;
    }
  }

  /** Backups in the catalog, oldest first; with includeLegacy also the Rust tool's (a full listing). */
  async list(options: { readonly includeLegacy?: boolean } = {}): Promise<BackupSummary[]> {
    const keys: string[] = [];
    for await (const info of this.store.list(CATALOG_PREFIX)) {
      if (info.key.endsWith('.json')) keys.push(info.key);
    }
    const summaries = await mapLimit(
      keys,
      this.concurrency,
      async (key): Promise<BackupSummary | undefined> => {
        try {
          const d = descriptorFromJson(key, openSealedJson(key, await this.store.get(key)));
          return { backupId: d.backupId, format: 'kafka-backup-v1', createdAt: d.createdAt };
        } catch (e) {
          if (e instanceof StorageError && e.kind === 'not-found') return undefined; // deleted meanwhile
          throw e;
        }
      },
    );
    const out = summaries.filter((s): s is BackupSummary => s !== undefined);
    if (options.includeLegacy) {
      const { listOsoBackups } = await import('./legacy/oso-backup.ts');
      const known = new Set(out.map((s) => s.backupId));
      for (const s of await listOsoBackups(this.store)) if (!known.has(s.backupId)) out.push(s);
    }
    return out.sort((a, b) => a.createdAt - b.createdAt || (a.backupId < b.backupId ? -1 : 1));
  }

  async latest(options: { readonly includeLegacy?: boolean } = {}): Promise<BackupSummary | undefined> {
    const all = await this.list(options);
    return all[all.length - 1];
  }

  private async tryOpenV1(backupId: string, options: OpenBackupOptions): Promise<Backup | undefined> {
    checkBackupId(backupId);
    const key = descriptorKey(backupId);
    let bytes: Uint8Array;
    try {
      bytes = await this.store.get(key);
    } catch (e) {
      if (e instanceof StorageError && e.kind === 'not-found') return undefined;
      throw e;
    }
    const descriptor = descriptorFromJson(key, openSealedJson(key, bytes));
    if (descriptor.backupId !== backupId)
      throw new CorruptObjectError(key, `names backup '${descriptor.backupId}'`);
    if (descriptor.encryption) {
      if (!options.encryption) {
        throw new EncryptionKeyError(
          `backup '${backupId}' is encrypted (key id ${descriptor.encryption.keyId}): supply its encryption key`,
        );
      }
      const supplied = keyId(options.encryption);
      if (supplied !== descriptor.encryption.keyId) {
        throw new EncryptionKeyError(
          `backup '${backupId}' was encrypted with key id ${descriptor.encryption.keyId}, ` +
            `the supplied key has id ${supplied}: supply the key the backup was written with`,
        );
      }
    }
    return new Backup(
      this.store,
      descriptor,
      options.encryption,
      this.now,
      this.concurrency,
      this.snapshotEvery,
    );
  }
}

/** A v1 backup: segments, commits and documents under `{backupId}/`. */
export class Backup implements ReadableBackup {
  readonly format = 'kafka-backup-v1' as const;
  readonly backupId: string;
  private readonly commits = new Map<number, CommitRecord>();
  private lastCommitKey: string | undefined;

  constructor(
    readonly store: ObjectStore,
    readonly descriptor: BackupDescriptor,
    private readonly encryption: EncryptionKey | undefined,
    private readonly now: () => number,
    private readonly concurrency: number,
    private readonly snapshotEvery = 50,
  ) {
    this.backupId = descriptor.backupId;
  }

  /** Writer options matching this backup's compression and encryption. */
  segmentWriterOptions(
    limits: Pick<SegmentWriterOptions, 'maxBytes' | 'maxRecords' | 'compressionLevel'> = {},
  ) {
    const options: SegmentWriterOptions = {
      ...limits,
      compression: this.descriptor.compression,
      ...(this.descriptor.encryption && this.encryption ? { encryption: this.encryption } : {}),
    };
    return options;
  }

  newSegmentWriter(
    tp: TopicPartition,
    limits: Pick<SegmentWriterOptions, 'maxBytes' | 'maxRecords' | 'compressionLevel'> = {},
  ): PartitionSegmentWriter {
    return new PartitionSegmentWriter(tp, this.segmentWriterOptions(limits));
  }

  /** A v2 writer: Kafka's record batches kept whole (what the backup engine writes). */
  newBatchWriter(
    tp: TopicPartition,
    limits: Pick<SegmentWriterOptions, 'maxBytes' | 'maxRecords' | 'compressionLevel'> = {},
  ): PartitionBatchWriter {
    return new PartitionBatchWriter(tp, this.segmentWriterOptions(limits));
  }

  /**
   * Stores a sealed segment and returns its manifest entry. The key is content-addressed, so a retry
   * after an ambiguous failure rewrites the same bytes. The segment belongs to the backup only once a
   * commit lists it; segments of an interrupted run are unreferenced and ignored.
   */
  async writeSegment(sealed: SealedSegment, runId: string): Promise<SegmentEntry> {
    if (sealed.header.encrypted !== (this.descriptor.encryption !== null)) {
      throw new FormatUsageError(
        `backup '${this.backupId}' is ${this.descriptor.encryption ? '' : 'not '}encrypted, the segment is ` +
          `${sealed.header.encrypted ? '' : 'not '}: build writers with backup.newSegmentWriter()`,
      );
    }
    const key = segmentKey(
      this.backupId,
      sealed.topic,
      sealed.partition,
      sealed.header.firstOffset,
      sealed.sha256,
    );
    await this.store.put(key, sealed.bytes, { contentType: 'application/octet-stream' });
    return entryFor(sealed, key, runId);
  }

  /**
   * Makes the segments and ranges of `input` part of the backup with one atomic object creation
   * (`commits/{seq}.json`, if-none-match). Concurrent committers each get their own seq.
   */
  async commit(input: CommitInput): Promise<CommitRecord> {
    checkCommit(input);
    return this.append((seq) => ({
      ...input,
      formatVersion: FORMAT_VERSION,
      backupId: this.backupId,
      seq,
      committedAt: this.now(),
    }));
  }

  /**
   * Retention's safe delete (docs/format/v1.md §5.6): deletes the runs `policy` makes eligible
   * (retention-plan.ts: an oldest-first prefix, never the newest `minSuccessful` finished runs). The
   * prune is first recorded as a commit, so readers stop using the runs at once; then their segment
   * objects are deleted. Deleting is idempotent: objects a failed pass left behind are deleted by the
   * next one. The caller must hold the backup's run lease (engine/retention.ts) so that no run
   * writes meanwhile; `assertWriter` is called before every write and may throw to stop.
   */
  async prune(policy: RetentionPolicy, options: PruneOptions = {}): Promise<PruneResult> {
    await this.refresh();
    const commits = [...this.commits.values()];
    const manifest = mergeCommits(this.descriptor, commits);
    const plan = planRetention(manifest.runs, policy, options.now ?? this.now());
    const runIds = plan.eligible.map((r) => r.runId);
    const facts = runIds.length > 0 ? pruneFacts(commits, runIds) : undefined;
    const result = {
      backupId: this.backupId,
      dryRun: options.dryRun === true,
      plan,
      eligibleBytes: facts?.bytes ?? 0,
    };
    if (options.dryRun) return { ...result, prunedRuns: [], deletedObjects: 0, reclaimedBytes: 0 };
    const assertWriter = options.assertWriter ?? (() => {});
    if (facts) {
      assertWriter();
      await this.append((seq) => ({
        formatVersion: FORMAT_VERSION,
        backupId: this.backupId,
        seq,
        runId: pruneId(this.now()),
        mode: 'prune',
        final: true,
        committedAt: this.now(),
        topics: [],
        partitions: [],
        prune: facts,
      }));
    }
    // Every run pruned so far, so objects an interrupted earlier pass left are deleted now.
    const removed = new Set([...manifest.prunedRuns, ...runIds]);
    let deletedObjects = 0;
    let reclaimedBytes = 0;
    if (removed.size > 0) {
      const doomed = segmentsToDelete([...this.commits.values()], removed);
      const present: ObjectInfo[] = [];
      for await (const info of this.store.list(`${this.backupId}/segments/`)) {
        if (doomed.has(info.key)) present.push(info);
      }
      await mapLimit(present, this.concurrency, async (info) => {
        assertWriter();
        await this.store.delete(info.key);
        deletedObjects++;
        reclaimedBytes += info.size;
      });
    }
    return { ...result, prunedRuns: runIds, deletedObjects, reclaimedBytes };
  }

  /** Creates `commits/{seq}.json` for the next free seq (if-none-match); concurrent writers each get their own. */
  private async append(build: (seq: number) => CommitRecord): Promise<CommitRecord> {
    for (let attempt = 0; attempt < 50; attempt++) {
      await this.refresh();
      let seq = 0;
      for (const known of this.commits.keys()) if (known >= seq) seq = known + 1;
      const record = build(seq);
      try {
        await this.store.put(commitKey(this.backupId, seq), sealJson(commitToJson(record)), {
          contentType: 'application/json',
          ifNoneMatch: true,
        });
      } catch (e) {
        if (e instanceof StorageError && e.kind === 'precondition-failed') continue; // another run took seq
        throw e;
      }
      this.commits.set(seq, record);
      this.lastCommitKey = commitKey(this.backupId, seq);
      if (this.snapshotEvery > 0 && (seq + 1) % this.snapshotEvery === 0) await this.writeSnapshot(seq);
      return record;
    }
    throw new Error(`could not commit to backup '${this.backupId}': too many concurrent commits`);
  }

  async manifest(): Promise<BackupManifest> {
    await this.refresh();
    return mergeCommits(this.descriptor, [...this.commits.values()]);
  }

  async readSegment(entry: SegmentEntry): Promise<DecodedSegment> {
    const bytes = await getObject(this.store, entry.key);
    const decoded = await decodeSegment(bytes, {
      key: entry.key,
      expectedSize: entry.size,
      ...(entry.sha256 !== undefined ? { expectedSha256: entry.sha256 } : {}),
      ...(this.encryption ? { encryption: this.encryption } : {}),
    });
    checkHeaderMatchesEntry(decoded.header, entry);
    return decoded;
  }

  async readSegmentContent(entry: SegmentEntry): Promise<SegmentBatches | DecodedSegment> {
    const bytes = await getObject(this.store, entry.key);
    const opened = await decodeSegmentContent(bytes, {
      key: entry.key,
      expectedSize: entry.size,
      ...(entry.sha256 !== undefined ? { expectedSha256: entry.sha256 } : {}),
      ...(this.encryption ? { encryption: this.encryption } : {}),
    });
    checkHeaderMatchesEntry(opened.header, entry);
    return opened;
  }

  async verifySegment(entry: SegmentEntry, deep: boolean): Promise<void> {
    if (deep) await this.readSegment(entry);
    else await checkSegmentPresent(this.store, entry);
  }

  /**
   * Segment objects that no commit lists: left by interrupted runs, safe to delete once no writer can
   * still commit them. Only objects last modified more than `olderThanMs` ago are returned, so the
   * uncommitted segments of a run in progress are not.
   */
  async orphanSegments(options: { readonly olderThanMs: number }): Promise<ObjectInfo[]> {
    const manifest = await this.manifest();
    const referenced = new Set<string>();
    for (const t of manifest.topics)
      for (const p of t.partitions) for (const s of p.segments) referenced.add(s.key);
    const cutoff = this.now() - options.olderThanMs;
    const orphans: ObjectInfo[] = [];
    for await (const info of this.store.list(`${this.backupId}/segments/`)) {
      if (referenced.has(info.key) || !info.lastModified || info.lastModified.getTime() > cutoff) continue;
      orphans.push(info);
    }
    return orphans;
  }

  /** Stores a JSON document under `{backupId}/documents/{name}.json` (bigints become strings). */
  async putDocument(name: string, value: unknown): Promise<void> {
    await this.store.put(documentKey(this.backupId, name), sealJson(value), {
      contentType: 'application/json',
    });
  }

  async getDocument<T = unknown>(name: string): Promise<T | undefined> {
    const key = documentKey(this.backupId, name);
    try {
      return openSealedJson(key, await this.store.get(key)) as T;
    } catch (e) {
      if (e instanceof StorageError && e.kind === 'not-found') return undefined;
      throw e;
    }
  }

  /** Names of the documents under `prefix` (e.g. 'offset-mappings/'). */
  async listDocuments(prefix = ''): Promise<string[]> {
    const base = `${this.backupId}/documents/`;
    const names: string[] = [];
    for await (const info of this.store.list(base + prefix)) {
      if (info.key.endsWith('.json')) names.push(info.key.slice(base.length, -'.json'.length));
    }
    return names;
  }

  /** Loads the commits written since the last look (by this or any other process). */
  private async refresh(): Promise<void> {
    if (this.lastCommitKey === undefined) await this.loadLatestSnapshot();
    const keys: string[] = [];
    const options = this.lastCommitKey ? { startAfter: this.lastCommitKey } : {};
    for await (const info of this.store.list(commitsPrefix(this.backupId), options)) {
      const seq = seqFromCommitKey(info.key);
      if (seq !== undefined && !this.commits.has(seq)) keys.push(info.key);
    }
    const loaded = await mapLimit(keys, this.concurrency, async (key) =>
      commitFromJson(key, openSealedJson(key, await getObject(this.store, key))),
    );
    for (const [i, c] of loaded.entries()) {
      const key = keys[i] as string;
      if (c.seq !== seqFromCommitKey(key) || c.backupId !== this.backupId) {
        throw new CorruptObjectError(key, 'its seq or backup id does not match its key');
      }
      this.commits.set(c.seq, c);
      if (this.lastCommitKey === undefined || key > this.lastCommitKey) this.lastCommitKey = key;
    }
  }

  /** Starts from the newest snapshot, so a backup with thousands of checkpoints opens in a few reads. */
  private async loadLatestSnapshot(): Promise<void> {
    let latest: string | undefined;
    for await (const info of this.store.list(snapshotsPrefix(this.backupId))) {
      if (seqFromSnapshotKey(info.key) !== undefined) latest = info.key;
    }
    if (!latest) return;
    let bytes: Uint8Array;
    try {
      bytes = await this.store.get(latest);
    } catch (e) {
      if (e instanceof StorageError && e.kind === 'not-found') return; // replaced meanwhile: use commits
      throw e;
    }
    const snapshot = snapshotFromJson(latest, openSealedJson(latest, bytes));
    if (snapshot.seq !== seqFromSnapshotKey(latest))
      throw new CorruptObjectError(latest, 'its seq does not match its key');
    for (const c of snapshot.commits) {
      if (c.backupId !== this.backupId)
        throw new CorruptObjectError(latest, `holds a commit of '${c.backupId}'`);
      this.commits.set(c.seq, c);
    }
    this.lastCommitKey = commitKey(this.backupId, snapshot.seq);
  }

  /** Best effort: a snapshot is only a cache of the commits, which stay the source of truth. */
  private async writeSnapshot(seq: number): Promise<void> {
    const commits: CommitRecord[] = [];
    for (let i = 0; i <= seq; i++) {
      const c = this.commits.get(i);
      if (!c) return; // not all loaded (cannot happen after refresh): skip rather than write a partial one
      commits.push(c);
    }
    try {
      await this.store.put(
        snapshotKey(this.backupId, seq),
        sealJson(snapshotToJson(this.backupId, seq, commits)),
        {
          contentType: 'application/json',
          ifNoneMatch: true,
        },
      );
    } catch (e) {
      if (e instanceof StorageError && (e.kind === 'precondition-failed' || e.retryable)) return;
      throw e;
    }
  }
}

export interface PruneOptions {
  /** Decide and report only: nothing is written or deleted. */
  readonly dryRun?: boolean;
  /** Epoch ms that maxAgeDays counts back from; default the repository's clock. */
  readonly now?: number;
  /** Called before the prune commit and before every delete; throws to stop (a lost lease). */
  readonly assertWriter?: () => void;
}

export interface PruneResult {
  readonly backupId: string;
  readonly dryRun: boolean;
  /** Every run inspected with its decision, and the eligible prefix. */
  readonly plan: RetentionPlan<RunSummary>;
  /** Bytes of the segment objects only the eligible runs hold. */
  readonly eligibleBytes: number;
  /** Runs this pass pruned (recorded in its prune commit); empty in a dry run. */
  readonly prunedRuns: readonly string[];
  /** Segment objects deleted by this pass (of the runs it pruned, and leftovers of earlier passes). */
  readonly deletedObjects: number;
  readonly reclaimedBytes: number;
}

/** Prune commits are named like runs (they take the same `runId` field), with a `prune-` prefix. */
function pruneId(at: number): string {
  return `prune-${new Date(at).toISOString().replace(/[-:.]/g, '').slice(0, 15)}z-${randomBytes(3).toString('hex')}`;
}

export function entryFor(sealed: SealedSegment, key: string, runId: string): SegmentEntry {
  const h = sealed.header;
  return {
    topic: sealed.topic,
    partition: sealed.partition,
    key,
    firstOffset: h.firstOffset,
    lastOffset: h.lastOffset,
    minTimestamp: h.minTimestamp,
    maxTimestamp: h.maxTimestamp,
    recordCount: h.recordCount,
    size: sealed.bytes.length,
    uncompressedSize: h.uncompressedSize,
    compression: h.compression,
    encrypted: h.encrypted,
    sha256: sealed.sha256,
    runId,
    timestampsAreBounds: true,
  };
}

function checkHeaderMatchesEntry(h: SegmentHeader, e: SegmentEntry): void {
  const same =
    h.firstOffset === e.firstOffset &&
    h.lastOffset === e.lastOffset &&
    h.recordCount === e.recordCount &&
    h.minTimestamp === e.minTimestamp &&
    h.maxTimestamp === e.maxTimestamp;
  if (!same) throw new CorruptObjectError(e.key, 'its header disagrees with the manifest entry');
}

function checkCommit(input: CommitInput): void {
  for (const p of input.partitions) {
    const where = `${p.topic}/${p.partition}`;
    if (p.covered.end < p.covered.start)
      throw new FormatUsageError(`commit for ${where}: covered.end < start`);
    for (const s of [
      ...p.segments,
      ...p.gaps.map((g) => ({ firstOffset: g.start, lastOffset: g.end - 1n })),
    ]) {
      if (s.firstOffset < p.covered.start || s.lastOffset >= p.covered.end) {
        throw new FormatUsageError(
          `commit for ${where}: offsets ${s.firstOffset}..${s.lastOffset} lie outside the covered range ` +
            `[${p.covered.start}, ${p.covered.end})`,
        );
      }
    }
    for (const s of p.segments) {
      if (s.topic !== p.topic || s.partition !== p.partition || s.runId !== input.runId) {
        throw new FormatUsageError(
          `commit for ${where}: segment ${s.key} belongs to another partition or run`,
        );
      }
    }
  }
}

async function getObject(store: ObjectStore, key: string): Promise<Uint8Array> {
  try {
    return await store.get(key);
  } catch (e) {
    if (e instanceof StorageError && e.kind === 'not-found') {
      throw new CorruptObjectError(key, 'the object is missing from storage');
    }
    throw e;
  }
}

/**
 * The quick check of a segment: it exists with the size the manifest recorded (a size of 0 means the
 * manifest did not record one, as in the Rust tool's backups). The deep check decodes it.
 */
export async function checkSegmentPresent(store: ObjectStore, entry: SegmentEntry): Promise<void> {
  const info = await store.head(entry.key);
  if (!info) throw new CorruptObjectError(entry.key, 'the object is missing from storage');
  if (entry.size > 0 && info.size !== entry.size) {
    throw new CorruptObjectError(entry.key, `size ${info.size} bytes, the manifest recorded ${entry.size}`);
  }
}

export function parseJson(key: string, bytes: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (cause) {
    throw new CorruptObjectError(key, 'not valid JSON (truncated or damaged)', { cause });
  }
}

export function jsonBytes(value: unknown): Uint8Array {
  return Buffer.from(
    `${JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`,
    'utf8',
  );
}

export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
