import { backupConfigFromSpec } from '../config/load.ts';
import { meterOptions } from '../config/metrics.ts';
import { type BackupResult, runBackup } from '../engine/backup.ts';
import { BackupRepository } from '../format/repository.ts';
import {
  type AppPorts,
  metered,
  openRunStore,
  type RunControls,
  runHooks,
  withKafka,
  withStore,
} from './ports.ts';

/**
 * One run of a KafkaBackup: `spec` is the resource's spec as plain JSON. A run stopped through
 * `signal` returns `outcome: 'interrupted'` (one-shot) or `complete` (continuous: everything read is
 * committed); failures throw, to be classified by classify() (runtime/app/errors.ts).
 */
export async function backup(spec: unknown, ports: AppPorts, run: RunControls = {}): Promise<BackupResult> {
  const config = await backupConfigFromSpec(
    spec,
    ports.secrets,
    run.context ?? { source: 'KafkaBackup spec' },
  );
  return metered(run, meterOptions(config.metrics), async (meter) => {
    const connect = meter ? { onRetry: (kind: string) => meter.retried('kafka', kind) } : {};
    return withStore(openRunStore(ports, config, meter), (store) =>
      withKafka(ports, config.kafka, connect, (kafka) =>
        runBackup(
          { kafka, repository: new BackupRepository(store), log: ports.log, ...runHooks(run, meter) },
          { ...config.options, ...(run.signal ? { signal: run.signal } : {}) },
        ),
      ),
    );
  });
}
