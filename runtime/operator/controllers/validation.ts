import { readFileSync } from 'node:fs';
import { classify } from '../../app/errors.ts';
import { type AppPorts, productionPorts } from '../../app/ports.ts';
import { validateWith } from '../../app/validate.ts';
import { openObjectStore } from '../../config/object-store-factory.ts';
import { validationConfigFromSpec } from '../../config/operations.ts';
import type { StorageSpec } from '../../config/storage.ts';
import type { Logger } from '../../log.ts';
import type { ObjectStore } from '../../storage/object-store.ts';
import type { ValidateCommandResult } from '../../validation/commands.ts';
import { apiSecrets } from '../api-secrets.ts';
import type { Controller, ReconcileContext, ReconcileResult } from '../controller.ts';
import type { SecretReader } from '../kube/port.ts';
import type { ControllerDeps } from '../main.ts';
import { KAFKA_KINDS, type KubeObject, keyOf, type ObjectKey } from '../resource.ts';
import { type RunSnapshot, runKey } from '../runs/runner.ts';
import { type Condition, statusOf, writeStatus } from '../status.ts';
import { type RunResult, runMetricsOf } from './run-metrics.ts';
import { bounded, DeadlineExceededError, stopSignal } from './validation-deadline.ts';
import {
  deadlineOf,
  decideValidation,
  nextStalledTry,
  RERUN_ANNOTATION,
  requestId,
  type ValidationView,
} from './validation-decision.ts';
import { type ResolvedBackupRef, refersTo, resolveBackupRef } from './validation-reference.ts';
import type { ValidationScheduler } from './validation-schedule.ts';
import {
  deadlineStatus,
  type RunOutput,
  resultStatus,
  type StatusChange,
  scheduleUnavailableStatus,
  stalledReason,
  stalledStatus,
  startedStatus,
} from './validation-status.ts';

/**
 * The KafkaBackupValidation controller: resolves `backupRef` through the KafkaBackup cache, runs the
 * validation use case (runtime/app/validate.ts) in the runner, and writes its outcome to status.
 * Decisions are validation-decision.ts, status shapes validation-status.ts; this file does the I/O.
 */
const KIND = KAFKA_KINDS.KafkaBackupValidation;

export interface ValidationControllerOptions {
  /** Connects spec.schedule (validation-schedule.ts); without one a scheduled validation is Stalled. */
  readonly scheduler?: ValidationScheduler;
  /** The use case's ports for one run (tests); default the production adapters with API Secrets. */
  readonly portsFor?: (run: { log: Logger; secrets: SecretReader; namespace: string }) => AppPorts;
  readonly now?: () => Date;
}

/** Stalled reasons that a change of the referenced KafkaBackup can resolve. */
const REFERENCE_REASONS = new Set(['BackupNotFound', 'InvalidBackupReference']);

