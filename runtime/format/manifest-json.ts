import { CorruptObjectError, UnsupportedFormatError } from './errors.ts';
import {
  type BackupDescriptor,
  COMPRESSIONS,
  type CommitMode,
  type CommitRecord,
  type Compression,
  FORMAT_VERSION,
  type GapReason,
  type OffsetGap,
  type OffsetRange,
  type PartitionCommit,
  type PruneFacts,
  type SegmentEntry,
  type TopicMetadata,
} from './types.ts';

/**
 * JSON forms of backup.json and commits (docs/format/v1.md §5). 64-bit values (offsets, timestamps)
 * are decimal strings, since JSON numbers lose precision past 2^53. Parsing validates every field and
 * reports the object key and the field path on any violation.
 */

const GAP_REASONS: readonly GapReason[] = [
  'retention',
  'compaction',
  'transaction-markers',
  'pruned',
  'unknown',
];
const COMMIT_MODES: readonly CommitMode[] = ['snapshot', 'continuous', 'incremental', 'one-shot', 'prune'];

export function descriptorToJson(d: BackupDescriptor): Record<string, unknown> {
  return {
    kind: 'kafka-backup',
    formatVersion: d.formatVersion,
    backupId: d.backupId,
    createdAt: d.createdAt,
    compression: d.compression,
    encryption: d.encryption,
    ...(d.source ? { source: d.source } : {}),
    ...(d.labels ? { labels: d.labels } : {}),
  };
}

export function commitToJson(c: CommitRecord): Record<string, unknown> {
  return {
    kind: 'kafka-backup-commit',
    formatVersion: c.formatVersion,
    backupId: c.backupId,
    seq: c.seq,
    runId: c.runId,
    mode: c.mode,
    final: c.final,
    committedAt: c.committedAt,
    topics: c.topics.map((t) => ({
      name: t.name,
      partitionCount: t.partitionCount,
      ...(t.replicationFactor !== undefined ? { replicationFactor: t.replicationFactor } : {}),
      configs: t.configs,
    })),
    partitions: c.partitions.map((p) => ({
      topic: p.topic,
      partition: p.partition,
      covered: rangeToJson(p.covered),
      gaps: p.gaps.map((g) => ({
        ...rangeToJson(g),
        reason: g.reason,
        ...(g.detectedAt !== undefined ? { detectedAt: g.detectedAt } : {}),
      })),
      segments: p.segments.map((s) => ({
        key: s.key,
        firstOffset: s.firstOffset.toString(),
        lastOffset: s.lastOffset.toString(),
        minTimestamp: s.minTimestamp.toString(),
        maxTimestamp: s.maxTimestamp.toString(),
        recordCount: s.recordCount,
        size: s.size,
        uncompressedSize: s.uncompressedSize,
        compression: s.compression,
        encrypted: s.encrypted,
        sha256: s.sha256,
      })),
    })),
    ...(c.prune !== undefined ? { prune: pruneToJson(c.prune) } : {}),
    ...(c.extra !== undefined ? { extra: c.extra } : {}),
  };
}

function pruneToJson(p: PruneFacts): Record<string, unknown> {
  return {
    runs: p.runs,
    partitions: p.partitions.map((q) => ({
      topic: q.topic,
      partition: q.partition,
      ranges: q.ranges.map(rangeToJson),
    })),
    segments: p.segments,
    bytes: p.bytes,
  };
}

function rangeToJson(r: OffsetRange): { start: string; end: string } {
  return { start: r.start.toString(), end: r.end.toString() };
}

/** Reads JSON fields with the object key and field path in every error. */
class Fields {
  constructor(
    readonly key: string,
    readonly path: string,
    readonly obj: Record<string, unknown>,
  ) {}

