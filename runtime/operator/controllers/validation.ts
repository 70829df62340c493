import { classify } from '../../app/errors.ts';
import { type AppPorts, productionPorts } from '../../app/ports.ts';
import { openObjectStore } from '../../config/object-store-factory.ts';
import { validationConfigFromSpec } from '../../config/operations.ts';
import type { StorageSpec } from '../../config/storage.ts';
import type { Logger } from '../../log.ts';
import { type RunResult, runMetricsOf } from '../../metrics/run-metrics.ts';
import type { ObjectStore } from '../../storage/object-store.ts';
import { toolVersion } from '../../version.ts';
import { apiSecrets } from '../api-secrets.ts';
import type { Controller, ReconcileContext, ReconcileResult } from '../controller.ts';
import type { SecretReader } from '../kube/port.ts';
import type { ControllerDeps } from '../main.ts';
import { KAFKA_KINDS, type KubeObject, keyOf, type ObjectKey } from '../resource.ts';
import { ownerOf, type RunRequest, secretsOf } from '../runs/run-request.ts';
import { validationWork } from '../runs/run-work.ts';
import { type RunSnapshot, runKey } from '../runs/runner.ts';
import { type Condition, statusOf, writeStatus } from '../status.ts';
import { retryDelayMs } from './backup-decisions.ts';
import { DeadlineExceededError } from './validation-deadline.ts';
import {
  deadlineOf,
  decideValidation,
  nextStalledTry,
  RERUN_ANNOTATION,
  requestId,
  type ValidationView,
} from './validation-decision.ts';
import { type ResolvedBackupRef, refersTo, resolveBackupRef } from './validation-reference.ts';
import {
  decideScheduledValidation,
  restingPhase,
  viewOf as scheduleViewOf,
  type ValidationScheduleSpec,
} from './validation-schedule.ts';
import {
  deadlineStatus,
  historyWith,
  invalidScheduleStatus,
  type RunOutput,
  resultStatus,
  type StatusChange,
  stalledReason,
  stalledStatus,
  startedStatus,
  suspendedStatus,
  waitingStatus,
} from './validation-status.ts';

/**
 * The KafkaBackupValidation controller: resolves `backupRef` through the KafkaBackup cache, runs the
 * validation use case (runtime/app/validate.ts) in the runner, and writes its outcome to status.
 * Decisions are validation-decision.ts, status shapes validation-status.ts; this file does the I/O.
 */
const KIND = KAFKA_KINDS.KafkaBackupValidation;

export interface ValidationControllerOptions {
  /** The use case's ports for one run (tests); default the production adapters with API Secrets. */
  readonly portsFor?: (run: { log: Logger; secrets: SecretReader; namespace: string }) => AppPorts;
  readonly now?: () => Date;
}

/** How soon to look again when the cache has not caught up with our own status write. */
const STALE_CACHE_RETRY_MS = 200;

/** Stalled reasons that a change of the referenced KafkaBackup can resolve. */
const REFERENCE_REASONS = new Set(['BackupNotFound', 'InvalidBackupReference']);