export function validationController(
  deps: ControllerDeps,
  options: ValidationControllerOptions = {},
): Controller {
  const now = options.now ?? (() => new Date());
  const metrics = runMetricsOf(deps.metrics.registry);
  const version = toolVersion();

  async function apply(context: ReconcileContext, object: KubeObject, change: StatusChange): Promise<void> {
    await writeStatus(context, KIND, object, change.status, change.event);
  }

  function startRun(
    key: ObjectKey,
    runId: string,
    resolved: Extract<ResolvedBackupRef, { ok: true }>,
    deadline: { at: Date; seconds: number } | undefined,
  ): void {
    const source = `KafkaBackupValidation ${key.namespace}/${key.name}`;
    const log = deps.log.child({ kind: KIND.kind, namespace: key.namespace, name: key.name, run: runId });
    metrics.runStarted(KIND);
    deps.runner.start<RunOutput>(runKey(KIND, key), runId, async (controls) => {
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
      const stop = stopSignal(controls.signal, deadline);
      try {
        const result = await bounded(
          validateWith(config, ports, {
            toolVersion: version,
            triggeredBy: source,
            notificationSource: source,
            signal: stop.signal,
          }),
          stop.signal,
        );
        return runOutput(result, config.evidenceStorage ? undefined : result.report.backup.storage);
      } finally {
        stop.dispose();
      }
    });
  }

  type Base = Parameters<typeof resultStatus>[0];

  /** A finished run: its outcome to status. Returns when to look again. */
  async function record(
    context: ReconcileContext,
    object: KubeObject,
    view: ValidationView,
    base: Base,
    finished: RunSnapshot,
  ): Promise<ReconcileResult | undefined> {
    const ended = (result: RunResult) =>
      metrics.runEnded(KIND, keyOf(object), {
        result,
        startedAt: finished.startedAt,
        endedAt: finished.endedAt ?? base.now,
      });
    if (finished.state === 'succeeded' && finished.result) {
      const change = resultStatus(base, finished.result as RunOutput);
      await apply(context, object, change);
      ended(change.result ?? 'succeeded');
      return undefined;
    }
    if (finished.error instanceof DeadlineExceededError) {
      await apply(context, object, deadlineStatus(base, finished.error.seconds));
      ended('deadline_exceeded');
      return undefined;
    }
    const { reason, message } = stalledReason(classify(finished.error));
    const delay = stalledDelay(view, base.now);
    context.log.warn('validation cannot run', { reason, message });
    await apply(context, object, stalledStatus(base, reason, message, delay));
    // The run failed; the retry is a new run.
    ended('failed');
    return { requeueAfterMs: delay };
  }

  /** Resolves backupRef and starts the run, or reports why it cannot start. */
  async function begin(
    context: ReconcileContext,
    key: ObjectKey,
    object: KubeObject,
    view: ValidationView,
    base: Base,
    run: { readonly id: string; readonly restart: boolean; readonly deadlineAt?: Date },
  ): Promise<ReconcileResult | undefined> {
    const resolved = resolveBackupRef(object.spec, key.namespace, (k) =>
      context.cacheOf(KAFKA_KINDS.KafkaBackup).get(k),
    );
    if (!resolved.ok) {
      const delay = stalledDelay(view, base.now);
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
      await context.client.patchStatus(KIND, key, { startTime: base.now.toISOString() });
    } else {
      await apply(context, object, startedStatus(base, resolved.backupId, run.restart));
    }
    const seconds = view.activeDeadlineSeconds;
    startRun(key, run.id, resolved, run.deadlineAt && seconds ? { at: run.deadlineAt, seconds } : undefined);
    return run.deadlineAt
      ? { requeueAfterMs: Math.max(1, run.deadlineAt.getTime() - base.now.getTime()) }
      : undefined;
  }

  /** spec.schedule through the connected scheduler: the same runs, started when it says so. */
  async function scheduled(
    context: ReconcileContext,
    key: ObjectKey,
    object: KubeObject,
    view: ValidationView,
    base: Base,
    scheduler: ValidationScheduler,
  ): Promise<ReconcileResult | undefined> {
    const spec = (object.spec ?? {}) as Record<string, unknown>;
    const status = statusOf(object);
    const run = deps.runner.get(runKey(KIND, key));
    if (run?.state === 'running') {
      const deadline = deadlineOf(view, run.startedAt);
      return deadline ? { requeueAfterMs: Math.max(1, deadline.getTime() - base.now.getTime()) } : undefined;
    }
    if (run) {
      const next = await record(context, object, view, base, run);
      deps.runner.forget(runKey(KIND, key));
      return next ?? { requeueAfterMs: 1 };
    }
    const last = statusString(status.lastScheduleTime);
    const decision = scheduler(
      {
        schedule: String(spec.schedule),
        ...(typeof spec.timeZone === 'string' ? { timeZone: spec.timeZone } : {}),
        suspend: spec.suspend === true,
        ...(last ? { lastScheduleTime: new Date(last) } : {}),
        running: false,
      },
      base.now,
    );
    if (decision.next && statusString(status.nextScheduleTime) !== decision.next.toISOString()) {
      const next = decision.next.toISOString();
      await context.client.patchStatus(KIND, key, { nextScheduleTime: next, nextScheduledValidation: next });
    }
    if (decision.due) {
      const deadlineAt = deadlineOf(view, base.now);
      return begin(context, key, object, view, base, {
        id: decision.runId ?? base.now.toISOString(),
        restart: false,
        ...(deadlineAt ? { deadlineAt } : {}),
      });
    }
    return decision.next
      ? { requeueAfterMs: Math.max(1, decision.next.getTime() - base.now.getTime()) }
      : undefined;
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
        return;
      }
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
        if (options.scheduler) return scheduled(context, key, object, view, base, options.scheduler);
        if (status.phase !== 'Pending' || view.observedGeneration !== view.generation) {
          await apply(context, object, scheduleUnavailableStatus(base));
        }
        return;
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
          const next = await record(context, object, view, base, action.run);
          deps.runner.forget(runKeyOf);
          return next;
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

const statusString = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function runOutput(result: ValidateCommandResult, storage: string | undefined): RunOutput {
  return {
    report: result.report,
    ...(result.keys ? { reportPath: storage ? `${storage}/${result.keys.json}` : result.keys.json } : {}),
    ...(result.notifications ? { notifications: result.notifications } : {}),
    ...(result.pruned ? { pruned: result.pruned } : {}),
  };
}

/** The package version for the report, from source or compiled code. */
function toolVersion(): string {
  for (const up of ['../../../package.json', '../../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === '@oso/kafka-backup-k8s' && pkg.version) return pkg.version;
    } catch {
      // not there: try the next level
    }
  }
  return 'unknown';
}