  static root(key: string, value: unknown): Fields {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new CorruptObjectError(key, 'not a JSON object');
    }
    return new Fields(key, '', value as Record<string, unknown>);
  }

  fail(field: string, expected: string): never {
    throw new CorruptObjectError(this.key, `field '${this.path}${field}' is missing or not ${expected}`);
  }

  raw(field: string): unknown {
    return this.obj[field];
  }

  string(field: string): string {
    const v = this.obj[field];
    return typeof v === 'string' ? v : this.fail(field, 'a string');
  }

  int(field: string, min = 0): number {
    const v = this.obj[field];
    return typeof v === 'number' && Number.isSafeInteger(v) && v >= min
      ? v
      : this.fail(field, `an integer >= ${min}`);
  }

  optionalInt(field: string): number | undefined {
    return this.obj[field] === undefined ? undefined : this.int(field);
  }

  bool(field: string): boolean {
    const v = this.obj[field];
    return typeof v === 'boolean' ? v : this.fail(field, 'a boolean');
  }

  i64(field: string): bigint {
    const v = this.obj[field];
    if (typeof v !== 'string' || !/^-?\d{1,19}$/.test(v)) return this.fail(field, 'a decimal 64-bit string');
    const n = BigInt(v);
    if (n < -(2n ** 63n) || n >= 2n ** 63n) return this.fail(field, 'a decimal 64-bit string');
    return n;
  }

  oneOf<T extends string>(field: string, values: readonly T[]): T {
    const v = this.obj[field];
    return values.includes(v as T) ? (v as T) : this.fail(field, `one of ${values.join(', ')}`);
  }

  object(field: string): Fields {
    const v = this.obj[field];
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return this.fail(field, 'an object');
    return new Fields(this.key, `${this.path}${field}.`, v as Record<string, unknown>);
  }

  array(field: string): Fields[] {
    const v = this.obj[field];
    if (!Array.isArray(v)) return this.fail(field, 'an array');
    return v.map((item, i) => {
      if (typeof item !== 'object' || item === null) this.fail(`${field}[${i}]`, 'an object');
      return new Fields(this.key, `${this.path}${field}[${i}].`, item as Record<string, unknown>);
    });
  }

  stringMap(field: string): Record<string, string> {
    const f = this.object(field);
    for (const [k, v] of Object.entries(f.obj)) if (typeof v !== 'string') f.fail(k, 'a string');
    return f.obj as Record<string, string>;
  }
}

function checkVersion(f: Fields, kind: string): number {
  if (f.raw('kind') !== kind) f.fail('kind', `'${kind}'`);
  const version = f.int('formatVersion', 1);
  if (version > FORMAT_VERSION) throw new UnsupportedFormatError(f.key, `format version ${version}`);
  return version;
}

/** A snapshot: every commit 0..seq in one object, so opening a long-running backup is one read. */
export function snapshotToJson(
  backupId: string,
  seq: number,
  commits: readonly CommitRecord[],
): Record<string, unknown> {
  return {
    kind: 'kafka-backup-snapshot',
    formatVersion: FORMAT_VERSION,
    backupId,
    seq,
    commits: commits.map(commitToJson),
  };
}

export function snapshotFromJson(key: string, value: unknown): { seq: number; commits: CommitRecord[] } {
  const f = Fields.root(key, value);
  checkVersion(f, 'kafka-backup-snapshot');
  const seq = f.int('seq');
  const list = f.raw('commits');
  if (!Array.isArray(list)) f.fail('commits', 'an array');
  const commits = (list as unknown[]).map((c, i) => {
    try {
      return commitFromJson(key, c);
    } catch (e) {
      if (e instanceof CorruptObjectError) throw new CorruptObjectError(key, `commits[${i}]: ${e.reason}`);
      throw e;
    }
  });
  if (commits.length !== seq + 1 || commits.some((c, i) => c.seq !== i)) {
    throw new CorruptObjectError(key, `does not hold exactly commits 0..${seq}`);
  }
  return { seq, commits };
}

export function descriptorFromJson(key: string, value: unknown): BackupDescriptor {
  const f = Fields.root(key, value);
  const formatVersion = checkVersion(f, 'kafka-backup');
  const enc = f.raw('encryption');
  let encryption: BackupDescriptor['encryption'] = null;
  if (enc !== null) {
    const e = f.object('encryption');
    encryption = { algorithm: e.oneOf('algorithm', ['aes-256-gcm'] as const), keyId: e.string('keyId') };
  }
  const source = f.raw('source');
  const labels = f.raw('labels');
  return {
    formatVersion,
    backupId: f.string('backupId'),
    createdAt: f.int('createdAt'),
    compression: f.oneOf('compression', COMPRESSIONS),
    encryption,
    ...(source !== undefined ? { source: f.object('source').obj as BackupDescriptor['source'] } : {}),
    ...(labels !== undefined ? { labels: f.stringMap('labels') } : {}),
  };
}

