/**
 * The work of one run of each kind, shared by both runners: the operator's in-process closures
 * call these with ports whose Secrets come from the API, `kafka-backup run` in a Job with the CLI's
 * ports (Secrets mounted as files). So a run does the same thing wherever it executes.
 */
import { backup } from '../../app/backup.ts';
import { classify } from '../../app/errors.ts';
import { offsetRollback, resetOffsetsWith, resetRequestOf } from '../../app/offsets.ts';
import type { AppPorts, RunControls as AppRunControls } from '../../app/ports.ts';
import { restore } from '../../app/restore.ts';
import { retention } from '../../app/retention.ts';
import { validateWith } from '../../app/validate.ts';
import { offsetResetConfigFromSpec, validationConfigFromSpec } from '../../config/operations.ts';
import type { CommandResult } from '../../offsets/commands.ts';
import type { ValidateCommandResult } from '../../validation/commands.ts';
import type { BackupRunResult } from '../controllers/backup.ts';
import type { RestoreRun } from '../controllers/restore.ts';
import { bounded, stopSignal } from '../controllers/validation-deadline.ts';
import type { RunOutput } from '../controllers/validation-status.ts';
import { DeadlineExceededError } from './run-errors.ts';
import type { RunRequest } from './run-request.ts';
import type { RunControls } from './runner.ts';

/** Where a spec came from (error messages) and the resource's name (the default backup id). */
export interface RunContext {
  readonly source: string;
  readonly name: string;
  /** Live metrics of the run (the operator's /metrics); none in a Job. */
  readonly metrics?: AppRunControls['metrics'];
}

/**
 * A backup run, then (spec.retention.enabled, after a complete run) the retention pass, whose
 * failure is reported in the result, never as the run's. activeDeadlineSeconds stops the run at
 * its next batch and fails it.
 */
export async function backupWork(
  spec: unknown,
  ports: AppPorts,
  controls: RunControls,
  run: RunContext & { readonly activeDeadlineSeconds?: number | undefined },
): Promise<BackupRunResult> {
  const context = { source: run.source, name: run.name };
  const deadline = run.activeDeadlineSeconds
    ? AbortSignal.timeout(run.activeDeadlineSeconds * 1000)
    : undefined;
  const signal = deadline ? AbortSignal.any([controls.signal, deadline]) : controls.signal;
  const result = await backup(spec, ports, {
    signal,
    onProgress: (p) => controls.progress(p),
    onCheckpoint: (c) => controls.checkpoint(new Date(c.at)),
    context,
    ...(run.metrics ? { metrics: run.metrics } : {}),
  });
  if (deadline?.aborted && !controls.signal.aborted) {
    throw new DeadlineExceededError(
      run.activeDeadlineSeconds ?? 0,
      `the run exceeded activeDeadlineSeconds (${run.activeDeadlineSeconds}s); what it stored is kept and the next run continues from it`,
    );
  }
  const retentionEnabled = (spec as { retention?: { enabled?: boolean } } | undefined)?.retention?.enabled;
  if (!retentionEnabled || result.outcome !== 'complete' || signal.aborted) return result;
  try {
    const pruned = await retention(spec, ports, { context });
    return { ...result, retention: { pruned } };
  } catch (error) {
    ports.log.warn('retention pass failed; the run itself succeeded', {
      resource: run.source,
      error: classify(error).message,
    });
    return { ...result, retention: { error: classify(error).message } };
  }
}

/**
 * A restore run of the concrete spec (`backupRef.storage` + `backupId`, `restoreId`); when
 * committing the consumer offsets failed and `rollback.autoRollbackOnFailure` is set, the offsets
 * go back to the snapshot taken just before.
 */
