import { type CommittedOffset, sortOffsets, tpKey } from './group-offsets.ts';
import type { OffsetRange, PartitionOffsetMapping } from './offset-mapping.ts';

/**
 * Translation of committed source offsets into target offsets through a restore's mapping.
 *
 * Rule: a committed offset is the next record the group would read, so its translation is the target
 * offset of the first restored record at or after it. When every restored record of the partition is
 * before it (the group had consumed everything backed up, or more), the translation is the end of
 * the restored data in the target partition.
 *
 * Repartitioned topics: a target partition mixes records of several source partitions, so one target
 * offset cannot express several source positions exactly. The rule is the conservative one: the
 * smallest candidate over the source partitions that fed it, so no unconsumed record is ever skipped;
 * records already consumed may be delivered again (the plan marks such translations `exact: false`).
 * A source partition that fed the target partition but on which the group has no commit, while it
 * has commits on other partitions of the topic, counts as wholly unconsumed.
 */
export interface TranslatedOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  /** False when a repartitioned target partition could not express every source position exactly. */
  readonly exact: boolean;
  /** The source positions this offset was derived from. */
  readonly sources: readonly CommittedOffset[];
}

export interface SkippedOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  readonly reason: string;
}

export interface GroupTranslation {
  readonly group: string;
  readonly offsets: readonly TranslatedOffset[];
  readonly skipped: readonly SkippedOffset[];
}

/** The target offset of the first restored record at or after `committed`, or undefined if none is. */
export function firstTargetAtOrAfter(ranges: readonly OffsetRange[], committed: bigint): bigint | undefined {
  let lo = 0;
  let hi = ranges.length;
  // First range whose last source offset is >= committed.
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const r = ranges[mid] as OffsetRange;
    if (r.source + BigInt(r.count) - 1n < committed) lo = mid + 1;
    else hi = mid;
  }
  const r = ranges[lo];
  if (!r) return undefined;
  return committed <= r.source ? r.target : r.target + (committed - r.source);
}

/** One past the last target offset of the restored data. */
function endOf(ranges: readonly OffsetRange[]): bigint | undefined {
  const last = ranges.at(-1);
  return last ? last.target + BigInt(last.count) : undefined;
}

export function translateGroup(
  group: string,
  committed: readonly CommittedOffset[],
  mapping: readonly PartitionOffsetMapping[],
): GroupTranslation {
  const bySource = new Map<string, PartitionOffsetMapping[]>();
  const byTarget = new Map<string, PartitionOffsetMapping[]>();
  for (const m of mapping) {
    pushTo(bySource, tpKey(m.sourceTopic, m.sourcePartition), m);
    pushTo(byTarget, tpKey(m.targetTopic, m.targetPartition), m);
  }
  const committedBySource = new Map(committed.map((c) => [tpKey(c.topic, c.partition), c]));
  const committedTopics = new Set(committed.map((c) => c.topic));

  const skipped: SkippedOffset[] = [];
  const targets = new Map<string, { topic: string; partition: number }>();
  for (const c of committed) {
    const entries = bySource.get(tpKey(c.topic, c.partition));
    if (!entries || entries.length === 0) {
      skipped.push({ ...c, reason: 'partition not restored' });
      continue;
    }
    for (const e of entries)
      targets.set(tpKey(e.targetTopic, e.targetPartition), {
        topic: e.targetTopic,
        partition: e.targetPartition,
      });
  }

  const offsets: TranslatedOffset[] = [];
  for (const [key, target] of targets) {
    const feeders = byTarget.get(key) ?? [];
    const end = feeders.reduce<bigint | undefined>((max, f) => {
      const e = endOf(f.ranges);
      return e !== undefined && (max === undefined || e > max) ? e : max;
    }, undefined);
    if (end === undefined) continue; // no record was restored into this partition
    let best: bigint | undefined;
    const sources: CommittedOffset[] = [];
    let contributing = 0;
    for (const f of feeders) {
      // Only source partitions of topics the group reads decide its position.
      if (!committedTopics.has(f.sourceTopic) || f.ranges.length === 0) continue;
      contributing += 1;
      const c = committedBySource.get(tpKey(f.sourceTopic, f.sourcePartition));
      const candidate = c
        ? (firstTargetAtOrAfter(f.ranges, c.offset) ?? end)
        : (f.ranges[0] as OffsetRange).target;
      if (c) sources.push(c);
      else sources.push({ topic: f.sourceTopic, partition: f.sourcePartition, offset: -1n });
      if (best === undefined || candidate < best) best = candidate;
    }
    if (best === undefined) continue;
    offsets.push({ ...target, offset: best, exact: contributing <= 1, sources: sortOffsets(sources) });
  }
  return { group, offsets: sortOffsets(offsets), skipped: sortOffsets(skipped) };
}

function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