export function validationController(
  deps: ControllerDeps,
  options: ValidationControllerOptions = {},
): Controller {
  const now = options.now ?? (() => new Date());
  const metrics = runMetricsOf(deps.metrics.registry);
  const version = toolVersion();
  /**
   * The resourceVersion each key's status was last written from. While the cache still holds that
   * version, it has not seen our write: a run just recorded and forgotten would look interrupted
   * (Running in status, no run here) and start again.
   */
  const writtenFrom = new Map<string, string>();
  /** The tick a Skipped Event was last recorded for, per key (one Event per skipped tick). */
  const lastSkipped = new Map<string, number>();

  async function apply(
    context: ReconcileContext,
    object: KubeObject,
    change: Pick<StatusChange, 'status'> & Partial<Pick<StatusChange, 'event'>>,
  ): Promise<void> {
    await patch(context, object, change.status, change.event);
  }

  async function patch(
    context: ReconcileContext,
    object: KubeObject,
    fields: Record<string, unknown>,
    event?: StatusChange['event'],
  ): Promise<void> {
    const updated = await writeStatus(context, KIND, object, fields, event);
    const from = object.metadata.resourceVersion;
    if (from && updated.metadata.resourceVersion !== from) writtenFrom.set(runKey(KIND, keyOf(object)), from);
  }

  function startRun(
    key: ObjectKey,
    runId: string,
    resolved: Extract<ResolvedBackupRef, { ok: true }>,
    deadline: { at: Date; seconds: number } | undefined,
    object: KubeObject,
  ): RunSnapshot {
    const source = `KafkaBackupValidation ${key.namespace}/${key.name}`;
    const log = deps.log.child({ kind: KIND.kind, namespace: key.namespace, name: key.name, run: runId });
    metrics.runStarted(KIND);
    const started = deps.runner.start<RunOutput>(
      runKey(KIND, key),
      runId,
      async (controls) => {
        const secrets = apiSecrets(deps.kube, key.namespace);
        const config = await validationConfigFromSpec(resolved.spec, secrets, { source, name: key.name });
        const base = options.portsFor
          ? options.portsFor({ log, secrets: deps.kube, namespace: key.namespace })
          : productionPorts({ log, secrets });
        // The backup's storage Secrets live with the KafkaBackup; everything else with this resource.
        const storageSecrets = apiSecrets(deps.kube, resolved.storageNamespace);
        const ports: AppPorts =
          resolved.storageNamespace === key.namespace || options.portsFor || !config.storage
            ? base
            : withBackupStore(base, config.storage, (spec) =>
                openObjectStore(spec, { secrets: storageSecrets, log, clock: base.clock }),
              );
        // One signal for the deadline and the operator stopping, so the run's HTTP calls end with it.
        return validationWork(config, ports, controls.signal, { source, toolVersion: version, deadline });
      },
      requestOf(object, runId, resolved, deadline, version),
    );
    return started;
  }

  type Base = Parameters<typeof resultStatus>[0];

  /**
   * A finished run: its outcome, with its entry in status.history, to status, and to the run
   * metrics. Returns the change written and, for a run that could not do its work, when to retry.
   */
  async function record(
    context: ReconcileContext,
    object: KubeObject,
    view: ValidationView,
    base: Base,
    finished: RunSnapshot,
    options: { readonly scheduled?: boolean; readonly retryInMs?: number } = {},
  ): Promise<{ readonly change: StatusChange; readonly requeueAfterMs?: number }> {
    const endedAt = finished.endedAt ?? base.now;
    let change: StatusChange;
    let result: RunResult;
    let requeueAfterMs: number | undefined;
    let reportId: string | undefined;
    if (finished.state === 'succeeded' && finished.result) {
      const output = finished.result as RunOutput;
      change = resultStatus(base, output, { scheduled: options.scheduled === true });
      result = change.result ?? 'succeeded';
      reportId = output.report.reportId;
    } else if (finished.error instanceof DeadlineExceededError) {
      change = deadlineStatus(base, finished.error.seconds);
      result = 'deadline_exceeded';
    } else {
      const { reason, message } = stalledReason(classify(finished.error));
      requeueAfterMs = options.retryInMs ?? stalledDelay(view, base.now);
      context.log.warn('validation cannot run', { reason, message });
      change = stalledStatus(base, reason, message, requeueAfterMs);
      // The run failed; the retry is a new run.
      result = 'failed';
    }
    const spec = (object.spec ?? {}) as {
      successfulRunsHistoryLimit?: number;
      failedRunsHistoryLimit?: number;
    };
    const history = historyWith(
      statusOf(object).history,
      {
        id: reportId ?? finished.id,
        startedAt: finished.startedAt,
        endedAt,
        succeeded: result === 'succeeded',
        message: String(change.status.message ?? ''),
      },
      { successful: spec.successfulRunsHistoryLimit, failed: spec.failedRunsHistoryLimit },
    );
    change = { ...change, status: { ...change.status, history } };
    await apply(context, object, change);
    metrics.runEnded(KIND, keyOf(object), { result, startedAt: finished.startedAt, endedAt });
    return { change, ...(requeueAfterMs !== undefined ? { requeueAfterMs } : {}) };
  }

  /** Resolves backupRef and starts the run, or reports why it cannot start. */
  async function begin(
    context: ReconcileContext,
    key: ObjectKey,
    object: KubeObject,
    view: ValidationView,
    base: Base,
    run: {
      readonly id: string;
      readonly restart: boolean;
      readonly deadlineAt?: Date;
      /** The schedule tick the run serves (status.lastScheduleTime). */
      readonly scheduledAt?: Date;
      /** When to retry if it cannot start (default: the unscheduled backoff). */
      readonly retryInMs?: number;
    },
  ): Promise<ReconcileResult | undefined> {
    const resolved = resolveBackupRef(object.spec, key.namespace, (k) =>
      context.cacheOf(KAFKA_KINDS.KafkaBackup).get(k),
    );
    if (!resolved.ok) {
      const delay = run.retryInMs ?? stalledDelay(view, base.now);
      // No startTime: the spec stays editable (it is immutable once a run started), so backupRef can be fixed.
      await apply(context, object, stalledStatus(base, resolved.reason, resolved.message, delay));
      return { requeueAfterMs: delay };
    }
    const retrying = view.conditions?.some((c) => c.type === 'Stalled' && c.status === 'True');
    if (
      retrying &&
      view.observedGeneration === view.generation &&
      (view.observedRerun ?? '') === view.rerun
    ) {
      // A retry of a stalled request stays Stalled until it gets somewhere, so the backoff keeps growing.
      await patch(context, object, {
        startTime: base.now.toISOString(),
        ...(run.scheduledAt ? { lastScheduleTime: run.scheduledAt.toISOString() } : {}),
      });
    } else {
      await apply(context, object, startedStatus(base, resolved.backupId, run.restart, run.scheduledAt));
    }
    const seconds = view.activeDeadlineSeconds;
    const started = startRun(
      key,
      run.id,
      resolved,
      run.deadlineAt && seconds ? { at: run.deadlineAt, seconds } : undefined,
      object,
    );
    if (started.where) {
      // A run outside the operator (a Job): the Running message names where to look.
      const message = `validating backup ${resolved.backupId ?? '(the latest in storage)'} (${started.where})`;
      await patch(context, object, { message });
    }
    return run.deadlineAt
      ? { requeueAfterMs: Math.max(1, run.deadlineAt.getTime() - base.now.getTime()) }
      : undefined;
  }

  /**
   * spec.schedule: the KafkaBackup controller's schedule decisions (validation-schedule.ts) start
   * the same runs as an unscheduled validation, at each tick; this does what they decide.
   */
  async function scheduled(
    context: ReconcileContext,
    key: ObjectKey,
    object: KubeObject,
    view: ValidationView,
    first: Base,
  ): Promise<ReconcileResult | undefined> {
    const rk = runKey(KIND, key);
    const spec = (object.spec ?? {}) as ValidationScheduleSpec;
    let status: Record<string, unknown> = { ...statusOf(object) };
    let base = first;
    /** Later decisions of this reconcile see what it wrote. */
    const wrote = (change: Pick<StatusChange, 'status'>) => {
      status = { ...status, ...change.status };
      base = { ...base, conditions: (status.conditions as Condition[] | undefined) ?? base.conditions };
    };
    const scheduledView = () =>
      scheduleViewOf(
        {
          spec,
          generation: view.generation,
          createdAt: createdAtOf(object),
          rerun: view.rerun,
          status,
        },
        deps.runner.get(rk) !== undefined,
      );
    const retryInMs = () => retryDelayMs(scheduledView().status.stalledSince, base.now);

    // 1. A run that ended: its outcome to status before anything is decided.
    const ended = deps.runner.get(rk);
    if (ended && ended.state !== 'running') {
      wrote(
        (await record(context, object, view, base, ended, { scheduled: true, retryInMs: retryInMs() }))
          .change,
      );
      deps.runner.forget(rk);
    }

    // 2. Decide.
    const run = deps.runner.get(rk);
    const decideNow = () =>
      decideScheduledValidation(
        { spec, generation: view.generation, createdAt: createdAtOf(object), rerun: view.rerun, status },
        run ? { state: run.state, startedAt: run.startedAt } : undefined,
        base.now,
      );
    let step = decideNow();
    const invalidBefore = view.conditions?.some(
      (c) => c.type === 'Stalled' && c.status === 'True' && c.reason === 'InvalidSchedule',
    );
    if (step.kind === 'invalid') {
      const reported =
        status.phase === 'Failed' && invalidBefore && view.observedGeneration === view.generation;
      if (!reported) await apply(context, object, invalidScheduleStatus(base, step.message));
      return undefined;
    }
    if (invalidBefore) {
      // The schedule was fixed: no longer Stalled, and not a failure to retry; it waits for its tick.
      const fixed = waitingStatus(base, restingPhase(status), step.nextScheduleTime, undefined);
      await apply(context, object, fixed);
      wrote(fixed);
      step = decideNow();
      if (step.kind === 'invalid') return undefined;
    }
    const next = step.nextScheduleTime?.toISOString() ?? null;
    if ((status.nextScheduleTime ?? null) !== next) {
      // A schedule that had no next run (new, resumed, fixed) announces its first one.
      const scheduledEvent =
        (status.nextScheduleTime ?? null) === null && next !== null
          ? { type: 'Normal' as const, reason: 'Scheduled', note: `next run at ${next}` }
          : undefined;
      await patch(context, object, { nextScheduleTime: next, nextScheduledValidation: next }, scheduledEvent);
      status = { ...status, nextScheduleTime: next };
    }

    if (step.kind === 'start') {
      if (step.replace) {
        // concurrencyPolicy Replace: the running run stops (its report is not written) for the new tick's.
        await deps.runner.abort(rk);
        const replaced = deps.runner.get(rk);
        if (replaced) {
          const endedAt = replaced.endedAt ?? base.now;
          metrics.runEnded(KIND, key, { result: 'interrupted', startedAt: replaced.startedAt, endedAt });
          const limits = spec as { successfulRunsHistoryLimit?: number; failedRunsHistoryLimit?: number };
          const history = historyWith(
            status.history,
            {
              id: replaced.id,
              startedAt: replaced.startedAt,
              endedAt,
              succeeded: false,
              message: `replaced by the run scheduled for ${step.at.toISOString()} (concurrencyPolicy Replace)`,
            },
            { successful: limits.successfulRunsHistoryLimit, failed: limits.failedRunsHistoryLimit },
          );
          await patch(context, object, { history });
          status = { ...status, history };
          deps.runner.forget(rk);
        }
      }
      const resumed = step.reason === 'resume';
      const startedAt =
        resumed && typeof status.startTime === 'string' ? new Date(status.startTime) : base.now;
      const deadlineAt = deadlineOf(view, startedAt);
      const started = await begin(context, key, object, view, base, {
        id: step.at.toISOString(),
        restart: resumed,
        scheduledAt: step.at,
        retryInMs: retryInMs(),
        ...(deadlineAt ? { deadlineAt } : {}),
      });
      // Also at the next tick, which a run still going then skips (Forbid) or replaces (Replace).
      const untilTick = step.nextScheduleTime
        ? step.nextScheduleTime.getTime() - base.now.getTime()
        : undefined;
      const after = [started?.requeueAfterMs, untilTick].filter((ms): ms is number => ms !== undefined);
      return after.length > 0 ? { requeueAfterMs: Math.max(1, Math.min(...after)) } : undefined;
    }

    // 3. Waiting: a skipped tick, suspended, or at rest until the next tick.
    if (run?.state === 'running') {
      if (step.skipped && lastSkipped.get(rk) !== step.skipped.getTime()) {
        lastSkipped.set(rk, step.skipped.getTime());
        await context.recorder.normal(
          object,
          'Skipped',
          'Skipped',
          `run due at ${step.skipped.toISOString()} skipped: the run started at ${run.startedAt.toISOString()} is still going (concurrencyPolicy Forbid)`,
        );
      }
    } else if (spec.suspend === true) {
      if (status.phase !== 'Suspended') await apply(context, object, suspendedStatus(base));
    } else {
      const waiting = waitingStatus(base, restingPhase(status), step.nextScheduleTime, status.phase);
      if (Object.keys(waiting.status).length > 0) await apply(context, object, waiting);
    }
    return step.requeueAfterMs === undefined
      ? undefined
      : { requeueAfterMs: Math.max(1, step.requeueAfterMs) };
  }

  return {
    kind: KIND,
    // A KafkaBackup appearing or changing (its storage, its last backup id) reconciles the
    // validations that refer to it: a Stalled BackupNotFound resolves without waiting out its backoff.
    watches: [
      {
        kind: KAFKA_KINDS.KafkaBackup,
        keysFor: (backup, own) =>
          own
            .list()
            .filter((v) => refersTo(v, backup))
            .map(keyOf),
      },
    ],
    async reconcile(key, context) {
      const object = context.cache.get(key);
      const runKeyOf = runKey(KIND, key);
      if (!object) {
        // Deleted: a run still going has nobody to report to.
        if (deps.runner.get(runKeyOf)?.state === 'running') await deps.runner.abort(runKeyOf);
        deps.runner.forget(runKeyOf);
        metrics.forget(KIND, key);
        writtenFrom.delete(runKeyOf);
        lastSkipped.delete(runKeyOf);
        return;
      }
      // Our last status write is not in the cache yet: decide once it is.
      if (object.metadata.resourceVersion && writtenFrom.get(runKeyOf) === object.metadata.resourceVersion) {
        return { requeueAfterMs: STALE_CACHE_RETRY_MS };
      }
      writtenFrom.delete(runKeyOf);
      const spec = (object.spec ?? {}) as Record<string, unknown>;
      const status = statusOf(object);
      const view = viewOf(object, spec, status);
      const base: Base = {
        generation: view.generation,
        rerun: view.rerun,
        conditions: view.conditions,
        now: now(),
      };

      if (typeof spec.schedule === 'string' && spec.schedule !== '') {
        return scheduled(context, key, object, view, base);
      }
      const action = decideValidation(view, deps.runner.get(runKeyOf), base.now);
      switch (action.kind) {
        case 'idle':
          return;
        case 'wait':
          return action.requeueAfterMs ? { requeueAfterMs: action.requeueAfterMs } : undefined;
        case 'backoff': {
          // Stalled on backupRef, and the KafkaBackup is there now: no need to wait out the backoff.
          const reason = view.conditions?.find((c) => c.type === 'Stalled')?.reason ?? '';
          const lookup = (k: ObjectKey) => context.cacheOf(KAFKA_KINDS.KafkaBackup).get(k);
          if (REFERENCE_REASONS.has(reason) && resolveBackupRef(object.spec, key.namespace, lookup).ok) {
            const deadlineAt = deadlineOf(view, base.now);
            return begin(context, key, object, view, base, {
              id: requestId(view),
              restart: false,
              ...(deadlineAt ? { deadlineAt } : {}),
            });
          }
          return { requeueAfterMs: action.requeueAfterMs };
        }
        case 'record': {
          // An older request's run: superseded; the current request starts on the next reconcile.
          if (action.run.id !== requestId(view)) {
            deps.runner.forget(runKeyOf);
            return { requeueAfterMs: 1 };
          }
          // Forgotten only once its outcome is in status: a failed write is retried, not lost.
          const { requeueAfterMs } = await record(context, object, view, base, action.run);
          deps.runner.forget(runKeyOf);
          return requeueAfterMs === undefined ? undefined : { requeueAfterMs };
        }
        case 'start':
          return begin(context, key, object, view, base, {
            id: action.runId,
            restart: action.restart,
            ...(action.deadlineAt ? { deadlineAt: action.deadlineAt } : {}),
          });
      }
    },
  };
}