export async function restoreWork(
  concrete: Record<string, unknown>,
  ports: AppPorts,
  controls: RunControls,
  context: RunContext,
): Promise<RestoreRun> {
  const spec = concrete as {
    kafkaCluster?: unknown;
    rollback?: { autoRollbackOnFailure?: boolean };
    backupRef?: { storage?: unknown };
  };
  const result = await restore(concrete, ports, {
    signal: controls.signal,
    onProgress: controls.progress,
    onCheckpoint: (checkpoint) => controls.checkpoint(new Date(checkpoint.at)),
    context: { source: context.source, name: context.name },
    ...(context.metrics ? { metrics: context.metrics } : {}),
  });
  const snapshotId = (result.consumerGroups?.json as { snapshotId?: unknown } | null | undefined)?.snapshotId;
  if (
    !result.consumerGroups?.failure ||
    !spec.rollback?.autoRollbackOnFailure ||
    typeof snapshotId !== 'string'
  )
    return result;
  // Offsets were (partly) committed and failed: back to the snapshot taken just before.
  const rolledBack = await offsetRollback(
    { kafkaCluster: spec.kafkaCluster, snapshotRef: { name: snapshotId, storage: spec.backupRef?.storage } },
    ports,
    context,
  );
  return { ...result, rolledBack };
}

export interface TimedCommand {
  readonly result: CommandResult;
  readonly durationMs: number;
}

export async function timed(work: () => Promise<CommandResult>): Promise<TimedCommand> {
  const started = Date.now();
  const result = await work();
  return { result, durationMs: Date.now() - started };
}

/**
 * A validation run with its deadline: the use case, ended at once when the deadline passes or the
 * run is stopped (validation-deadline.ts).
 */
export async function validationWork(
  config: Awaited<ReturnType<typeof validationConfigFromSpec>>,
  ports: AppPorts,
  signal: AbortSignal,
  run: {
    readonly source: string;
    readonly toolVersion: string;
    readonly deadline: { at: Date; seconds: number } | undefined;
  },
): Promise<RunOutput> {
  const stop = stopSignal(signal, run.deadline);
  try {
    const result = await bounded(
      validateWith(config, ports, {
        toolVersion: run.toolVersion,
        triggeredBy: run.source,
        notificationSource: run.source,
        signal: stop.signal,
      }),
      stop.signal,
    );
    return runOutput(result, config.evidenceStorage ? undefined : result.report.backup.storage);
  } finally {
    stop.dispose();
  }
}

function runOutput(result: ValidateCommandResult, storage: string | undefined): RunOutput {
  return {
    report: result.report,
    ...(result.keys ? { reportPath: storage ? `${storage}/${result.keys.json}` : result.keys.json } : {}),
    ...(result.notifications ? { notifications: result.notifications } : {}),
    ...(result.pruned ? { pruned: result.pruned } : {}),
  };
}

/** A request run by `kafka-backup run` in a Job: the same work as in the operator, with `ports`' Secrets. */
export async function executeRequest(
  request: RunRequest,
  ports: AppPorts,
  controls: RunControls,
  /** Where a backup's or restore's live figures go (the Job's own metrics endpoint). */
  metrics?: AppRunControls['metrics'],
): Promise<unknown> {
  const { owner } = request;
  const context = {
    source: `${owner.kind} ${owner.namespace}/${owner.name}`,
    name: owner.name,
    ...(metrics ? { metrics } : {}),
  };
  switch (request.kind) {
    case 'backup':
      return backupWork(request.spec, ports, controls, {
        ...context,
        activeDeadlineSeconds: request.activeDeadlineSeconds,
      });
    case 'restore':
      return restoreWork(request.spec, ports, controls, context);
    case 'offset-reset': {
      const config = await offsetResetConfigFromSpec(request.spec, ports.secrets, context);
      const reset = {
        ...resetRequestOf(config),
        ...(request.restoreId ? { restoreId: request.restoreId } : {}),
      };
      return timed(() => resetOffsetsWith(reset, ports));
    }
    case 'offset-rollback':
      return timed(() => offsetRollback(request.spec, ports, context));
    case 'validation': {
      const config = await validationConfigFromSpec(request.spec, ports.secrets, context);
      // Counted from the resource's first start when the operator resumed it, else from now.
      const seconds = request.activeDeadlineSeconds;
      const at = request.deadlineAt
        ? new Date(request.deadlineAt)
        : seconds
          ? new Date(Date.now() + seconds * 1000)
          : undefined;
      return validationWork(config, ports, controls.signal, {
        source: context.source,
        toolVersion: request.toolVersion ?? 'unknown',
        deadline: seconds && at ? { at, seconds } : undefined,
      });
    }
  }
}
