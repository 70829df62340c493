import type { BackupRepository } from '../format/repository.ts';
import { type CommandResult, failureOf, formatResetResult, resetResultToJson } from './commands.ts';
import { ActiveGroupError, type ConsumerGroupAdmin } from './group-admin.ts';
import { openMappingSource } from './mapping-store.ts';
import { translateRestoredGroups } from './restore-translation.ts';

/**
 * One call for the restore command and the operator: after a (non dry-run) restore with
 * `autoConsumerGroups` (or `offsetReset.consumerGroups`), translate and commit the groups' offsets on
 * the target cluster (through `admin`, the restore's own connection). The pre-commit snapshot goes
 * to the backup storage.
 */
export async function consumerGroupsAfterRestore(
  admin: ConsumerGroupAdmin,
  repository: BackupRepository,
  restore: { readonly backupId: string; readonly restoreId: string; readonly dryRun: boolean },
  options: {
    readonly groups?: readonly string[];
    readonly parallelism?: number;
    /** Snapshot before committing (KafkaRestore rollback.snapshotBeforeRestore). @default true */
    readonly snapshot?: boolean;
  } = {},
): Promise<CommandResult> {
  if (restore.dryRun) {
    return {
      text: "Dry run: after the restore, the groups' committed offsets would be translated and committed.",
      json: null,
    };
  }
  const backup = await openMappingSource(repository, restore.backupId);
  const result = await translateRestoredGroups(admin, repository.store, backup, {
    restoreId: restore.restoreId,
    ...(options.groups?.length ? { groups: options.groups } : {}),
    ...(options.parallelism ? { parallelism: options.parallelism } : {}),
    ...(options.snapshot === false ? { snapshot: false } : {}),
  });
  if (!result) return { text: 'No consumer groups in the backup snapshot.', json: null };
  return {
    ...failureOf(result),
    text: formatResetResult(result),
    json: resetResultToJson(result),
  };
}

/**
 * What a KafkaRestore spec asks for after the data (read by restoreConfigFromSpec in
 * runtime/config/load.ts, before the restore starts, so an unsupported choice fails early).
 */
export interface RestoreOffsetHandling {
  readonly mode: 'none' | 'commit' | 'plan';
  /** Undefined: every group of the snapshot. */
  readonly groups?: readonly string[];
  /** rollback.snapshotBeforeRestore: store the groups' offsets before committing. @default true */
  readonly snapshot?: boolean;
}

/** Runs the handling after a finished restore; undefined when nothing was asked. */
export async function handleOffsetsAfterRestore(
  handling: RestoreOffsetHandling,
  admin: ConsumerGroupAdmin,
  repository: BackupRepository,
  restore: { readonly backupId: string; readonly restoreId: string; readonly dryRun: boolean },
): Promise<CommandResult | undefined> {
  if (handling.mode === 'none') return undefined;
  try {
    return await runHandling(handling, admin, repository, restore);
  } catch (error) {
    if (!(error instanceof ActiveGroupError)) throw error;
    // The data is restored; only the offsets wait for the consumers to stop.
    return {
      failure: 'offsets-changed',
      text:
        `The restore completed, but the consumer group offsets were not changed: ${error.message}\n` +
        `Once they are stopped: kafka-backup offsets reset --strategy from-mapping --backup-id ${restore.backupId} ` +
        `--restore-id ${restore.restoreId} --config FILE`,
      json: { status: 'refused', error: error.message },
    };
  }
}

async function runHandling(
  handling: RestoreOffsetHandling,
  admin: ConsumerGroupAdmin,
  repository: BackupRepository,
  restore: { readonly backupId: string; readonly restoreId: string; readonly dryRun: boolean },
): Promise<CommandResult | undefined> {
  if (handling.mode === 'plan' && !restore.dryRun) {
    const backup = await openMappingSource(repository, restore.backupId);
    const result = await translateRestoredGroups(admin, repository.store, backup, {
      restoreId: restore.restoreId,
      ...(handling.groups?.length ? { groups: handling.groups } : {}),
      dryRun: true,
    });
    return result ? { text: formatResetResult(result), json: resetResultToJson(result) } : undefined;
  }
  return consumerGroupsAfterRestore(admin, repository, restore, {
    ...(handling.groups ? { groups: handling.groups } : {}),
    ...(handling.snapshot === false ? { snapshot: false } : {}),
  });
}