/**
 * Ports whose store of `backupStorage` (the very object the parsed config holds) opens through
 * `open`, with the KafkaBackup namespace's Secrets; every other store (evidence.storage) as before.
 */
export function withBackupStore(
  base: AppPorts,
  backupStorage: StorageSpec,
  open: (spec: StorageSpec) => Promise<ObjectStore>,
): AppPorts {
  return {
    ...base,
    openStore: (spec, request) => (spec === backupStorage ? open(spec) : base.openStore(spec, request)),
  };
}

/** When to retry a request that just failed to run: this try is now (see nextStalledTry). */
function stalledDelay(view: ValidationView, now: Date): number {
  const stalled = view.conditions?.find((c) => c.type === 'Stalled' && c.status === 'True');
  const since = stalled ? new Date(stalled.lastTransitionTime) : now;
  return nextStalledTry(since, now.toISOString(), now).getTime() - now.getTime();
}

function viewOf(
  object: KubeObject,
  spec: Record<string, unknown>,
  status: Record<string, unknown>,
): ValidationView {
  const deadline = spec.activeDeadlineSeconds;
  return {
    generation: object.metadata.generation ?? 0,
    rerun: object.metadata.annotations?.[RERUN_ANNOTATION] ?? '',
    ...(typeof status.phase === 'string' ? { phase: status.phase } : {}),
    ...(typeof status.observedGeneration === 'number'
      ? { observedGeneration: status.observedGeneration }
      : {}),
    ...(typeof status.observedRerun === 'string' ? { observedRerun: status.observedRerun } : {}),
    ...(Array.isArray(status.conditions) ? { conditions: status.conditions as Condition[] } : {}),
    ...(typeof status.startTime === 'string' ? { startTime: status.startTime } : {}),
    ...(typeof deadline === 'number' ? { activeDeadlineSeconds: deadline } : {}),
  };
}

function createdAtOf(object: KubeObject): Date | undefined {
  const created = object.metadata.creationTimestamp;
  return typeof created === 'string' ? new Date(created) : undefined;
}

/** The run as data for a Job: the resolved spec, its Secrets, its deadline and the tool version. */
function requestOf(
  object: KubeObject,
  runId: string,
  resolved: Extract<ResolvedBackupRef, { ok: true }>,
  deadline: { at: Date; seconds: number } | undefined,
  toolVersion: string,
): RunRequest {
  const namespace = object.metadata.namespace ?? '';
  return {
    kind: 'validation',
    owner: ownerOf(object),
    runId,
    spec: resolved.spec,
    secrets: secretsOf(resolved.spec, namespace, resolved.storageNamespace),
    toolVersion,
    ...(deadline ? { activeDeadlineSeconds: deadline.seconds, deadlineAt: deadline.at.toISOString() } : {}),
  };
}
