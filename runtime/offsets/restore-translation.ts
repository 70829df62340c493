import type { ObjectStore } from '../storage/object-store.ts';
import { loadBackupGroupSnapshot } from './backup-group-snapshot.ts';
import type { ConsumerGroupAdmin } from './group-admin.ts';
import { loadOffsetMapping, type MappingSource } from './mapping-store.ts';
import { type ResetResult, resetOffsets } from './operations.ts';

/**
 * `autoConsumerGroups` after a restore: every group of the backup's consumer-group snapshot (or the
 * chosen ones) gets its committed offsets translated through the restore's mapping and committed on
 * the target cluster, with the same safety as any reset (active groups refused, durable snapshot
 * first, verification after). Call it once the restore has finished.
 */
export interface TranslateRestoredGroupsOptions {
  readonly restoreId: string;
  /** Default: every group in the backup's snapshot. */
  readonly groups?: readonly string[];
  readonly dryRun?: boolean;
  readonly parallelism?: number;
  /** Snapshot the groups' offsets before committing, for a rollback. @default true */
  readonly snapshot?: boolean;
}

export async function translateRestoredGroups(
  admin: ConsumerGroupAdmin,
  store: ObjectStore,
  backup: MappingSource,
  options: TranslateRestoredGroupsOptions,
): Promise<ResetResult | undefined> {
  const mapping = await loadOffsetMapping(backup, options.restoreId);
  const snapshot = await loadBackupGroupSnapshot(backup);
  if (!snapshot) {
    throw new Error(
      `backup '${backup.backupId}' has no consumer-group snapshot, so autoConsumerGroups has nothing to translate: ` +
        'back up with consumerGroupSnapshot enabled',
    );
  }
  const groups = options.groups?.length ? [...options.groups] : [...snapshot.groups.keys()];
  const missing = groups.filter((g) => !snapshot.groups.has(g));
  if (missing.length > 0) {
    throw new Error(
      `backup '${backup.backupId}' has no committed offsets for group(s) ${missing.join(', ')}`,
    );
  }
  if (groups.length === 0) return undefined;
  return resetOffsets(admin, store, {
    strategy: { kind: 'from-mapping', mapping: mapping.partitions, sourceOffsets: snapshot.groups },
    selection: { groups },
    ...(options.dryRun ? { dryRun: true } : {}),
    ...(options.parallelism ? { parallelism: options.parallelism } : {}),
    ...(options.snapshot === false ? { snapshot: false } : {}),
  });
}