export function commitFromJson(key: string, value: unknown): CommitRecord {
  const f = Fields.root(key, value);
  const formatVersion = checkVersion(f, 'kafka-backup-commit');
  const runId = f.string('runId');
  const topics: TopicMetadata[] = f.array('topics').map((t) => {
    const rf = t.optionalInt('replicationFactor');
    return {
      name: t.string('name'),
      partitionCount: t.int('partitionCount', 1),
      ...(rf !== undefined ? { replicationFactor: rf } : {}),
      configs: t.stringMap('configs'),
    };
  });
  const partitions: PartitionCommit[] = f.array('partitions').map((p) => {
    const topic = p.string('topic');
    const partition = p.int('partition');
    const covered = rangeFromJson(p.object('covered'));
    const gaps: OffsetGap[] = p.array('gaps').map((g) => {
      const detectedAt = g.optionalInt('detectedAt');
      return {
        ...rangeFromJson(g),
        // Unknown reasons from newer writers are still gaps (docs/format/v1.md §8).
        reason: GAP_REASONS.includes(g.raw('reason') as GapReason)
          ? (g.raw('reason') as GapReason)
          : 'unknown',
        ...(detectedAt !== undefined ? { detectedAt } : {}),
      };
    });
    const segments: SegmentEntry[] = p.array('segments').map((s) => {
      const sha = s.string('sha256');
      if (!/^[0-9a-f]{64}$/.test(sha)) s.fail('sha256', 'a lower-case hex SHA-256');
      const entry: SegmentEntry = {
        topic,
        partition,
        key: s.string('key'),
        firstOffset: s.i64('firstOffset'),
        lastOffset: s.i64('lastOffset'),
        minTimestamp: s.i64('minTimestamp'),
        maxTimestamp: s.i64('maxTimestamp'),
        recordCount: s.int('recordCount', 1),
        size: s.int('size'),
        uncompressedSize: s.int('uncompressedSize'),
        compression: s.oneOf('compression', COMPRESSIONS) as Compression,
        encrypted: s.bool('encrypted'),
        sha256: sha,
        runId,
        timestampsAreBounds: true,
      };
      if (entry.lastOffset < entry.firstOffset) s.fail('lastOffset', 'at least firstOffset');
      return entry;
    });
    return { topic, partition, covered, gaps, segments };
  });
  const extra = f.raw('extra');
  const mode = f.oneOf('mode', COMMIT_MODES);
  // A prune commit carries no data of its own; its `prune` says what left the backup (§5.6).
  if ((mode === 'prune') !== (f.raw('prune') !== undefined))
    f.fail('prune', "present exactly when mode is 'prune'");
  if (mode === 'prune' && partitions.length > 0) f.fail('partitions', "empty in a commit of mode 'prune'");
  const prune = mode === 'prune' ? pruneFromJson(f.object('prune')) : undefined;
  return {
    formatVersion,
    backupId: f.string('backupId'),
    seq: f.int('seq'),
    runId,
    mode,
    final: f.bool('final'),
    committedAt: f.int('committedAt'),
    topics,
    partitions,
    ...(prune !== undefined ? { prune } : {}),
    ...(extra !== undefined ? { extra: f.object('extra').obj } : {}),
  };
}

function pruneFromJson(f: Fields): PruneFacts {
  const list = f.raw('runs');
  if (!Array.isArray(list) || list.length === 0 || list.some((r) => typeof r !== 'string' || r === '')) {
    f.fail('runs', 'a non-empty array of run ids');
  }
  return {
    runs: list as string[],
    partitions: f.array('partitions').map((p) => ({
      topic: p.string('topic'),
      partition: p.int('partition'),
      ranges: p.array('ranges').map(rangeFromJson),
    })),
    segments: f.int('segments'),
    bytes: f.int('bytes'),
  };
}

function rangeFromJson(f: Fields): OffsetRange {
  const start = f.i64('start');
  const end = f.i64('end');
  if (end < start) f.fail('end', 'at least start');
  return { start, end };
}
