import type { ResultFailure } from '../outcome.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { loadBackupGroupSnapshot } from './backup-group-snapshot.ts';
import { OffsetsUsageError } from './errors.ts';
import type { ConsumerGroupAdmin } from './group-admin.ts';
import { groupOffsetsToJson } from './group-offsets.ts';
import { formatOffsetMapping, loadOffsetMapping, type MappingSource } from './mapping-store.ts';
import { offsetMappingToDocument } from './offset-mapping.ts';
import {
  type OffsetMismatch,
  type ResetResult,
  type RollbackResult,
  resetOffsets,
  rollbackOffsets,
  takeSnapshot,
} from './operations.ts';
import {
  formatResetPlan,
  RESET_STRATEGIES,
  type ResetStrategy,
  type ResetStrategyKind,
  resetPlanToJson,
} from './reset-plan.ts';
import { listSnapshots, readSnapshot } from './snapshot-store.ts';

/**
 * Handlers of `kafka-backup offsets snapshot|reset|rollback|show-mapping`, independent of argument
 * parsing: the use cases (runtime/app/offsets.ts) pass the cluster and storage in.
 * Each returns the text for a terminal, the JSON for `--output json`, and `failure` when a commit
 * was rejected by Kafka (commit-failed) or the offsets found afterwards differ from those
 * committed (offsets-changed: something else moved them).
 * Invalid input throws OffsetsUsageError; a group with members throws ActiveGroupError.
 */
export interface CommandResult {
  /** Undefined: everything asked was done. */
  readonly failure?: ResultFailure;
  readonly text: string;
  readonly json: unknown;
}

export { OffsetsUsageError };

export interface OffsetsDeps {
  /** The cluster; absent when only stored snapshots or mappings are read. */
  readonly admin?: ConsumerGroupAdmin;
  /** Where offset snapshots are stored (the backup storage); absent for a reset without snapshot. */
  readonly store?: ObjectStore;
  /** Opens a backup, for from-mapping and show-mapping. */
  readonly openBackup?: (backupId: string) => Promise<MappingSource>;
}

export interface SnapshotCommandOptions {
  readonly groups?: readonly string[];
  /** Snapshot every group on the cluster. */
  readonly allGroups?: boolean;
  readonly description?: string;
  readonly parallelism?: number;
  /** List stored snapshots instead of taking one. */
  readonly list?: boolean;
  /** Show one stored snapshot. */
  readonly show?: string;
}

function storeOf(deps: OffsetsDeps): ObjectStore {
  if (!deps.store) {
    throw new OffsetsUsageError(
      'storage is required (storage, backupRef.storage or snapshotRef.storage): offset snapshots and mappings live there',
    );
  }
  return deps.store;
}

function adminOf(deps: OffsetsDeps): ConsumerGroupAdmin {
  if (!deps.admin) throw new OffsetsUsageError('kafkaCluster is required: the consumer groups live there');
  return deps.admin;
}

export async function runOffsetsSnapshot(
  options: SnapshotCommandOptions,
  deps: OffsetsDeps,
): Promise<CommandResult> {
  if (options.list) {
    const all = await listSnapshots(storeOf(deps));
    return {
      text: all.length === 0 ? 'No offset snapshots.' : all.map((s) => s.snapshotId).join('\n'),
      json: { snapshots: all },
    };
  }
  if (options.show) {
    const s = await readSnapshot(storeOf(deps), options.show);
    const json = {
      snapshotId: s.snapshotId,
      createdAt: s.createdAt,
      cluster: s.cluster,
      description: s.description,
      groups: groupOffsetsToJson(s.groups),
    };
    return { text: JSON.stringify(json, null, 2), json };
  }
  const admin = adminOf(deps);
  const groups = options.allGroups ? await admin.listGroups() : [...(options.groups ?? [])];
  if (groups.length === 0)
    throw new OffsetsUsageError(
      'name the consumer groups to snapshot (--group, repeatable) or pass --all-groups',
    );
  const s = await takeSnapshot(admin, storeOf(deps), groups, {
    ...(options.description ? { description: options.description } : {}),
    ...(options.parallelism ? { parallelism: options.parallelism } : {}),
  });
  const offsets = [...s.groups.values()].reduce((n, o) => n + o.length, 0);
  return {
    text: `Snapshot ${s.snapshotId}: ${s.groups.size} group(s), ${offsets} committed offset(s), stored at ${storeOf(deps).description}/${s.key}`,
    json: { snapshotId: s.snapshotId, key: s.key, groups: s.groups.size, offsets },
  };
}

