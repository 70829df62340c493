/**
 * KafkaRestore: resolves `backupRef` (a KafkaBackup by name, or storage given directly), publishes
 * the plan (a dry run of the restore: the backup is read and planned, nothing written), waits for
 * approval with policy Manual, then runs the restore use case in the runner, with progress in status.
 */
import { createHash } from 'node:crypto';
import { resultStatus } from '../../app/errors.ts';
import { productionPorts, withStore } from '../../app/ports.ts';
import { type RestoreRunResult, restore } from '../../app/restore.ts';
import { storageConfigFromSpec } from '../../config/load.ts';
import type { SecretResolver } from '../../config/secrets.ts';
import type { Progress } from '../../engine/progress.ts';
import type { Logger } from '../../log.ts';
import { type LiveRunMetrics, liveRunMetricsOf } from '../../metrics/live-run-metrics.ts';
import { runMetricsOf } from '../../metrics/run-metrics.ts';
import type { CommandResult } from '../../offsets/commands.ts';
import { snapshotKey } from '../../offsets/snapshot-store.ts';
import { apiSecrets } from '../api-secrets.ts';
import type { Controller, ReconcileContext } from '../controller.ts';
import type { ControllerDeps } from '../main.ts';
import { KAFKA_KINDS, type KubeObject, RERUN_ANNOTATION } from '../resource.ts';
import { ownerOf, secretsOf } from '../runs/run-request.ts';
import { restoreWork } from '../runs/run-work.ts';
import { statusOf, writeStatus } from '../status.ts';
import { type OneShotKind, type Outcome, oneShotController } from './one-shot.ts';
import { type BackupRefSpec, resolveBackupRef } from './references.ts';

/** A restore run, and the rollback of its consumer offsets when committing them failed. */
export interface RestoreRun extends RestoreRunResult {
  readonly rolledBack?: CommandResult;
}

interface RestoreSpec {
  readonly backupRef?: BackupRefSpec;
  readonly kafkaCluster?: unknown;
  readonly rollback?: { readonly autoRollbackOnFailure?: boolean; readonly snapshotRetentionHours?: number };
  readonly purgeTopics?: boolean;
  readonly dryRun?: boolean;
  readonly autoConsumerGroups?: boolean;
  readonly activeDeadlineSeconds?: number;
  readonly offsetReset?: {
    readonly enabled?: boolean;
    readonly strategy?: string;
    readonly consumerGroups?: readonly string[];
  };
  readonly [field: string]: unknown;
}

/**
 * The restore id of one run of a resource: stable across operator restarts (so a resumed run finds
 * its checkpoint), new for every rerun value (so a rerun restores again).
 */
export function restoreIdOf(object: KubeObject, rerun: string): string {
  const uid = (object.metadata.uid ?? '').replaceAll('-', '').slice(0, 8);
  const suffix = rerun ? `-${createHash('sha256').update(rerun).digest('hex').slice(0, 8)}` : '';
  return `${object.metadata.name}${uid ? `-${uid}` : ''}${suffix}`;
}

/** The rerun value a prepare serves: the annotation for a fresh run, the status' for a resumed one. */
export function rerunOf(object: KubeObject, fresh: boolean): string {
  if (fresh) return object.metadata.annotations?.[RERUN_ANNOTATION] ?? '';
  const observed = statusOf(object).observedRerun;
  return typeof observed === 'string' ? observed : '';
}

/** Restore status fields while it runs (pure). */
export function restoreProgressStatus(progress: Progress): Record<string, unknown> {
  return {
    ...(progress.percent !== undefined
      ? { progressPercent: Math.min(100, Math.floor(progress.percent)) }
      : {}),
    recordsRestored: progress.records,
    bytesRestored: progress.bytes,
    ...(progress.segments !== undefined ? { segmentsProcessed: progress.segments } : {}),
    ...(progress.currentTopic !== undefined ? { currentTopic: progress.currentTopic } : {}),
    throughputRecordsPerSec: Math.round(progress.recordsPerSec),
    ...(progress.etaMs !== undefined ? { etaMs: Math.round(progress.etaMs) } : {}),
  };
}

