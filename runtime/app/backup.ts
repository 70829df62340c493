import { backupConfigFromSpec } from '../config/load.ts';
import { type BackupResult, runBackup } from '../engine/backup.ts';
import { BackupRepository } from '../format/repository.ts';
import { type AppPorts, openRunStore, type RunControls, withKafka } from './ports.ts';

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
  const store = await openRunStore(ports, config);
  return withKafka(ports, config.kafka, {}, (kafka) =>
    runBackup(
      {
        kafka,
        repository: new BackupRepository(store),
        log: ports.log,
        ...(run.onProgress ? { onProgress: run.onProgress } : {}),
        ...(run.onCheckpoint ? { onCheckpoint: run.onCheckpoint } : {}),
      },
      { ...config.options, ...(run.signal ? { signal: run.signal } : {}) },
    ),
  );
}