export interface ResetCommandOptions {
  readonly groups: readonly string[];
  readonly topics?: readonly string[];
  readonly partitions?: readonly number[];
  readonly strategy: string;
  /** to-timestamp: epoch ms or an RFC 3339 date. */
  readonly timestamp?: string;
  /** to-offset. */
  readonly offset?: string;
  /** shift-by (may be negative). */
  readonly shift?: string;
  /** from-mapping: the backup whose restore mapping and consumer-group snapshot are used. */
  readonly backupId?: string;
  /** from-mapping: the restore (default: the backup's only restore). */
  readonly restoreId?: string;
  /** from-snapshot: an offset snapshot id. */
  readonly snapshotId?: string;
  readonly dryRun?: boolean;
  readonly parallelism?: number;
  /** Snapshot the groups before committing. @default true */
  readonly snapshot?: boolean;
  /** Start no other group after one fails. @default false */
  readonly stopOnFailure?: boolean;
}

export async function runOffsetsReset(
  options: ResetCommandOptions,
  deps: OffsetsDeps,
): Promise<CommandResult> {
  const strategy = await resolveStrategy(options, deps);
  let groups = [...options.groups];
  if (groups.length === 0 && strategy.kind === 'from-mapping') groups = [...strategy.sourceOffsets.keys()];
  if (groups.length === 0 && strategy.kind === 'from-snapshot') groups = [...strategy.offsets.keys()];
  if (groups.length === 0)
    throw new OffsetsUsageError('name the consumer groups to reset (--group, repeatable)');
  const result = await resetOffsets(adminOf(deps), deps.store, {
    strategy,
    selection: {
      groups,
      ...(options.topics?.length ? { topics: options.topics } : {}),
      ...(options.partitions?.length ? { partitions: options.partitions } : {}),
    },
    ...(options.dryRun ? { dryRun: true } : {}),
    ...(options.parallelism ? { parallelism: options.parallelism } : {}),
    ...(options.snapshot === false ? { snapshot: false } : {}),
    ...(options.stopOnFailure ? { stopOnFailure: true } : {}),
  });
  return {
    ...failureOf(result),
    text: formatResetResult(result),
    json: resetResultToJson(result),
  };
}

export function parseStrategyName(name: string): ResetStrategyKind {
  const kind = RESET_STRATEGIES.find((s) => s === name.toLowerCase());
  if (!kind)
    throw new OffsetsUsageError(
      `unknown reset strategy '${name}': use one of ${RESET_STRATEGIES.join(', ')}`,
    );
  return kind;
}

async function resolveStrategy(o: ResetCommandOptions, deps: OffsetsDeps): Promise<ResetStrategy> {
  const kind = parseStrategyName(o.strategy);
  switch (kind) {
    case 'to-earliest':
    case 'to-latest':
      return { kind };
    case 'to-timestamp':
      return { kind, timestamp: parseTimestamp(required(o.timestamp, '--timestamp', kind)) };
    case 'to-offset':
      return { kind, offset: parseInteger(required(o.offset, '--offset', kind), '--offset', true) };
    case 'shift-by':
      return { kind, shift: parseInteger(required(o.shift, '--shift', kind), '--shift', false) };
    case 'from-snapshot': {
      const s = await readSnapshot(storeOf(deps), required(o.snapshotId, '--snapshot-id', kind));
      return { kind, offsets: s.groups };
    }
    case 'from-mapping': {
      const backupId = required(o.backupId, '--backup-id', kind);
      if (!deps.openBackup)
        throw new OffsetsUsageError('from-mapping needs the backup storage to be configured');
      const backup = await deps.openBackup(backupId);
      const mapping = await loadOffsetMapping(backup, o.restoreId);
      const snapshot = await loadBackupGroupSnapshot(backup);
      if (!snapshot) {
        throw new OffsetsUsageError(
          `backup '${backupId}' has no consumer-group snapshot: back up with consumerGroupSnapshot enabled`,
        );
      }
      return { kind, mapping: mapping.partitions, sourceOffsets: snapshot.groups };
    }
  }
}

function required(value: string | undefined, flag: string, strategy: string): string {
  if (value === undefined || value === '') throw new OffsetsUsageError(`strategy ${strategy} needs ${flag}`);
  return value;
}

export function parseTimestamp(text: string): bigint {
  if (/^\d+$/.test(text)) return BigInt(text);
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) {
    throw new OffsetsUsageError(
      `'${text}' is neither epoch milliseconds nor an RFC 3339 date (e.g. 2026-01-31T12:00:00Z)`,
    );
  }
  return BigInt(ms);
}

function parseInteger(text: string, flag: string, nonNegative: boolean): bigint {
  if (!/^-?\d+$/.test(text) || (nonNegative && text.startsWith('-'))) {
    throw new OffsetsUsageError(
      `${flag} must be ${nonNegative ? 'a non-negative' : 'an'} integer, got '${text}'`,
    );
  }
  return BigInt(text);
}

export function formatResetResult(r: ResetResult): string {
  const lines = [formatResetPlan(r.plan)];
  if (r.status === 'planned') {
    lines.push('Dry run: nothing was committed.');
    return lines.join('\n');
  }
  lines.push(
    r.snapshotId
      ? `Snapshot before the reset: ${r.snapshotId} (undo with: kafka-backup offsets rollback --snapshot-id ${r.snapshotId})`
      : 'No snapshot was taken before the reset (snapshotBeforeReset: false).',
  );
  for (const g of r.groups) lines.push(`  ${g.group}: ${g.status}${g.error ? ` - ${g.error}` : ''}`);
  lines.push(...formatMismatches(r.mismatches));
  lines.push(
    r.status === 'completed' ? 'Reset completed.' : 'Reset FAILED: see the groups and mismatches above.',
  );
  return lines.join('\n');
}

