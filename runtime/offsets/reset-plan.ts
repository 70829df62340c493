import { type CommittedOffset, type GroupOffsets, sortOffsets, tpKey } from './group-offsets.ts';
import type { PartitionOffsetMapping } from './offset-mapping.ts';
import { translateGroup } from './translate.ts';

/**
 * Planning of a consumer-offset reset, free of I/O: the caller fetches the facts (committed offsets,
 * partition counts, log-start and end offsets, offsets for a timestamp) and this module decides.
 */
export type ResetStrategy =
  | { readonly kind: 'to-earliest' }
  | { readonly kind: 'to-latest' }
  /** First offset whose timestamp is at or after `timestamp` (ms); the end of the log when none is. */
  | { readonly kind: 'to-timestamp'; readonly timestamp: bigint }
  /** The same absolute offset on every selected partition. */
  | { readonly kind: 'to-offset'; readonly offset: bigint }
  /** Current committed offset plus `shift` (negative moves back). */
  | { readonly kind: 'shift-by'; readonly shift: bigint }
  /** Source offsets (the backup's consumer-group snapshot) translated through a restore's mapping. */
  | {
      readonly kind: 'from-mapping';
      readonly mapping: readonly PartitionOffsetMapping[];
      readonly sourceOffsets: GroupOffsets;
    }
  /** The offsets recorded in a snapshot, committed as they are. */
  | { readonly kind: 'from-snapshot'; readonly offsets: GroupOffsets };

export type ResetStrategyKind = ResetStrategy['kind'];

export const RESET_STRATEGIES: readonly ResetStrategyKind[] = [
  'to-earliest',
  'to-latest',
  'to-timestamp',
  'to-offset',
  'shift-by',
  'from-mapping',
  'from-snapshot',
];

export interface ResetSelection {
  readonly groups: readonly string[];
  /**
   * Topics to reset. When given, every partition of these topics is reset (the group need not have
   * commits there); when omitted, the partitions the group has commits on (or, for from-mapping and
   * from-snapshot, the partitions the mapping or snapshot has for it).
   */
  readonly topics?: readonly string[];
  /** Partition numbers to reset, within the selected topics. */
  readonly partitions?: readonly number[];
}

export interface PartitionFacts {
  /** Log-start offset. */
  readonly earliest: bigint;
  /** High watermark. */
  readonly latest: bigint;
  /** For to-timestamp: the offset ListOffsets returned for the timestamp, -1 when no record is that late. */
  readonly atTimestamp?: bigint;
}

export interface PartitionChange {
  readonly topic: string;
  readonly partition: number;
  /** The group's committed offset now, if any. */
  readonly current: bigint | undefined;
  readonly target: bigint;
  /** Why the target differs from a plain reading of the strategy (clamping, inexact translation). */
  readonly note?: string;
}

export interface PartitionSkip {
  readonly topic: string;
  readonly partition: number;
  readonly reason: string;
}

export interface GroupResetPlan {
  readonly group: string;
  readonly changes: readonly PartitionChange[];
  readonly skipped: readonly PartitionSkip[];
}

export interface ResetPlan {
  readonly strategy: ResetStrategyKind;
  readonly groups: readonly GroupResetPlan[];
}

/** A partition the plan needs facts for, and the offset the strategy asks for before clamping. */
export interface PlannedPartition {
  readonly topic: string;
  readonly partition: number;
  readonly current: bigint | undefined;
  /** Set for strategies whose target does not depend on the partition's log (from-*, to-offset, shift-by). */
  readonly wanted?: bigint;
  readonly note?: string;
}

export interface GroupSelection {
  readonly group: string;
  readonly partitions: readonly PlannedPartition[];
  readonly skipped: readonly PartitionSkip[];
}

/**
 * First stage: which partitions of which groups a reset touches. `partitionCounts` is needed only
 * when `selection.topics` is given for a to-* or shift-by strategy; a missing topic is an error.
 */
