/**
 * Storage is the source of truth (as in Velero): what a KafkaBackup's status says its backup holds
 * is read from the bucket, not remembered, so a fresh cluster that applies the same resource from
 * Git lists the runs already stored.
 */
import { type AppPorts, withStore } from '../../app/index.ts';
import { backupConfigFromSpec } from '../../config/load.ts';
import { BackupNotFoundError } from '../../format/errors.ts';
import { BackupRepository } from '../../format/repository.ts';
import type { BackupManifest } from '../../format/types.ts';

/** The newest runs listed in status (the CRD's maxItems). */
export const STORED_RUNS_LISTED = 50;

export interface StoredRun {
  readonly id: string;
  readonly startTime: string;
  readonly lastCommitTime: string;
  readonly records: number;
  readonly bytes: number;
  readonly segments: number;
}

/** The status fields read from storage; absent recoverability points when nothing is stored yet. */
export interface StoredState {
  readonly backupId: string;
  readonly storedRuns: StoredRun[];
  readonly storedRunCount: number;
  readonly storedRecords: number;
  readonly storedBytes: number;
  readonly firstRecoverabilityPoint: string | null;
  readonly lastRecoverabilityPoint: string | null;
}

/** Reads the backup the spec names; a backup not created yet holds nothing. */
export async function readStoredState(
  spec: unknown,
  ports: AppPorts,
  context: { source: string; name: string },
): Promise<StoredState> {
  const config = await backupConfigFromSpec(spec, ports.secrets, context);
  const backupId = config.options.backupId;
  return withStore(ports.openStore(config.storage), async (store) => {
    try {
      const backup = await new BackupRepository(store).open(
        backupId,
        config.options.encryption ? { encryption: config.options.encryption } : {},
      );
      return summarize(backupId, await backup.manifest());
    } catch (error) {
      if (error instanceof BackupNotFoundError) return summarize(backupId, undefined);
      throw error;
    }
  });
}

/** Runs oldest first, and the time range of the stored records (what a restore can reach). */
export function summarize(backupId: string, manifest: BackupManifest | undefined): StoredState {
  const runs = [...(manifest?.runs ?? [])].sort((a, b) => a.startedAt - b.startedAt);
  let min: bigint | undefined;
  let max: bigint | undefined;
  let records = 0;
  let bytes = 0;
  for (const topic of manifest?.topics ?? []) {
    for (const partition of topic.partitions) {
      records += partition.recordCount;
      bytes += partition.bytes;
      for (const s of partition.segments) {
        if (s.recordCount === 0) continue;
        if (min === undefined || s.minTimestamp < min) min = s.minTimestamp;
        if (max === undefined || s.maxTimestamp > max) max = s.maxTimestamp;
      }
    }
  }
  const iso = (ms: bigint | undefined) => (ms === undefined ? null : new Date(Number(ms)).toISOString());
  return {
    backupId,
    storedRuns: runs.slice(-STORED_RUNS_LISTED).map((r) => ({
      id: r.runId,
      startTime: new Date(r.startedAt).toISOString(),
      lastCommitTime: new Date(r.lastCommittedAt).toISOString(),
      records: r.recordCount,
      bytes: r.bytes,
      segments: r.segmentCount,
    })),
    storedRunCount: runs.length,
    storedRecords: records,
    storedBytes: bytes,
    firstRecoverabilityPoint: iso(min),
    lastRecoverabilityPoint: iso(max),
  };
}
