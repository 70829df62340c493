import type { SpecContext } from '../config/load.ts';
import {
  type OffsetResetConfig,
  type OffsetRollbackConfig,
  type OperationTarget,
  offsetResetConfigFromSpec,
  offsetRollbackConfigFromSpec,
} from '../config/operations.ts';
import { BackupRepository } from '../format/repository.ts';
import {
  type CommandResult,
  type OffsetsDeps,
  runOffsetsReset,
  runOffsetsRollback,
  runOffsetsShowMapping,
  runOffsetsSnapshot,
  type SnapshotCommandOptions,
} from '../offsets/commands.ts';
import { OffsetsUsageError } from '../offsets/errors.ts';
import { openMappingSource } from '../offsets/mapping-store.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { type AppPorts, withKafka, withStore } from './ports.ts';

/**
 * The consumer-offset use cases: KafkaOffsetReset and KafkaOffsetRollback from their specs, and the
 * same operations from a parsed configuration (the CLI merges its flags into one). Names of other
 * resources are not resolved here: the snapshot id, backup id and storage come concrete.
 */

export interface OffsetResetRequest extends Omit<OffsetResetConfig, 'timestamp' | 'offset' | 'shift'> {
  /** to-timestamp: epoch ms or an RFC 3339 date. */
  readonly timestamp?: string;
  readonly offset?: string;
  readonly shift?: string;
  readonly partitions?: readonly number[];
  /** from-mapping: the restore whose mapping is used (default: the backup's only restore). */
  readonly restoreId?: string;
}

export interface OffsetRollbackRequest extends OffsetRollbackConfig {
  readonly parallelism?: number;
}

export async function offsetReset(
  spec: unknown,
  ports: AppPorts,
  context: SpecContext = { source: 'KafkaOffsetReset spec' },
): Promise<CommandResult> {
  return resetOffsetsWith(
    resetRequestOf(await offsetResetConfigFromSpec(spec, ports.secrets, context)),
    ports,
  );
}

export async function offsetRollback(
  spec: unknown,
  ports: AppPorts,
  context: SpecContext = { source: 'KafkaOffsetRollback spec' },
): Promise<CommandResult> {
  return rollbackOffsetsWith(await offsetRollbackConfigFromSpec(spec, ports.secrets, context), ports);
}

/** The request form of a parsed spec (numbers as the text the strategy parser reads). */
export function resetRequestOf(config: OffsetResetConfig): OffsetResetRequest {
  const { timestamp, offset, shift, ...rest } = config;
  return {
    ...rest,
    ...(timestamp !== undefined ? { timestamp: timestamp.toString() } : {}),
    ...(offset !== undefined ? { offset: offset.toString() } : {}),
    ...(shift !== undefined ? { shift: shift.toString() } : {}),
  };
}

export async function resetOffsetsWith(request: OffsetResetRequest, ports: AppPorts): Promise<CommandResult> {
  const strategy = request.strategy;
  if (!strategy)
    throw new OffsetsUsageError('the reset strategy is required: set resetStrategy (or --strategy)');
  // Only the snapshot and the from-* strategies read storage: without them none is needed.
  const needsStorage =
    request.snapshotBeforeReset !== false ||
    ['from-mapping', 'from-snapshot'].includes(strategy.toLowerCase());
  return withOffsets(
    request,
    ports,
    (deps) =>
      runOffsetsReset(
        {
          groups: request.groups,
          topics: request.topics,
          partitions: request.partitions ?? [],
          strategy,
          ...(request.timestamp ? { timestamp: request.timestamp } : {}),
          ...(request.offset ? { offset: request.offset } : {}),
          ...(request.shift ? { shift: request.shift } : {}),
          ...(request.backupId ? { backupId: request.backupId } : {}),
          ...(request.restoreId ? { restoreId: request.restoreId } : {}),
          ...(request.snapshotId ? { snapshotId: request.snapshotId } : {}),
          dryRun: request.dryRun,
          ...(request.parallelism ? { parallelism: request.parallelism } : {}),
          ...(request.snapshotBeforeReset === false ? { snapshot: false } : {}),
          ...(request.continueOnError === false ? { stopOnFailure: true } : {}),
        },
        deps,
      ),
    { storageOptional: !needsStorage },
  );
}

export async function rollbackOffsetsWith(
  request: OffsetRollbackRequest,
  ports: AppPorts,
): Promise<CommandResult> {
  const snapshotId = request.snapshotId;
  if (!snapshotId) {
    throw new OffsetsUsageError(
      'the snapshot to roll back to is required: set snapshotRef.name (or --snapshot-id)',
    );
  }
  return withOffsets(request, ports, (deps) =>
    runOffsetsRollback(
      {
        snapshotId,
        groups: request.groups,
        dryRun: request.dryRun,
        verify: request.verify,
        ...(request.parallelism ? { parallelism: request.parallelism } : {}),
      },
      deps,
    ),
  );
}

/** Takes (or lists, or shows) an offset snapshot in the storage. */
export async function offsetSnapshot(
  target: OperationTarget,
  options: SnapshotCommandOptions,
  ports: AppPorts,
): Promise<CommandResult> {
  return withOffsets(target, ports, (deps) => runOffsetsSnapshot(options, deps));
}

export async function showOffsetMapping(
  target: OperationTarget,
  options: { readonly backupId: string; readonly restoreId?: string },
  ports: AppPorts,
): Promise<CommandResult> {
  return withStore(openStorage(target, ports), (store) =>
    runOffsetsShowMapping(options, { openBackup: backupOpener(store) }),
  );
}

/** Opens the storage and, when the target names one, a connection to the cluster for `run`. */
async function withOffsets(
  target: OperationTarget,
  ports: AppPorts,
  run: (deps: OffsetsDeps) => Promise<CommandResult>,
  options: { readonly storageOptional?: boolean } = {},
): Promise<CommandResult> {
  const store = options.storageOptional && !target.storage ? undefined : await openStorage(target, ports);
  const deps: OffsetsDeps = store ? { store, openBackup: backupOpener(store) } : {};
  try {
    if (!target.kafka) return await run(deps);
    return await withKafka(ports, target.kafka, {}, (admin) => run({ ...deps, admin }));
  } finally {
    store?.close?.();
  }
}

async function openStorage(target: OperationTarget, ports: AppPorts): Promise<ObjectStore> {
  if (!target.storage) {
    throw new OffsetsUsageError(
      'storage is required (storage, backupRef.storage or snapshotRef.storage): offset snapshots and mappings live there',
    );
  }
  return ports.openStore(target.storage);
}

function backupOpener(store: ObjectStore): OffsetsDeps['openBackup'] {
  const repository = new BackupRepository(store);
  return (backupId) => openMappingSource(repository, backupId);
}