export function selectPartitions(
  strategy: ResetStrategy,
  selection: ResetSelection,
  committed: GroupOffsets,
  partitionCounts: ReadonlyMap<string, number>,
): GroupSelection[] {
  if (selection.groups.length === 0) throw new Error('select at least one consumer group');
  const topicFilter = selection.topics && selection.topics.length > 0 ? new Set(selection.topics) : undefined;
  const partitionFilter =
    selection.partitions && selection.partitions.length > 0 ? new Set(selection.partitions) : undefined;
  const selected = (topic: string, partition: number): boolean =>
    (!topicFilter || topicFilter.has(topic)) && (!partitionFilter || partitionFilter.has(partition));

  return [...new Set(selection.groups)].map((group) => {
    const current = new Map((committed.get(group) ?? []).map((c) => [tpKey(c.topic, c.partition), c.offset]));
    const partitions: PlannedPartition[] = [];
    const skipped: PartitionSkip[] = [];

    if (strategy.kind === 'from-mapping' || strategy.kind === 'from-snapshot') {
      const wanted = wantedFromDocument(strategy, group, skipped);
      for (const w of wanted) {
        if (!selected(w.topic, w.partition)) continue;
        partitions.push({ ...w, current: current.get(tpKey(w.topic, w.partition)) });
      }
    } else {
      const candidates: { topic: string; partition: number }[] = [];
      if (topicFilter) {
        for (const topic of topicFilter) {
          const count = partitionCounts.get(topic);
          if (count === undefined) throw new Error(`topic ${topic} does not exist on the cluster`);
          for (let partition = 0; partition < count; partition++) candidates.push({ topic, partition });
        }
      } else {
        candidates.push(...(committed.get(group) ?? []));
      }
      for (const { topic, partition } of candidates) {
        if (!selected(topic, partition)) continue;
        const cur = current.get(tpKey(topic, partition));
        if (strategy.kind === 'shift-by') {
          if (cur === undefined) {
            skipped.push({ topic, partition, reason: 'no committed offset to shift' });
            continue;
          }
          partitions.push({ topic, partition, current: cur, wanted: cur + strategy.shift });
        } else if (strategy.kind === 'to-offset') {
          partitions.push({ topic, partition, current: cur, wanted: strategy.offset });
        } else {
          partitions.push({ topic, partition, current: cur });
        }
      }
    }
    if (partitions.length === 0 && skipped.length === 0) {
      skipped.push({
        topic: '*',
        partition: -1,
        reason: 'the group has no committed offsets on the selection',
      });
    }
    return { group, partitions: sortOffsets(partitions), skipped: sortOffsets(skipped) };
  });
}

function wantedFromDocument(
  strategy: Extract<ResetStrategy, { kind: 'from-mapping' | 'from-snapshot' }>,
  group: string,
  skipped: PartitionSkip[],
): Omit<PlannedPartition, 'current'>[] {
  if (strategy.kind === 'from-snapshot') {
    const offsets = strategy.offsets.get(group);
    if (!offsets) {
      skipped.push({ topic: '*', partition: -1, reason: 'group not in the snapshot' });
      return [];
    }
    return offsets.map((o) => ({ topic: o.topic, partition: o.partition, wanted: o.offset }));
  }
  const source = strategy.sourceOffsets.get(group);
  if (!source) {
    skipped.push({ topic: '*', partition: -1, reason: "group not in the backup's consumer-group snapshot" });
    return [];
  }
  const translation = translateGroup(group, source, strategy.mapping);
  for (const s of translation.skipped) {
    skipped.push({
      topic: s.topic,
      partition: s.partition,
      reason: `source offset ${s.offset}: ${s.reason}`,
    });
  }
  return translation.offsets.map((t) => ({
    topic: t.topic,
    partition: t.partition,
    wanted: t.offset,
    note: t.exact
      ? `from ${describeSources(t.sources)}`
      : `repartitioned: earliest unconsumed record over ${describeSources(t.sources)} (may re-deliver, never skips)`,
  }));
}

function describeSources(sources: readonly CommittedOffset[]): string {
  return sources.map((s) => `${s.topic}/${s.partition}@${s.offset < 0n ? 'none' : s.offset}`).join(', ');
}

