import { uncoveredRanges, unionRanges } from '../format/manifest.ts';
import type { GapReason, OffsetRange, PartitionState } from '../format/types.ts';

/**
 * Offset continuity of one backed-up partition, free of I/O: every offset from the first covered one
 * to the last must be in a segment or in a recorded gap whose reason explains it (retention,
 * compaction, transaction markers). Anything else is a hole a restore would silently miss.
 */
export interface ContinuityFinding {
  readonly topic: string;
  readonly partition: number;
  /** Offsets neither stored nor explained by a gap. */
  readonly unexplained: readonly (OffsetRange & { readonly where: 'between-segments' | 'inside-segment' })[];
  /** Number of offsets explained per reason. */
  readonly explained: Readonly<Partial<Record<GapReason, string>>>;
  readonly warnings: readonly string[];
}

/**
 * `innerHoles`: holes between consecutive record offsets inside segments, known only after decoding
 * them (deep mode); each must lie inside recorded gaps too.
 */
export function checkContinuity(
  p: PartitionState,
  topicConfigs: Readonly<Record<string, string>>,
  innerHoles: readonly OffsetRange[] = [],
): ContinuityFinding {
  const where = `${p.topic}/${p.partition}`;
  const warnings: string[] = [];
  const gaps = unionRanges(p.gaps);
  const stored = p.segments.map((s) => ({ start: s.firstOffset, end: s.lastOffset + 1n }));
  const explainedBy = unionRanges([...stored, ...gaps]);
  const unexplained: ContinuityFinding['unexplained'][number][] = [];
  const first = p.covered[0];
  const last = p.covered.at(-1);
  if (first && last) {
    for (const hole of uncoveredRanges(explainedBy, first.start, last.end)) {
      unexplained.push({ ...hole, where: 'between-segments' });
    }
  }
  for (const inner of innerHoles) {
    for (const hole of uncoveredRanges(gaps, inner.start, inner.end))
      unexplained.push({ ...hole, where: 'inside-segment' });
  }

  const explained: Partial<Record<GapReason, bigint>> = {};
  for (const g of p.gaps) explained[g.reason] = (explained[g.reason] ?? 0n) + (g.end - g.start);
  if (explained.unknown)
    warnings.push(`${where}: ${explained.unknown} offset(s) skipped for an unknown reason`);
  const compacted = (topicConfigs['cleanup.policy'] ?? 'delete').includes('compact');
  if (explained.compaction && !compacted) {
    warnings.push(
      `${where}: ${explained.compaction} offset(s) recorded as compacted, but the topic's cleanup.policy is not compact`,
    );
  }
  return {
    topic: p.topic,
    partition: p.partition,
    unexplained,
    explained: Object.fromEntries(Object.entries(explained).map(([k, v]) => [k, v.toString()])),
    warnings,
  };
}

/** Holes between consecutive record offsets of one decoded segment (and before/after its bounds). */
export function innerHoles(
  offsets: Iterable<bigint>,
  firstOffset: bigint,
  lastOffset: bigint,
): OffsetRange[] {
  const holes: OffsetRange[] = [];
  let expected = firstOffset;
  for (const o of offsets) {
    if (o > expected) holes.push({ start: expected, end: o });
    expected = o + 1n;
  }
  if (expected <= lastOffset) holes.push({ start: expected, end: lastOffset + 1n });
  return holes;
}

/**
 * Records the manifest promises for a partition: covered offsets minus explained gaps, when segments
 * do not overlap (a resumed run can rewrite a range; then only the deep count is exact).
 */
export function expectedRecordCount(p: PartitionState): {
  expected: bigint;
  stored: bigint;
  overlapping: boolean;
} {
  let covered = 0n;
  for (const c of p.covered) covered += c.end - c.start;
  let gaps = 0n;
  for (const g of unionRanges(p.gaps)) gaps += g.end - g.start;
  let overlapping = false;
  let prevLast: bigint | undefined;
  for (const s of p.segments) {
    if (prevLast !== undefined && s.firstOffset <= prevLast) overlapping = true;
    if (prevLast === undefined || s.lastOffset > prevLast) prevLast = s.lastOffset;
  }
  return { expected: covered - gaps, stored: BigInt(p.recordCount), overlapping };
}