/**
 * Consumer groups whose offsets the restore commits, as named in the spec (for the published plan);
 * autoConsumerGroups alone commits every group of the backup's snapshot, which the summary says.
 */
export function plannedGroups(spec: RestoreSpec): string[] {
  const strategy = (spec.offsetReset?.strategy ?? 'manual').toLowerCase().replace('_', '-');
  const commits = strategy === 'header-based' || strategy === 'auto';
  return spec.offsetReset?.enabled && commits ? [...(spec.offsetReset.consumerGroups ?? [])] : [];
}

/** How a finished restore ends in status (pure). */
export function restoreOutcome(result: RestoreRun, snapshotRetentionHours = 24): Outcome {
  if (result.outcome === 'interrupted') {
    return {
      phase: 'Running',
      health: 'resume',
      reason: 'Interrupted',
      message: 'stopped at a checkpoint',
      status: {},
    };
  }
  const snapshotId = snapshotIdOf(result.consumerGroups?.json);
  const snapshotKey = (result.consumerGroups?.json as { snapshotKey?: unknown } | null | undefined)
    ?.snapshotKey;
  const snapshotTime = snapshotId ? snapshotTimeOf(snapshotId) : undefined;
  const expiresAt =
    snapshotTime && !result.rolledBack
      ? new Date(Date.parse(snapshotTime) + snapshotRetentionHours * 3_600_000).toISOString()
      : undefined;
  const status: Record<string, unknown> = {
    backupId: result.backupId,
    recordsRestored: result.records + result.reconciled,
    bytesRestored: result.bytes,
    segmentsProcessed: result.segments,
    throughputRecordsPerSec: Math.round(result.recordsPerSec),
    etaMs: 0,
    ...(result.dryRun ? {} : { progressPercent: 100 }),
    ...(result.offsetMapping ? { offsetMappingPath: result.offsetMapping } : {}),
    ...(snapshotId
      ? {
          rollback: {
            snapshotId,
            rollbackAvailable: !result.rolledBack,
            ...(typeof snapshotKey === 'string' ? { snapshotPath: snapshotKey } : {}),
            ...(snapshotTime ? { snapshotTime } : {}),
            ...(expiresAt ? { expiresAt } : {}),
          },
        }
      : {}),
  };
  const failure = result.consumerGroups?.failure;
  if (failure && result.rolledBack) {
    const undone = !result.rolledBack.failure;
    const firstLine = result.consumerGroups?.text.split('\n')[0] ?? '';
    return {
      phase: undone ? 'RolledBack' : 'Failed',
      health: 'failed',
      reason: undone ? 'RolledBack' : 'RollbackFailed',
      message:
        `the data was restored (${result.records} records) but committing the consumer group offsets failed (${firstLine}); ` +
        (undone
          ? `autoRollbackOnFailure put them back to snapshot ${snapshotId}`
          : `rolling them back to snapshot ${snapshotId} failed too: ${result.rolledBack.text.split('\n').slice(-1)[0]}`),
      status,
      records: result.records,
      bytes: result.bytes,
    };
  }
  if (failure) {
    const firstLine = result.consumerGroups?.text.split('\n')[0] ?? '';
    return {
      phase: 'Failed',
      health: 'failed',
      reason: resultStatus(failure).reason ?? 'Conflict',
      message: `the data was restored (${result.records} records) but the consumer group offsets were not: ${firstLine}`,
      status,
      records: result.records,
      bytes: result.bytes,
    };
  }
  const topics = result.plan.topics.map((t) => t.target).join(', ');
  const message = result.dryRun
    ? `dry run: would restore up to ${result.plan.maxRecords} records into ${topics || 'no topics'}; nothing was written`
    : `restored ${result.records} records (${result.bytes} bytes) into ${topics}${result.resumed ? ', resumed from a checkpoint' : ''}`;
  return {
    phase: 'Completed',
    health: 'ready',
    reason: 'RestoreCompleted',
    message,
    status,
    records: result.records,
    bytes: result.bytes,
  };
}