/**
 * Second stage: the target offset of every selected partition. Targets are kept within
 * [log-start, high watermark], as Kafka's own tool does, and the clamping is noted in the plan.
 */
export function planReset(
  strategy: ResetStrategy,
  selections: readonly GroupSelection[],
  facts: ReadonlyMap<string, PartitionFacts>,
): ResetPlan {
  const groups = selections.map((sel) => {
    const changes: PartitionChange[] = [];
    const skipped = [...sel.skipped];
    for (const p of sel.partitions) {
      const f = facts.get(tpKey(p.topic, p.partition));
      if (!f) {
        skipped.push({
          topic: p.topic,
          partition: p.partition,
          reason: 'partition does not exist on the cluster',
        });
        continue;
      }
      let wanted: bigint;
      let note = p.note;
      switch (strategy.kind) {
        case 'to-earliest':
          wanted = f.earliest;
          break;
        case 'to-latest':
          wanted = f.latest;
          break;
        case 'to-timestamp':
          if (f.atTimestamp === undefined)
            throw new Error(`no timestamp lookup for ${p.topic}/${p.partition}`);
          wanted = f.atTimestamp < 0n ? f.latest : f.atTimestamp;
          if (f.atTimestamp < 0n) note = 'no record at or after the timestamp: end of the log';
          break;
        default:
          wanted = p.wanted as bigint;
      }
      let target = wanted;
      if (wanted < f.earliest) {
        target = f.earliest;
        note = joinNotes(note, `${wanted} is before the log start, clamped to ${f.earliest}`);
      } else if (wanted > f.latest) {
        target = f.latest;
        note = joinNotes(note, `${wanted} is past the end of the log, clamped to ${f.latest}`);
      }
      changes.push({
        topic: p.topic,
        partition: p.partition,
        current: p.current,
        target,
        ...(note ? { note } : {}),
      });
    }
    return { group: sel.group, changes, skipped: sortOffsets(skipped) };
  });
  return { strategy: strategy.kind, groups };
}

function joinNotes(a: string | undefined, b: string): string {
  return a ? `${a}; ${b}` : b;
}

/** The partitions whose log facts a plan needs. */
export function partitionsNeedingFacts(
  selections: readonly GroupSelection[],
): { topic: string; partition: number }[] {
  const seen = new Map<string, { topic: string; partition: number }>();
  for (const sel of selections) {
    for (const p of sel.partitions)
      seen.set(tpKey(p.topic, p.partition), { topic: p.topic, partition: p.partition });
  }
  return sortOffsets([...seen.values()]);
}

/** Human-readable plan, for dry runs and logs. */
export function formatResetPlan(plan: ResetPlan): string {
  const lines: string[] = [`Offset reset plan (${plan.strategy}):`];
  for (const g of plan.groups) {
    const moving = g.changes.filter((c) => c.current !== c.target).length;
    lines.push(`  group ${g.group}: ${g.changes.length} partition(s), ${moving} to move`);
    for (const c of g.changes) {
      const cur = c.current === undefined ? '(none)' : c.current.toString();
      lines.push(`    ${c.topic}/${c.partition}: ${cur} -> ${c.target}${c.note ? `  [${c.note}]` : ''}`);
    }
    for (const s of g.skipped) {
      lines.push(`    skipped ${s.partition < 0 ? s.topic : `${s.topic}/${s.partition}`}: ${s.reason}`);
    }
  }
  return lines.join('\n');
}

/** JSON-safe form of a plan (offsets as strings). */
export function resetPlanToJson(plan: ResetPlan): unknown {
  return {
    strategy: plan.strategy,
    groups: plan.groups.map((g) => ({
      group: g.group,
      changes: g.changes.map((c) => ({
        topic: c.topic,
        partition: c.partition,
        current: c.current?.toString() ?? null,
        target: c.target.toString(),
        ...(c.note ? { note: c.note } : {}),
      })),
      skipped: g.skipped,
    })),
  };
}
