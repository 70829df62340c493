import type { BackupRepository } from '../format/repository.ts';
import type { KafkaConnectionConfig } from '../kafka/connection.ts';
import { type CommandResult, formatResetResult, OFFSETS_EXIT, resetResultToJson } from './commands.ts';
import { openMappingSource } from './mapping-store.ts';
import { PlatformaticGroupAdmin } from './platformatic-group-admin.ts';
import { translateRestoredGroups } from './restore-translation.ts';

/**
 * One call for the restore command and the operator: after a (non dry-run) restore with
 * `autoConsumerGroups` (or `offsetReset.consumerGroups`), translate and commit the groups' offsets on
 * the target cluster. The pre-commit snapshot goes to the backup storage.
 */
export async function consumerGroupsAfterRestore(
  target: KafkaConnectionConfig,
  repository: BackupRepository,
  restore: { readonly backupId: string; readonly restoreId: string; readonly dryRun: boolean },
  options: { readonly groups?: readonly string[]; readonly parallelism?: number } = {},
): Promise<CommandResult> {
  if (restore.dryRun) {
    return {
      exitCode: OFFSETS_EXIT.ok,
      text: "Dry run: after the restore, the groups' committed offsets would be translated and committed.",
      json: null,
    };
  }
  const admin = new PlatformaticGroupAdmin(target);
  try {
    const backup = await openMappingSource(repository, restore.backupId);
    const result = await translateRestoredGroups(admin, repository.store, backup, {
      restoreId: restore.restoreId,
      ...(options.groups?.length ? { groups: options.groups } : {}),
      ...(options.parallelism ? { parallelism: options.parallelism } : {}),
    });
    if (!result)
      return { exitCode: OFFSETS_EXIT.ok, text: 'No consumer groups in the backup snapshot.', json: null };
    const failed = result.groups.some((g) => g.status === 'failed');
    return {
      exitCode: failed
        ? OFFSETS_EXIT.commitFailed
        : result.mismatches.length > 0
          ? OFFSETS_EXIT.mismatch
          : OFFSETS_EXIT.ok,
      text: formatResetResult(result),
      json: resetResultToJson(result),
    };
  } finally {
    await admin.close();
  }
}
