import { partitionKey } from '../record.ts';
import type {
  BackupDescriptor,
  BackupFormatName,
  BackupManifest,
  CommitRecord,
  OffsetGap,
  OffsetRange,
  PartitionState,
  RunSummary,
  SegmentEntry,
  TopicMetadata,
  TopicState,
} from './types.ts';

/**
 * Folds commits (in seq order) into the merged view. Commits are facts that never change, so the
 * fold is deterministic whatever order concurrent runs committed in: ranges are unioned, segments
 * kept (overlaps are resolved by the planner, earlier commit first), topic metadata is the latest.
 *
 * Prune commits (docs/format/v1.md §5.6) apply to the whole history: a pruned run's segments, gaps
 * and summary leave the view, its covered ranges stay (so `nextOffset` does not move), and the
 * offsets no kept run holds become gaps with reason `pruned`.
 */
export function mergeCommits(
  descriptor: BackupDescriptor,
  commits: readonly CommitRecord[],
  format: BackupFormatName = 'kafka-backup-v1',
): BackupManifest {
  const sorted = [...commits].sort((a, b) => a.seq - b.seq);
  const metadata = new Map<string, TopicMetadata>();
  const parts = new Map<string, PartitionAccumulator>();
  const runs = new Map<string, RunSummary>();
  const seenKeys = new Set<string>();
  const partitionOf = (tp: { topic: string; partition: number }) => {
    const k = partitionKey(tp);
    let acc = parts.get(k);
    if (!acc) {
      acc = { topic: tp.topic, partition: tp.partition, segments: [], covered: [], gaps: [] };
      parts.set(k, acc);
    }
    return acc;
  };

  const pruned = new Set<string>();
  for (const c of sorted) {
    if (!c.prune) continue;
    for (const runId of c.prune.runs) pruned.add(runId);
    for (const p of c.prune.partitions) {
      partitionOf(p).gaps.push(
        ...p.ranges.map((r) => ({ start: r.start, end: r.end, reason: 'pruned' as const })),
      );
    }
  }

  for (const c of sorted) {
    if (c.mode === 'prune') continue;
    for (const t of c.topics) metadata.set(t.name, t);
    const gone = pruned.has(c.runId);
    let segmentCount = 0;
    let recordCount = 0;
    let bytes = 0;
    for (const p of c.partitions) {
      const acc = partitionOf(p);
      if (p.covered.end > p.covered.start) acc.covered.push(p.covered);
      // A pruned run's offsets are accounted for by the prune commit's `pruned` gaps.
      if (gone) continue;
      // The same object listed twice (a resumed run re-committing a content-addressed segment) counts once.
      for (const seg of p.segments) {
        if (seenKeys.has(seg.key)) continue;
        seenKeys.add(seg.key);
        acc.segments.push(seg);
        segmentCount++;
        recordCount += seg.recordCount;
        bytes += seg.size;
      }
      acc.gaps.push(...p.gaps);
    }
    if (gone) continue;
    const prev = runs.get(c.runId);
    runs.set(c.runId, {
      runId: c.runId,
      mode: c.mode,
      firstSeq: prev?.firstSeq ?? c.seq,
      lastSeq: c.seq,
      startedAt: prev?.startedAt ?? c.committedAt,
      lastCommittedAt: c.committedAt,
      final: c.final,
      segmentCount: (prev?.segmentCount ?? 0) + segmentCount,
      recordCount: (prev?.recordCount ?? 0) + recordCount,
      bytes: (prev?.bytes ?? 0) + bytes,
    });
  }

  const byTopic = new Map<string, PartitionState[]>();
  for (const acc of parts.values()) {
    // Stable sort: among equal first offsets the earlier commit stays first.
    const segments = acc.segments.sort((a, b) => cmp(a.firstOffset, b.firstOffset));
    const covered = unionRanges(acc.covered);
    const state: PartitionState = {
      topic: acc.topic,
      partition: acc.partition,
      segments,
      covered,
      gaps: dedupeGaps(acc.gaps),
      nextOffset: covered.length > 0 ? (covered[covered.length - 1] as OffsetRange).end : undefined,
      recordCount: segments.reduce((n, s) => n + s.recordCount, 0),
      bytes: segments.reduce((n, s) => n + s.size, 0),
    };
    const list = byTopic.get(acc.topic) ?? [];
    list.push(state);
    byTopic.set(acc.topic, list);
  }
  for (const name of metadata.keys()) if (!byTopic.has(name)) byTopic.set(name, []);

  const topics: TopicState[] = [...byTopic.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, partitions]) => ({
      metadata: metadata.get(name) ?? {
        name,
        partitionCount: Math.max(0, ...partitions.map((p) => p.partition)) + 1,
        configs: {},
      },
      partitions: partitions.sort((a, b) => a.partition - b.partition),
    }));

  return {
    format,
    descriptor,
    runs: [...runs.values()].sort((a, b) => a.firstSeq - b.firstSeq),
    prunedRuns: [...pruned],
    topics,
    lastSeq: sorted.length > 0 ? (sorted[sorted.length - 1] as CommitRecord).seq : -1,
  };
}

interface PartitionAccumulator {
  readonly topic: string;
  readonly partition: number;
  readonly segments: SegmentEntry[];
  readonly covered: OffsetRange[];
  readonly gaps: OffsetGap[];
}

/** Sorted, merged union of half-open ranges; adjacent ranges join. */
export function unionRanges(ranges: readonly OffsetRange[]): OffsetRange[] {
  const sorted = [...ranges].sort((a, b) => cmp(a.start, b.start));
  const out: { start: bigint; end: bigint }[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.start <= last.end) {
      if (r.end > last.end) last.end = r.end;
    } else {
      out.push({ start: r.start, end: r.end });
    }
  }
  return out;
}

/** The offsets of `ranges` that `minus` does not hold (both any order; the result sorted, merged). */
export function subtractRanges(ranges: readonly OffsetRange[], minus: readonly OffsetRange[]): OffsetRange[] {
  const holes = unionRanges(minus);
  return unionRanges(ranges).flatMap((r) => uncoveredRanges(holes, r.start, r.end));
}

/** Offsets in [start, end) not covered by `covered` (sorted, merged): holes a restore would miss. */
export function uncoveredRanges(covered: readonly OffsetRange[], start: bigint, end: bigint): OffsetRange[] {
  const holes: OffsetRange[] = [];
  let cursor = start;
  for (const r of covered) {
    if (r.end <= cursor) continue;
    if (r.start >= end) break;
    if (r.start > cursor) holes.push({ start: cursor, end: r.start });
    cursor = r.end;
  }
  if (cursor < end) holes.push({ start: cursor, end });
  return holes;
}

function dedupeGaps(gaps: readonly OffsetGap[]): OffsetGap[] {
  const seen = new Map<string, OffsetGap>();
  for (const g of gaps) {
    const k = `${g.start}:${g.end}:${g.reason}`;
    if (!seen.has(k)) seen.set(k, g);
  }
  return [...seen.values()].sort((a, b) => cmp(a.start, b.start));
}

export function findPartition(
  manifest: BackupManifest,
  topic: string,
  partition: number,
): PartitionState | undefined {
  return manifest.topics
    .find((t) => t.metadata.name === topic)
    ?.partitions.find((p) => p.partition === partition);
}

function cmp(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
