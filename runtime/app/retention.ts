import { backupConfigFromSpec } from '../config/load.ts';
import { runRetention } from '../engine/retention.ts';
import { BackupRepository, type PruneResult } from '../format/repository.ts';
import { UsageError } from './errors.ts';
import { type AppPorts, openRunStore, type RunControls, withStore } from './ports.ts';

/**
 * A retention pass of a KafkaBackup (`spec.retention`): deletes the runs its limits make eligible,
 * holding the backup's run lease, so it never overlaps a run of the same backup. `dryRun` (or the
 * spec's `retention.dryRun`) only reports. Kafka is not contacted.
 */
export async function retention(
  spec: unknown,
  ports: AppPorts,
  run: Pick<RunControls, 'context'> & { readonly dryRun?: boolean } = {},
): Promise<PruneResult> {
  const context = run.context ?? { source: 'KafkaBackup spec' };
  const config = await backupConfigFromSpec(spec, ports.secrets, context);
  if (!config.retention) {
    throw new UsageError(
      `${context.source}: retention is not enabled; set retention.enabled: true with retention.keepLast, ` +
        'retention.maxAgeDays or both',
    );
  }
  const { dryRun, minSuccessful, keepLast, maxAgeDays } = config.retention;
  return withStore(openRunStore(ports, config), (store) =>
    runRetention(
      { repository: new BackupRepository(store), log: ports.log },
      {
        backupId: config.options.backupId,
        policy: {
          minSuccessful,
          ...(keepLast !== undefined ? { keepLast } : {}),
          ...(maxAgeDays !== undefined ? { maxAgeDays } : {}),
        },
        dryRun: run.dryRun === true || dryRun,
        ...(config.options.encryption ? { encryption: config.options.encryption } : {}),
      },
    ),
  );
}
