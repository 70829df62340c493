import { partitionKey } from '../record.ts';
import { subtractRanges } from './manifest.ts';
import type { CommitRecord, OffsetRange, PrunedPartition, PruneFacts } from './types.ts';

/**
 * What pruning runs changes, computed from the commits alone (no I/O). Runs may overlap (two runs
 * that backed up the same offsets, or listed the same content-addressed segment object), so a prune
 * gives up only what no kept run holds: offsets covered by the pruned runs minus those covered by
 * kept runs, and segment objects listed by pruned runs and by no kept run.
 */

/** The prune commit's facts for pruning `runIds` now, given every commit so far. */
export function pruneFacts(commits: readonly CommitRecord[], runIds: readonly string[]): PruneFacts {
  const removed = new Set([...alreadyPruned(commits), ...runIds]);
  const prunedCovered = new Map<string, { topic: string; partition: number; ranges: OffsetRange[] }>();
  const keptCovered = new Map<string, OffsetRange[]>();
  const pruning = new Set(runIds);
  for (const c of dataCommits(commits)) {
    for (const p of c.partitions) {
      const k = partitionKey(p);
      if (pruning.has(c.runId)) {
        const acc = prunedCovered.get(k) ?? { topic: p.topic, partition: p.partition, ranges: [] };
        acc.ranges.push(p.covered);
        prunedCovered.set(k, acc);
      } else if (!removed.has(c.runId)) {
        keptCovered.set(k, [...(keptCovered.get(k) ?? []), p.covered]);
      }
    }
  }
  const partitions: PrunedPartition[] = [];
  for (const [k, acc] of [...prunedCovered].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const ranges = subtractRanges(acc.ranges, keptCovered.get(k) ?? []);
    if (ranges.length > 0) partitions.push({ topic: acc.topic, partition: acc.partition, ranges });
  }
  const newly = segmentsToDelete(commits, pruning, removed);
  return {
    runs: [...runIds],
    partitions,
    segments: newly.size,
    bytes: [...newly.values()].reduce((n, size) => n + size, 0),
  };
}

/**
 * Segment objects (key -> recorded size) that `runs` listed and no other run still in the backup
 * lists. `removed` (default `runs`) is every run gone from the backup, pruned earlier or now.
 */
export function segmentsToDelete(
  commits: readonly CommitRecord[],
  runs: ReadonlySet<string>,
  removed: ReadonlySet<string> = runs,
): Map<string, number> {
  const keep = new Set<string>();
  const candidates = new Map<string, number>();
  for (const c of dataCommits(commits)) {
    for (const p of c.partitions) {
      for (const s of p.segments) {
        if (runs.has(c.runId)) candidates.set(s.key, s.size);
        else if (!removed.has(c.runId)) keep.add(s.key);
      }
    }
  }
  for (const key of keep) candidates.delete(key);
  return candidates;
}

/** Run ids named by the prune commits among `commits`. */
export function alreadyPruned(commits: readonly CommitRecord[]): Set<string> {
  const out = new Set<string>();
  for (const c of commits) for (const runId of c.prune?.runs ?? []) out.add(runId);
  return out;
}

function dataCommits(commits: readonly CommitRecord[]): CommitRecord[] {
  return commits.filter((c) => c.mode !== 'prune');
}
