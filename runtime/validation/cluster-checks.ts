import type { CheckResult } from '../evidence/report.ts';
import type { BackupManifest } from '../format/types.ts';
import type { BackupGroupSnapshot } from '../offsets/backup-group-snapshot.ts';
import type { ConsumerGroupAdmin, LogOffsets } from '../offsets/group-admin.ts';
import { tpKey } from '../offsets/group-offsets.ts';
import type { OffsetMapping } from '../offsets/offset-mapping.ts';
import { translateGroup } from '../offsets/translate.ts';
import { expectedRecordCount } from './continuity.ts';

/**
 * The checks that compare a cluster with the backup (KafkaBackupValidation `checks.messageCount`,
 * `offsetRange`, `consumerGroupOffsets`), typically a cluster the backup was restored into.
 *
 * With the restore's offset mapping they are exact even for renamed and repartitioned topics: each
 * target partition must hold the records restored into it, at the offsets recorded. Without one, the
 * cluster is assumed to hold the backed-up partitions under their (mapped) names with their original
 * offsets - true of the source cluster itself, not of a restore into new topics.
 */
export interface ClusterCheckOptions {
  readonly admin: ConsumerGroupAdmin;
  /** Backup topic → cluster topic (ignored when a mapping is given: it records the targets). */
  readonly topicMapping?: Readonly<Record<string, string>>;
  readonly mapping?: OffsetMapping;
  /** The backup's consumer-group snapshot, to compare the groups' positions with their translation. */
  readonly groupSnapshot?: BackupGroupSnapshot;
  readonly messageCount?: false | { readonly failThreshold?: number; readonly topics?: readonly string[] };
  readonly offsetRange?: boolean;
  readonly consumerGroupOffsets?: false | { readonly groups?: readonly string[] };
  readonly maxFindings?: number;
}

interface Expectation {
  readonly topic: string;
  readonly partition: number;
  /** Backup topics this partition's records come from. */
  readonly sources: ReadonlySet<string>;
  readonly records: bigint;
  /** Offsets the records must occupy: [first, end). */
  readonly first: bigint;
  readonly end: bigint;
}

export async function clusterChecks(
  manifest: BackupManifest,
  o: ClusterCheckOptions,
): Promise<CheckResult[]> {
  const max = o.maxFindings ?? 50;
  const expectations = o.mapping ? fromMapping(o.mapping) : fromManifest(manifest, o.topicMapping ?? {});
  const logs = await o.admin.logOffsets(
    expectations.map((e) => ({ topic: e.topic, partition: e.partition })),
  );
  const results: CheckResult[] = [];
  if (o.messageCount !== false) results.push(messageCount(expectations, logs, o.messageCount ?? {}, max));
  if (o.offsetRange !== false) results.push(offsetRange(expectations, logs, Boolean(o.mapping), max));
  if (o.consumerGroupOffsets !== false) {
    results.push(await groupOffsets(o, expectations, logs, o.consumerGroupOffsets ?? {}, max));
  }
  return results;
}

function fromMapping(mapping: OffsetMapping): Expectation[] {
  const byTarget = new Map<
    string,
    { topic: string; partition: number; sources: Set<string>; records: bigint; first: bigint; end: bigint }
  >();
  for (const p of mapping.partitions) {
    if (p.ranges.length === 0) continue;
    const key = tpKey(p.targetTopic, p.targetPartition);
    const first = (p.ranges[0] as (typeof p.ranges)[number]).target;
    const last = p.ranges.at(-1) as (typeof p.ranges)[number];
    const end = last.target + BigInt(last.count);
    const records = p.ranges.reduce((n, r) => n + BigInt(r.count), 0n);
    const e = byTarget.get(key);
    if (e) {
      e.sources.add(p.sourceTopic);
      e.records += records;
      if (first < e.first) e.first = first;
      if (end > e.end) e.end = end;
    } else {
      byTarget.set(key, {
        topic: p.targetTopic,
        partition: p.targetPartition,
        sources: new Set([p.sourceTopic]),
        records,
        first,
        end,
      });
    }
  }
  return [...byTarget.values()];
}

function fromManifest(
  manifest: BackupManifest,
  topicMapping: Readonly<Record<string, string>>,
): Expectation[] {
  return manifest.topics.flatMap((t) =>
    t.partitions
      .filter((p) => p.covered.length > 0)
      .map((p) => ({
        topic: topicMapping[p.topic] ?? p.topic,
        partition: p.partition,
        sources: new Set([p.topic]),
        records: expectedRecordCount(p).expected,
        first: (p.covered[0] as { start: bigint }).start,
        end: (p.covered.at(-1) as { end: bigint }).end,
      })),
  );
}

