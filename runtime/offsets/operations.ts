import type { ObjectStore } from '../storage/object-store.ts';
import { mapLimit, mapSettled } from './concurrency.ts';
import { OffsetsUsageError } from './errors.ts';
import { assertGroupsInactive, type ConsumerGroupAdmin } from './group-admin.ts';
import { type CommittedOffset, sortOffsets, tpKey } from './group-offsets.ts';
import {
  type PartitionFacts,
  partitionsNeedingFacts,
  planReset,
  type ResetPlan,
  type ResetSelection,
  type ResetStrategy,
  selectPartitions,
} from './reset-plan.ts';
import { newSnapshotId, type OffsetSnapshot, readSnapshot, writeSnapshot } from './snapshot-store.ts';

/**
 * The offset operations with I/O: reset (plan, refuse active groups, snapshot durably, commit,
 * verify), snapshot, rollback (commit a snapshot back exactly, verify). Each returns a result whose
 * `status` is `failed` when any group's commit or verification failed: never "completed" then.
 */
export const DEFAULT_PARALLELISM = 8;

export interface GroupOutcome {
  readonly group: string;
  readonly status: 'committed' | 'unchanged' | 'failed';
  readonly error?: string;
}

export interface OffsetMismatch {
  readonly group: string;
  readonly topic: string;
  readonly partition: number;
  /** undefined: no committed offset expected (it should have been removed). */
  readonly expected: bigint | undefined;
  /** undefined: no committed offset found. */
  readonly actual: bigint | undefined;
}

export interface ResetResult {
  readonly status: 'planned' | 'completed' | 'failed';
  readonly plan: ResetPlan;
  readonly snapshotId?: string;
  readonly snapshotKey?: string;
  readonly groups: readonly GroupOutcome[];
  readonly mismatches: readonly OffsetMismatch[];
  readonly parallelism: number;
}

export interface ResetOptions {
  readonly strategy: ResetStrategy;
  readonly selection: ResetSelection;
  readonly dryRun?: boolean;
  /** Groups processed at once (fetches, commits, verification). */
  readonly parallelism?: number;
  /** Store the groups' offsets before committing, for a rollback. @default true */
  readonly snapshot?: boolean;
  /**
   * After a group fails, start no other group (KafkaOffsetReset continueOnError: false); groups
   * already being committed finish. @default false
   */
  readonly stopOnFailure?: boolean;
  readonly now?: () => Date;
}

/** `store` holds the snapshot taken before committing; it may be absent with `snapshot: false`. */
export async function resetOffsets(
  admin: ConsumerGroupAdmin,
  store: ObjectStore | undefined,
  options: ResetOptions,
): Promise<ResetResult> {
  if (!store && options.snapshot !== false && !options.dryRun) {
    throw new OffsetsUsageError(
      'a snapshot before the reset needs the backup storage: configure storage, or turn the snapshot off (snapshotBeforeReset: false)',
    );
  }
  const parallelism = options.parallelism ?? DEFAULT_PARALLELISM;
  const groups = [...new Set(options.selection.groups)];
  const plan = await planResetOn(admin, options.strategy, options.selection, parallelism);
  if (options.dryRun) return { status: 'planned', plan, groups: [], mismatches: [], parallelism };

  const toChange = plan.groups
    .filter((g) => g.changes.some((c) => c.current !== c.target))
    .map((g) => g.group);
  // Refuse before anything is written: a half-applied reset is worse than none.
  await assertGroupsInactive(admin, toChange);
  const snapshot =
    options.snapshot === false || !store
      ? undefined
      : await takeSnapshot(admin, store, groups, {
          description: `before reset ${options.strategy.kind}`,
          parallelism,
          ...(options.now ? { now: options.now } : {}),
        });

  const byGroup = new Map(plan.groups.map((g) => [g.group, g]));
  let failedGroup: string | undefined;
  const settled = await mapSettled(groups, parallelism, async (group): Promise<GroupOutcome> => {
    const changes = byGroup.get(group)?.changes ?? [];
    if (!toChange.includes(group)) return { group, status: 'unchanged' };
    if (failedGroup !== undefined) {
      throw new Error(`not attempted: group ${failedGroup} failed first (continueOnError is false)`);
    }
    try {
      await admin.commitOffsets(
        group,
        changes.map((c) => ({ topic: c.topic, partition: c.partition, offset: c.target })),
      );
    } catch (error) {
      if (options.stopOnFailure) failedGroup ??= group;
      throw error;
    }
    return { group, status: 'committed' };
  });
  const outcomes = settled.map((s, i) => outcomeOf(groups[i] as string, s));
  const expected = new Map(
    plan.groups.map((g) => [
      g.group,
      g.changes.map((c) => ({ topic: c.topic, partition: c.partition, offset: c.target })),
    ]),
  );
  const mismatches = await verifyOffsets(admin, expected, parallelism, { exact: false });
  const failed = outcomes.some((o) => o.status === 'failed') || mismatches.length > 0;
  return {
    status: failed ? 'failed' : 'completed',
    plan,
    ...(snapshot ? { snapshotId: snapshot.snapshotId, snapshotKey: snapshot.key } : {}),
    groups: outcomes,
    mismatches,
    parallelism,
  };
}

