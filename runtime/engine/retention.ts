import { BackupNotFoundError } from '../format/errors.ts';
import { checkBackupId } from '../format/keys.ts';
import type { BackupRepository, PruneResult } from '../format/repository.ts';
import { checkRetentionPolicy, type RetentionPolicy } from '../format/retention-plan.ts';
import type { EncryptionKey } from '../format/types.ts';
import { type Logger, silentLogger } from '../log.ts';
import { backupLeasePrefix } from './backup.ts';
import { RunLeaseConflict } from './errors.ts';
import { liveLeases, RunLease } from './run-lease.ts';

export interface RetentionOptions {
  readonly backupId: string;
  readonly policy: RetentionPolicy;
  /** Decide and report only: nothing is written, deleted, or leased. */
  readonly dryRun?: boolean;
  /** Needed to open an encrypted backup (its key id is checked); segments are never decrypted. */
  readonly encryption?: EncryptionKey;
  /** Lifetime of the run lease held while pruning. Default 30 s. */
  readonly leaseTtlMs?: number;
  /** Epoch ms that maxAgeDays counts back from. */
  readonly now?: number;
}

/**
 * One retention pass over a backup: prunes the runs the policy makes eligible (Backup.prune). It holds
 * the backup's run lease — the one every backup run holds — for the whole pass, so a prune and a run
 * never overlap: a run going now makes the pass wait for it (or refuse with a conflict naming it).
 * A backup that does not exist yet holds nothing to prune.
 */
export async function runRetention(
  deps: { readonly repository: BackupRepository; readonly log?: Logger },
  options: RetentionOptions,
): Promise<PruneResult> {
  const log = deps.log ?? silentLogger;
  const backupId = checkBackupId(options.backupId);
  const policy = checkRetentionPolicy(options.policy);
  const open = options.encryption ? { encryption: options.encryption } : {};
  const prune = async (assertWriter?: () => void): Promise<PruneResult> => {
    let backup: Awaited<ReturnType<BackupRepository['openForWrite']>>;
    try {
      backup = await deps.repository.openForWrite(backupId, open);
    } catch (error) {
      if (error instanceof BackupNotFoundError) return nothingStored(backupId, options.dryRun === true);
      throw error;
    }
    return backup.prune(policy, {
      dryRun: options.dryRun === true,
      ...(options.now !== undefined ? { now: options.now } : {}),
      ...(assertWriter ? { assertWriter } : {}),
    });
  };

  let result: PruneResult;
  if (options.dryRun) {
    result = await prune();
  } else {
    const lease = await RunLease.acquire(deps.repository.store, backupLeasePrefix(backupId), {
      subject: `retention of backup ${backupId}`,
      log,
      ...(options.leaseTtlMs !== undefined ? { ttlMs: options.leaseTtlMs } : {}),
    });
    try {
      await refuseWhileRestoring(deps.repository, backupId);
      result = await prune(() => lease.assertHeld());
    } finally {
      await lease.release();
    }
  }
  log.info('retention pass', {
    backupId,
    dryRun: result.dryRun,
    inspectedRuns: result.plan.decisions.length,
    eligibleRuns: result.plan.eligible.length,
    prunedRuns: result.prunedRuns.length,
    deletedObjects: result.deletedObjects,
    reclaimedBytes: result.reclaimedBytes,
  });
  return result;
}

/**
 * A restore reading this backup now may still need segments the pass would delete: the pass waits
 * (a retriable conflict) and the next one prunes. A restore that starts after the prune commit reads
 * the pruned manifest, so only restores that hold their lease already matter.
 */
async function refuseWhileRestoring(repository: BackupRepository, backupId: string): Promise<void> {
  const restoring = await liveLeases(repository.store, `${backupId}/leases/restore/`);
  const first = restoring[0];
  if (!first) return;
  const restoreId = first.prefix.split('/').at(-2);
  throw new RunLeaseConflict(
    `retention of backup ${backupId} waits: restore ${restoreId} is reading it (${first.holder}, since ` +
      `${first.since})${restoring.length > 1 ? ` with ${restoring.length - 1} more` : ''}, and may need the runs ` +
      'it would delete. Nothing was deleted; the next retention pass prunes.',
  );
}

function nothingStored(backupId: string, dryRun: boolean): PruneResult {
  return {
    backupId,
    dryRun,
    plan: { decisions: [], eligible: [] },
    eligibleBytes: 0,
    prunedRuns: [],
    deletedObjects: 0,
    reclaimedBytes: 0,
  };
}