function messageCount(
  expectations: readonly Expectation[],
  logs: ReadonlyMap<string, LogOffsets>,
  options: { readonly failThreshold?: number; readonly topics?: readonly string[] },
  max: number,
): CheckResult {
  const threshold = BigInt(options.failThreshold ?? 0);
  const only = options.topics?.length ? new Set(options.topics) : undefined;
  const selected = expectations.filter((e) => !only || [...e.sources].some((s) => only.has(s)));
  const problems: Record<string, string>[] = [];
  let expectedTotal = 0n;
  for (const e of selected) {
    expectedTotal += e.records;
    const log = logs.get(tpKey(e.topic, e.partition));
    const present = log ? log.latest - log.earliest : undefined;
    const diff = present === undefined ? e.records : present - e.records;
    if (present === undefined || diff > threshold || -diff > threshold) {
      problems.push({
        partition: `${e.topic}/${e.partition}`,
        expected: e.records.toString(),
        present: present === undefined ? 'partition missing' : present.toString(),
      });
    }
  }
  return {
    name: 'message-count',
    outcome: problems.length > 0 ? 'failed' : selected.length === 0 ? 'skipped' : 'passed',
    summary:
      problems.length > 0
        ? `${problems.length} of ${selected.length} partition(s) do not hold the backed-up number of records ` +
          `(first: ${problems[0]?.partition}: expected ${problems[0]?.expected}, found ${problems[0]?.present})`
        : `${selected.length} partition(s) hold the ${expectedTotal} backed-up record(s)` +
          (threshold > 0n ? ` (within ${threshold} per partition)` : ''),
    details: {
      failThreshold: Number(threshold),
      partitions: selected.length,
      mismatches: problems.slice(0, max),
    },
  };
}

function offsetRange(
  expectations: readonly Expectation[],
  logs: ReadonlyMap<string, LogOffsets>,
  exact: boolean,
  max: number,
): CheckResult {
  const problems: Record<string, string>[] = [];
  for (const e of expectations) {
    const log = logs.get(tpKey(e.topic, e.partition));
    if (!log) problems.push({ partition: `${e.topic}/${e.partition}`, problem: 'partition missing' });
    else if (log.latest < e.end) {
      problems.push({
        partition: `${e.topic}/${e.partition}`,
        problem: `ends at ${log.latest}, the backup reaches ${e.end}`,
      });
    } else if (exact && log.earliest > e.first) {
      problems.push({
        partition: `${e.topic}/${e.partition}`,
        problem: `starts at ${log.earliest}: restored records from ${e.first} were deleted`,
      });
    }
  }
  return {
    name: 'offset-range',
    outcome: problems.length > 0 ? 'failed' : expectations.length === 0 ? 'skipped' : 'passed',
    summary:
      problems.length > 0
        ? `${problems.length} partition(s) do not cover the ${exact ? 'restored' : 'backed-up'} offsets (first: ${problems[0]?.partition} ${problems[0]?.problem})`
        : `${expectations.length} partition(s) cover the ${exact ? 'restored offsets recorded in the mapping' : 'backed-up offsets'}`,
    details: {
      basis: exact ? 'restore offset mapping' : 'original offsets',
      problems: problems.slice(0, max),
    },
  };
}

async function groupOffsets(
  o: ClusterCheckOptions,
  expectations: readonly Expectation[],
  logs: ReadonlyMap<string, LogOffsets>,
  options: { readonly groups?: readonly string[] },
  max: number,
): Promise<CheckResult> {
  const topics = new Set(expectations.map((e) => e.topic));
  const groups = options.groups?.length
    ? [...options.groups]
    : o.groupSnapshot
      ? [...o.groupSnapshot.groups.keys()]
      : await o.admin.listGroups();
  const outOfRange: Record<string, string>[] = [];
  const differ: Record<string, string>[] = [];
  let checked = 0;
  for (const group of groups) {
    const committed = (await o.admin.committedOffsets(group)).filter((c) => topics.has(c.topic));
    const translated =
      o.mapping && o.groupSnapshot?.groups.has(group)
        ? new Map(
            translateGroup(group, o.groupSnapshot.groups.get(group) ?? [], o.mapping.partitions).offsets.map(
              (t) => [tpKey(t.topic, t.partition), t.offset],
            ),
          )
        : undefined;
    for (const c of committed) {
      checked += 1;
      const log = logs.get(tpKey(c.topic, c.partition));
      const where = `${group} ${c.topic}/${c.partition}`;
      if (log && (c.offset < log.earliest || c.offset > log.latest)) {
        outOfRange.push({
          group: where,
          committed: c.offset.toString(),
          range: `[${log.earliest}, ${log.latest}]`,
        });
      }
      const t = translated?.get(tpKey(c.topic, c.partition));
      if (t !== undefined && t !== c.offset)
        differ.push({ group: where, committed: c.offset.toString(), translated: t.toString() });
    }
  }
  return {
    name: 'consumer-group-offsets',
    outcome:
      outOfRange.length > 0 ? 'failed' : checked === 0 ? 'skipped' : differ.length > 0 ? 'warning' : 'passed',
    summary:
      outOfRange.length > 0
        ? `${outOfRange.length} committed offset(s) lie outside their partition's log (first: ${outOfRange[0]?.group} at ${outOfRange[0]?.committed})`
        : checked === 0
          ? 'no group has committed offsets on the checked topics'
          : differ.length > 0
            ? `${differ.length} committed offset(s) differ from the translation of the backup's snapshot (the groups moved since, or were not translated)`
            : `${checked} committed offset(s) of ${groups.length} group(s) are within the restored ranges` +
              (o.mapping && o.groupSnapshot ? ' and equal their translation' : ''),
    details: {
      groups: groups.length,
      offsets: checked,
      outOfRange: outOfRange.slice(0, max),
      differFromTranslation: differ.slice(0, max),
    },
  };
}