/** Reads what a plan needs from the cluster and plans; no write. */
export async function planResetOn(
  admin: ConsumerGroupAdmin,
  strategy: ResetStrategy,
  selection: ResetSelection,
  parallelism = DEFAULT_PARALLELISM,
): Promise<ResetPlan> {
  const groups = [...new Set(selection.groups)];
  const fetched = await mapLimit(groups, parallelism, (g) => admin.committedOffsets(g));
  const committed = new Map(groups.map((g, i) => [g, fetched[i] as CommittedOffset[]]));
  const counts = selection.topics?.length
    ? await admin.partitionCounts(selection.topics)
    : new Map<string, number>();
  const selections = selectPartitions(strategy, selection, committed, counts);
  const needed = partitionsNeedingFacts(selections);
  const [logs, atTimestamp] = await Promise.all([
    admin.logOffsets(needed),
    strategy.kind === 'to-timestamp' ? admin.offsetsForTimestamp(needed, strategy.timestamp) : undefined,
  ]);
  const facts = new Map<string, PartitionFacts>();
  for (const [key, log] of logs) {
    const ts = atTimestamp?.get(key);
    facts.set(key, {
      earliest: log.earliest,
      latest: log.latest,
      ...(ts === undefined ? {} : { atTimestamp: ts }),
    });
  }
  return planReset(strategy, selections, facts);
}

export interface SnapshotOptions {
  readonly description?: string;
  readonly parallelism?: number;
  readonly now?: () => Date;
}

/** Reads the groups' committed offsets and stores them durably; returns once stored. */
export async function takeSnapshot(
  admin: ConsumerGroupAdmin,
  store: ObjectStore,
  groups: readonly string[],
  options: SnapshotOptions = {},
): Promise<OffsetSnapshot & { key: string }> {
  if (groups.length === 0) throw new Error('select at least one consumer group to snapshot');
  const unique = [...new Set(groups)];
  const offsets = await mapLimit(unique, options.parallelism ?? DEFAULT_PARALLELISM, (g) =>
    admin.committedOffsets(g),
  );
  const at = (options.now ?? (() => new Date()))();
  const snapshot: OffsetSnapshot = {
    snapshotId: newSnapshotId(at),
    createdAt: at.toISOString(),
    cluster: admin.description,
    ...(options.description ? { description: options.description } : {}),
    groups: new Map(unique.map((g, i) => [g, sortOffsets(offsets[i] as CommittedOffset[])])),
  };
  const key = await writeSnapshot(store, snapshot);
  return { ...snapshot, key };
}

export interface RollbackChange {
  readonly group: string;
  readonly commit: readonly CommittedOffset[];
  /** Partitions committed since the snapshot, whose offsets are removed to restore it exactly. */
  readonly remove: readonly { topic: string; partition: number; current: bigint }[];
}

export interface RollbackResult {
  readonly status: 'planned' | 'completed' | 'failed';
  readonly snapshotId: string;
  readonly changes: readonly RollbackChange[];
  readonly groups: readonly GroupOutcome[];
  readonly mismatches: readonly OffsetMismatch[];
  readonly verified: boolean;
}

export interface RollbackOptions {
  readonly snapshotId: string;
  /** Default: every group in the snapshot. */
  readonly groups?: readonly string[];
  readonly dryRun?: boolean;
  /** Default true. */
  readonly verify?: boolean;
  readonly parallelism?: number;
}

