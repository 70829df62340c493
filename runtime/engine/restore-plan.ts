import { type PartitionPlan, planPartition, type RestoreBounds } from '../format/planner.ts';
import type { BackupManifest, TopicMetadata } from '../format/types.ts';
import { EngineError } from './errors.ts';
import type { RepartitionStrategy } from './partitioner.ts';
import { selectTopics } from './topic-selection.ts';

export interface RestoreMappingOptions {
  /** Source topic patterns to restore (names, globs, `~regex`); empty = every topic in the backup. */
  readonly topics?: readonly string[];
  readonly excludeTopics?: readonly string[];
  /** Source topic → target topic. */
  readonly topicMapping?: Readonly<Record<string, string>>;
  /** Source partition → target partition, for every topic that is not repartitioned. */
  readonly partitionMapping?: Readonly<Record<number, number>>;
  /** Keyed by target topic. */
  readonly repartitioning?: Readonly<
    Record<string, { readonly strategy: RepartitionStrategy; readonly targetPartitions: number }>
  >;
  readonly bounds?: RestoreBounds;
}

export type UnitRoute =
  | { readonly kind: 'fixed'; readonly partition: number }
  | { readonly kind: 'repartition'; readonly strategy: RepartitionStrategy; readonly partitions: number };

/**
 * The unit of ordering and resume: source partitions restored one after another, in order, into the
 * target partitions they can reach. Units are independent and run concurrently. Because a unit is
 * processed deterministically, an interrupted restore can be resumed exactly (see restore.ts).
 */
export interface RestoreUnit {
  readonly id: string;
  readonly targetTopic: string;
  readonly route: UnitRoute;
  readonly sources: readonly PartitionPlan[];
  readonly maxRecords: number;
  readonly bytes: number;
}

export interface TargetTopicPlan {
  readonly name: string;
  readonly sourceTopics: readonly string[];
  /** Partitions the restore writes to: the target needs at least this many. */
  readonly partitionsNeeded: number;
  /** Captured at backup time, from the first source topic. */
  readonly source: TopicMetadata;
  readonly repartitioned: boolean;
}

export interface RestorePlan {
  readonly backupId: string;
  readonly bounds: RestoreBounds;
  readonly units: readonly RestoreUnit[];
  readonly targets: readonly TargetTopicPlan[];
  /** Upper bound: whole segments are counted; the window and offset bound are applied per record. */
  readonly maxRecords: number;
  readonly bytes: number;
  readonly segments: number;
  readonly minTimestamp: bigint | undefined;
  readonly maxTimestamp: bigint | undefined;
}