export function resetResultToJson(r: ResetResult): unknown {
  return {
    status: r.status,
    plan: resetPlanToJson(r.plan),
    snapshotId: r.snapshotId ?? null,
    /** Where the snapshot is stored (its object key in the backup storage). */
    snapshotKey: r.snapshotKey ?? null,
    groups: r.groups,
    mismatches: mismatchesToJson(r.mismatches),
    parallelism: r.parallelism,
  };
}

export interface RollbackCommandOptions {
  readonly snapshotId: string;
  readonly groups?: readonly string[];
  readonly dryRun?: boolean;
  /** Default true. */
  readonly verify?: boolean;
  readonly parallelism?: number;
}

export async function runOffsetsRollback(
  options: RollbackCommandOptions,
  deps: OffsetsDeps,
): Promise<CommandResult> {
  if (!options.snapshotId) throw new OffsetsUsageError('name the snapshot to roll back to (--snapshot-id)');
  const r = await rollbackOffsets(adminOf(deps), storeOf(deps), {
    snapshotId: options.snapshotId,
    ...(options.groups?.length ? { groups: options.groups } : {}),
    ...(options.dryRun ? { dryRun: true } : {}),
    ...(options.verify === false ? { verify: false } : {}),
    ...(options.parallelism ? { parallelism: options.parallelism } : {}),
  });
  return {
    ...failureOf(r),
    text: formatRollbackResult(r),
    json: rollbackResultToJson(r),
  };
}

export function formatRollbackResult(r: RollbackResult): string {
  const lines = [`Rollback to snapshot ${r.snapshotId}:`];
  for (const c of r.changes) {
    lines.push(`  group ${c.group}: commit ${c.commit.length} offset(s), remove ${c.remove.length}`);
    for (const o of c.commit) lines.push(`    ${o.topic}/${o.partition} -> ${o.offset}`);
    for (const o of c.remove) lines.push(`    ${o.topic}/${o.partition}: remove commit ${o.current}`);
  }
  if (r.status === 'planned') return [...lines, 'Dry run: nothing was committed.'].join('\n');
  for (const g of r.groups) lines.push(`  ${g.group}: ${g.status}${g.error ? ` - ${g.error}` : ''}`);
  lines.push(...formatMismatches(r.mismatches));
  if (!r.verified) lines.push('Not verified (--no-verify).');
  lines.push(
    r.status === 'completed'
      ? 'Rollback completed.'
      : 'Rollback FAILED: see the groups and mismatches above.',
  );
  return lines.join('\n');
}

export function rollbackResultToJson(r: RollbackResult): unknown {
  return {
    status: r.status,
    snapshotId: r.snapshotId,
    changes: r.changes.map((c) => ({
      group: c.group,
      commit: c.commit.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset.toString() })),
      remove: c.remove.map((o) => ({
        topic: o.topic,
        partition: o.partition,
        current: o.current.toString(),
      })),
    })),
    groups: r.groups,
    mismatches: mismatchesToJson(r.mismatches),
    verified: r.verified,
  };
}

export function failureOf(r: { groups: readonly { status: string }[]; mismatches: readonly unknown[] }): {
  failure?: ResultFailure;
} {
  if (r.groups.some((g) => g.status === 'failed')) return { failure: 'commit-failed' };
  return r.mismatches.length > 0 ? { failure: 'offsets-changed' } : {};
}

function formatMismatches(ms: readonly OffsetMismatch[]): string[] {
  if (ms.length === 0) return [];
  return [
    `${ms.length} mismatch(es) after committing:`,
    ...ms.map(
      (m) =>
        `  ${m.group} ${m.topic}/${m.partition}: expected ${m.expected ?? '(none)'}, found ${m.actual ?? '(none)'}`,
    ),
  ];
}

function mismatchesToJson(ms: readonly OffsetMismatch[]): unknown[] {
  return ms.map((m) => ({
    group: m.group,
    topic: m.topic,
    partition: m.partition,
    expected: m.expected?.toString() ?? null,
    actual: m.actual?.toString() ?? null,
  }));
}

export async function runOffsetsShowMapping(
  options: { backupId: string; restoreId?: string },
  deps: Pick<OffsetsDeps, 'openBackup'>,
): Promise<CommandResult> {
  if (!deps.openBackup) throw new OffsetsUsageError('show-mapping needs the backup storage to be configured');
  const mapping = await loadOffsetMapping(await deps.openBackup(options.backupId), options.restoreId);
  return { text: formatOffsetMapping(mapping), json: offsetMappingToDocument(mapping) };
}
