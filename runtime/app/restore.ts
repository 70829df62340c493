import { restoreConfigFromSpec } from '../config/load.ts';
import { meterOptions } from '../config/metrics.ts';
import { type RestoreResult, runRestore } from '../engine/restore.ts';
import { BackupRepository } from '../format/repository.ts';
import { handleOffsetsAfterRestore } from '../offsets/after-restore.ts';
import type { CommandResult } from '../offsets/commands.ts';
import {
  type AppPorts,
  metered,
  openRunStore,
  type RunControls,
  runHooks,
  withKafka,
  withStore,
} from './ports.ts';

export interface RestoreRunResult extends RestoreResult {
  /** The consumer group offsets handled after the data (autoConsumerGroups, offsetReset), if asked. */
  readonly consumerGroups?: CommandResult;
}

/**
 * One run of a KafkaRestore: `spec` is the resource's spec as plain JSON with the concrete backup
 * (`backupRef.storage`, `backupRef.backupId`): the operator resolves `backupRef.name` beforehand.
 * A run stopped through `signal` returns `outcome: 'interrupted'` (rerunning resumes) and leaves
 * consumer groups alone; failures throw, to be classified by classify().
 */
export async function restore(
  spec: unknown,
  ports: AppPorts,
  run: RunControls & { readonly dryRun?: boolean } = {},
): Promise<RestoreRunResult> {
  const config = await restoreConfigFromSpec(
    spec,
    ports.secrets,
    run.context ?? { source: 'KafkaRestore spec' },
  );
  const dryRun = run.dryRun === true || config.options.dryRun === true;
  // A dry run moves nothing: no meter.
  return metered(run, dryRun ? undefined : meterOptions(config.metrics), (meter) =>
    withStore(openRunStore(ports, config, meter), (store) => {
      const repository = new BackupRepository(store);
      const connect = {
        produceAcks: config.produceAcks,
        produceTimeoutMs: config.produceTimeoutMs,
        ...(meter ? { onRetry: (kind: string) => meter.retried('kafka', kind) } : {}),
      };
      return withKafka(ports, config.kafka, connect, async (kafka) => {
        const result = await runRestore(
          { kafka, repository, log: ports.log, ...runHooks(run, meter) },
          { ...config.options, dryRun, ...(run.signal ? { signal: run.signal } : {}) },
        );
        // Offsets are translated through the mapping, which only a completed restore writes.
        if (result.outcome !== 'complete') return result;
        const consumerGroups = await handleOffsetsAfterRestore(
          config.offsetHandling,
          kafka,
          repository,
          result,
        );
        return consumerGroups ? { ...result, consumerGroups } : result;
      });
    }),
  );
}