export function planRestoreUnits(manifest: BackupManifest, options: RestoreMappingOptions): RestorePlan {
  const bounds = options.bounds ?? {};
  if (bounds.startTime !== undefined && bounds.endTime !== undefined && bounds.startTime > bounds.endTime) {
    throw new EngineError('config', `pitr start (${bounds.startTime}) is after pitr end (${bounds.endTime})`);
  }
  const available = manifest.topics.map((t) => t.metadata.name);
  const chosen = new Set(
    selectTopics(available, {
      include: options.topics ?? [],
      exclude: options.excludeTopics ?? [],
      includeInternal: true,
    }),
  );
  for (const name of options.topics ?? []) {
    if (!name.startsWith('~') && !/[*?]/.test(name) && !available.includes(name)) {
      throw new EngineError(
        'not-found',
        `topic '${name}' is not in backup '${manifest.descriptor.backupId}' (it holds: ${available.join(', ') || 'nothing'})`,
      );
    }
  }
  const partitionMapping = options.partitionMapping ?? {};
  const units = new Map<string, { targetTopic: string; route: UnitRoute; sources: PartitionPlan[] }>();
  const targets = new Map<
    string,
    { sources: string[]; needed: number; source: TopicMetadata; re: boolean }
  >();

  for (const topic of manifest.topics) {
    const name = topic.metadata.name;
    if (!chosen.has(name)) continue;
    const targetTopic = options.topicMapping?.[name] ?? name;
    const re = options.repartitioning?.[targetTopic];
    if (re && (!Number.isInteger(re.targetPartitions) || re.targetPartitions < 1)) {
      throw new EngineError(
        'config',
        `repartitioning.${targetTopic}.targetPartitions must be a positive integer`,
      );
    }
    const target = targets.get(targetTopic) ?? {
      sources: [],
      needed: 0,
      source: topic.metadata,
      re: Boolean(re),
    };
    target.sources.push(name);
    targets.set(targetTopic, target);
    if (re) target.needed = re.targetPartitions;
    else target.needed = Math.max(target.needed, topic.metadata.partitionCount);

    for (const state of topic.partitions) {
      const plan = planPartition(state, bounds);
      let key: string;
      let route: UnitRoute;
      if (re) {
        key = `${targetTopic}/*`;
        route = { kind: 'repartition', strategy: re.strategy, partitions: re.targetPartitions };
      } else {
        const partition = partitionMapping[state.partition] ?? state.partition;
        if (!Number.isInteger(partition) || partition < 0) {
          throw new EngineError(
            'config',
            `partitionMapping maps partition ${state.partition} to an invalid partition`,
          );
        }
        target.needed = Math.max(target.needed, partition + 1);
        key = `${targetTopic}/${partition}`;
        route = { kind: 'fixed', partition };
      }
      const unit = units.get(key) ?? { targetTopic, route, sources: [] };
      unit.sources.push(plan);
      units.set(key, unit);
    }
  }
  if (chosen.size === 0)
    throw new EngineError('not-found', 'no topic of the backup is selected: check the topics list');

  const unitList: RestoreUnit[] = [...units.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([id, u]) => {
      const sources = u.sources.sort((a, b) =>
        a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition,
      );
      return {
        id,
        targetTopic: u.targetTopic,
        route: u.route,
        sources,
        maxRecords: sources.reduce((n, s) => n + s.maxRecords, 0),
        bytes: sources.reduce((n, s) => n + s.bytes, 0),
      };
    });
  const allSources = unitList.flatMap((u) => u.sources);
  const minOf = (xs: (bigint | undefined)[]) =>
    xs.reduce<bigint | undefined>(
      (m, x) => (x === undefined ? m : m === undefined || x < m ? x : m),
      undefined,
    );
  const maxOf = (xs: (bigint | undefined)[]) =>
    xs.reduce<bigint | undefined>(
      (m, x) => (x === undefined ? m : m === undefined || x > m ? x : m),
      undefined,
    );
  let minTimestamp = minOf(allSources.map((s) => s.minTimestamp));
  let maxTimestamp = maxOf(allSources.map((s) => s.maxTimestamp));
  if (bounds.startTime !== undefined && minTimestamp !== undefined && minTimestamp < bounds.startTime) {
    minTimestamp = bounds.startTime;
  }
  if (bounds.endTime !== undefined && maxTimestamp !== undefined && maxTimestamp > bounds.endTime) {
    maxTimestamp = bounds.endTime;
  }
  return {
    backupId: manifest.descriptor.backupId,
    bounds,
    units: unitList,
    targets: [...targets.entries()].map(([name, t]) => ({
      name,
      sourceTopics: t.sources,
      partitionsNeeded: t.needed,
      source: t.source,
      repartitioned: t.re,
    })),
    maxRecords: allSources.reduce((n, s) => n + s.maxRecords, 0),
    bytes: allSources.reduce((n, s) => n + s.bytes, 0),
    segments: allSources.reduce((n, s) => n + s.reads.length, 0),
    minTimestamp,
    maxTimestamp,
  };
}

/**
 * Configs for creating a missing target topic: the captured ones, adjusted so restored records keep
 * their timestamps (a LogAppendTime topic would stamp the restore time on every record), then the
 * user's overrides, which win.
 */
export function targetTopicConfigs(
  captured: Readonly<Record<string, string>>,
  overrides: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const configs: Record<string, string> = { ...captured };
  if (configs['message.timestamp.type'] === 'LogAppendTime') configs['message.timestamp.type'] = 'CreateTime';
  return { ...configs, ...overrides };
}