/** When a snapshot was taken, from its id (`snap-20261203T120000Z-1a2b3c4d`), as RFC 3339 (pure). */
export function snapshotTimeOf(snapshotId: string): string | undefined {
  const m = /^snap-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z-/.exec(snapshotId);
  return m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z` : undefined;
}

const DAY_MS = 86_400_000;

/** What a finished restore's snapshot needs (pure): nothing, a look at its expiry, or deletion. */
export function snapshotUpkeep(
  rollback: unknown,
  now: Date,
): { action: 'none' } | { action: 'wait'; ms: number } | { action: 'delete'; snapshotId: string } {
  const r = rollback as
    | { snapshotId?: unknown; rollbackAvailable?: unknown; expiresAt?: unknown }
    | undefined;
  if (typeof r?.snapshotId !== 'string' || r.rollbackAvailable !== true || typeof r.expiresAt !== 'string') {
    return { action: 'none' };
  }
  const expires = Date.parse(r.expiresAt);
  if (Number.isNaN(expires)) return { action: 'none' };
  const ms = expires - now.getTime();
  // Timers are capped: a retention of years is looked at again daily.
  return ms > 0
    ? { action: 'wait', ms: Math.min(ms, DAY_MS) }
    : { action: 'delete', snapshotId: r.snapshotId };
}

function snapshotIdOf(json: unknown): string | undefined {
  const id = (json as { snapshotId?: unknown } | null | undefined)?.snapshotId;
  return typeof id === 'string' ? id : undefined;
}

/** Finalizer of a KafkaRestore whose pre-restore offset snapshot is still in storage. */
export const SNAPSHOT_FINALIZER = 'kafka.oso.sh/offset-snapshot';

/** The snapshot id of a restore's status while its snapshot can be rolled back to. */
function snapshotIdOfStatus(status: Record<string, unknown>): string | undefined {
  const rollback = status.rollback as { snapshotId?: unknown; rollbackAvailable?: unknown } | undefined;
  return rollback?.rollbackAvailable === true && typeof rollback.snapshotId === 'string'
    ? rollback.snapshotId
    : undefined;
}

/** `live`: where in-process runs publish their live figures (the operator's /metrics). */
export function restoreKind(log: Logger, live?: LiveRunMetrics): OneShotKind<RestoreRun> {
  /** The storage of the restore's backup, where its offset snapshot lives. */
  const snapshotStore = async (object: KubeObject, context: ReconcileContext) => {
    const namespace = object.metadata.namespace ?? '';
    const spec = (object.spec ?? {}) as RestoreSpec;
    const backup = await resolveBackupRef(spec.backupRef, namespace, context);
    const ports = portsFor(context.client, namespace, backup.secretsNamespace, log);
    const { storage } = await storageConfigFromSpec(
      { backupRef: { storage: backup.storage, backupId: backup.backupId } },
      ports.secrets,
      { source: `KafkaRestore ${namespace}/${object.metadata.name}` },
    );
    return ports.openStore(storage);
  };
  return {
    kind: KAFKA_KINDS.KafkaRestore,
    noun: 'Restore',
    progressStatus: restoreProgressStatus,
    outcome: (result, object) =>
      restoreOutcome(result, (object.spec as RestoreSpec | undefined)?.rollback?.snapshotRetentionHours),
    cleanup: {
      finalizer: SNAPSHOT_FINALIZER,
      // While a pre-restore offset snapshot can still be rolled back to, it is this restore's to delete.
      needed: (status) => snapshotIdOfStatus(status) !== undefined,
      async run(object, context) {
        const snapshotId = snapshotIdOfStatus(statusOf(object)) as string;
        await withStore(snapshotStore(object, context), (store) => store.delete(snapshotKey(snapshotId)));
        return `offset snapshot ${snapshotId} deleted with the restore`;
      },
    },
    async whenDone(object, context, now) {
      const upkeep = snapshotUpkeep(statusOf(object).rollback, now);
      if (upkeep.action === 'none') return undefined;
      if (upkeep.action === 'wait') return { requeueAfterMs: upkeep.ms };
      // rollback.snapshotRetentionHours passed: the snapshot goes, with the means to roll back to it.
      await withStore(snapshotStore(object, context), (store) =>
        store.delete(snapshotKey(upkeep.snapshotId)),
      );
      await writeStatus(
        { client: context.client, recorder: context.recorder },
        KAFKA_KINDS.KafkaRestore,
        object,
        { rollback: { rollbackAvailable: false } },
        {
          type: 'Normal',
          reason: 'SnapshotExpired',
          note: `offset snapshot ${upkeep.snapshotId} deleted after rollback.snapshotRetentionHours`,
        },
      );
      return undefined;
    },
    async prepare(object, context, { fresh }) {
      const namespace = object.metadata.namespace ?? '';
      const spec = (object.spec ?? {}) as RestoreSpec;
      const backup = await resolveBackupRef(spec.backupRef, namespace, context);
      const restoreId = restoreIdOf(object, rerunOf(object, fresh));
      // The use case takes the concrete backup; `name`/`namespace` are resolved here.
      const concrete = {
        ...spec,
        backupRef: { storage: backup.storage, backupId: backup.backupId },
        restoreId,
      };
      const runLog = log.child({ kind: 'KafkaRestore', namespace, name: object.metadata.name, restoreId });
      const ports = portsFor(context.client, namespace, backup.secretsNamespace, runLog);
      const runContext = {
        source: `KafkaRestore ${namespace}/${object.metadata.name}`,
        name: object.metadata.name,
      };
      const resource = { kind: 'KafkaRestore', namespace, name: object.metadata.name };
      const metrics = live ? { metrics: { live, resource } } : {};
      // The plan: the backup is opened and planned; nothing is written to the target.
      const planned = await restore(concrete, ports, {
        dryRun: true,
        context: runContext,
        signal: context.signal,
      });
      const targets = planned.plan.topics.map((t) => t.target);
      const groups = plannedGroups(spec);
      const plan = {
        topics: targets,
        purgeTopics: spec.purgeTopics ? targets : [],
        consumerGroups: groups,
        records: planned.plan.maxRecords,
      };
      const summary =
        `restore backup ${backup.backupId}${backup.backup ? ` (KafkaBackup ${backup.backup.namespace}/${backup.backup.name})` : ''}: ` +
        `up to ${planned.plan.maxRecords} records into ${targets.join(', ') || 'no topics'}` +
        (spec.purgeTopics ? `, deleting the existing records of ${targets.join(', ')} first` : '') +
        (groups.length > 0 ? `, committing offsets of ${groups.join(', ')}` : '') +
        (spec.autoConsumerGroups ? ', restoring the consumer groups of the backup' : '') +
        (spec.dryRun ? ' (dry run: nothing is written)' : '');
      return {
        status: { plan, backupId: backup.backupId },
        summary,
        work: (controls) => restoreWork(concrete, ports, controls, { ...runContext, ...metrics }),
        request: {
          kind: 'restore',
          owner: ownerOf(object),
          spec: concrete,
          secrets: secretsOf(concrete, namespace, backup.secretsNamespace),
          ...(spec.activeDeadlineSeconds ? { activeDeadlineSeconds: spec.activeDeadlineSeconds } : {}),
        },
      };
    },
  };
}

/** Kafka Secrets from the restore's namespace, storage Secrets from the KafkaBackup's. */
function portsFor(
  client: Parameters<typeof apiSecrets>[0],
  namespace: string,
  storageNamespace: string,
  log: Logger,
) {
  const own: SecretResolver = apiSecrets(client, namespace);
  const storage = productionPorts({ log, secrets: apiSecrets(client, storageNamespace) });
  return { ...storage, secrets: own };
}

export function restoreController(deps: ControllerDeps): Controller {
  return oneShotController(restoreKind(deps.log, liveRunMetricsOf(deps.metrics.registry)), {
    runner: deps.runner,
    metrics: runMetricsOf(deps.metrics.registry),
  });
}