/** Puts the groups' committed offsets back exactly as the snapshot recorded them. */
export async function rollbackOffsets(
  admin: ConsumerGroupAdmin,
  store: ObjectStore,
  options: RollbackOptions,
): Promise<RollbackResult> {
  const parallelism = options.parallelism ?? DEFAULT_PARALLELISM;
  const snapshot = await readSnapshot(store, options.snapshotId);
  const groups = options.groups?.length ? [...new Set(options.groups)] : [...snapshot.groups.keys()];
  const unknown = groups.filter((g) => !snapshot.groups.has(g));
  if (unknown.length > 0) {
    throw new Error(`snapshot ${snapshot.snapshotId} has no offsets for group(s) ${unknown.join(', ')}`);
  }
  const current = await mapLimit(groups, parallelism, (g) => admin.committedOffsets(g));
  const changes: RollbackChange[] = groups.map((group, i) => {
    const wanted = snapshot.groups.get(group) ?? [];
    const keep = new Set(wanted.map((o) => tpKey(o.topic, o.partition)));
    const remove = (current[i] as CommittedOffset[])
      .filter((o) => !keep.has(tpKey(o.topic, o.partition)))
      .map((o) => ({ topic: o.topic, partition: o.partition, current: o.offset }));
    return { group, commit: wanted, remove: sortOffsets(remove) };
  });
  if (options.dryRun) {
    return {
      status: 'planned',
      snapshotId: snapshot.snapshotId,
      changes,
      groups: [],
      mismatches: [],
      verified: false,
    };
  }
  await assertGroupsInactive(admin, groups);
  const settled = await mapSettled(changes, parallelism, async (c): Promise<GroupOutcome> => {
    await admin.commitOffsets(c.group, c.commit);
    await admin.deleteOffsets(c.group, c.remove);
    return { group: c.group, status: c.commit.length + c.remove.length > 0 ? 'committed' : 'unchanged' };
  });
  const outcomes = settled.map((s, i) => outcomeOf(groups[i] as string, s));
  const verify = options.verify ?? true;
  const mismatches = verify
    ? await verifyOffsets(admin, new Map(groups.map((g) => [g, snapshot.groups.get(g) ?? []])), parallelism, {
        exact: true,
      })
    : [];
  const failed = outcomes.some((o) => o.status === 'failed') || mismatches.length > 0;
  return {
    status: failed ? 'failed' : 'completed',
    snapshotId: snapshot.snapshotId,
    changes,
    groups: outcomes,
    mismatches,
    verified: verify,
  };
}

/** Compares committed offsets with a snapshot; every difference is reported. */
export async function verifySnapshot(
  admin: ConsumerGroupAdmin,
  store: ObjectStore,
  snapshotId: string,
  groups?: readonly string[],
  parallelism = DEFAULT_PARALLELISM,
): Promise<OffsetMismatch[]> {
  const snapshot = await readSnapshot(store, snapshotId);
  const selected = groups?.length ? groups : [...snapshot.groups.keys()];
  return verifyOffsets(admin, new Map(selected.map((g) => [g, snapshot.groups.get(g) ?? []])), parallelism, {
    exact: true,
  });
}

/**
 * Compares the committed offsets of each group with the expected ones. With `exact`, a committed
 * offset on a partition the expectation does not list is a mismatch too.
 */
export async function verifyOffsets(
  admin: ConsumerGroupAdmin,
  expected: ReadonlyMap<string, readonly CommittedOffset[]>,
  parallelism: number,
  options: { exact: boolean },
): Promise<OffsetMismatch[]> {
  const groups = [...expected.keys()];
  const actual = await mapLimit(groups, parallelism, (g) => admin.committedOffsets(g));
  const mismatches: OffsetMismatch[] = [];
  groups.forEach((group, i) => {
    const want = new Map((expected.get(group) ?? []).map((o) => [tpKey(o.topic, o.partition), o]));
    const have = new Map((actual[i] as CommittedOffset[]).map((o) => [tpKey(o.topic, o.partition), o]));
    for (const [key, w] of want) {
      const h = have.get(key);
      if (h?.offset !== w.offset) {
        mismatches.push({
          group,
          topic: w.topic,
          partition: w.partition,
          expected: w.offset,
          actual: h?.offset,
        });
      }
    }
    if (options.exact) {
      for (const [key, h] of have) {
        if (!want.has(key))
          mismatches.push({
            group,
            topic: h.topic,
            partition: h.partition,
            expected: undefined,
            actual: h.offset,
          });
      }
    }
  });
  return mismatches;
}

function outcomeOf(group: string, s: PromiseSettledResult<GroupOutcome>): GroupOutcome {
  return s.status === 'fulfilled'
    ? s.value
    : { group, status: 'failed', error: s.reason instanceof Error ? s.reason.message : String(s.reason) };
}
