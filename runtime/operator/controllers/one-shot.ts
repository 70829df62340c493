/**
 * The reconciler shared by the one-shot kinds (KafkaRestore, KafkaOffsetReset, KafkaOffsetRollback):
 * decideOneShot() says what is next, this module does it - prepares (resolves references, validates,
 * publishes the plan), gates on approval, starts the run in the runner, publishes progress, enforces
 * activeDeadlineSeconds, and writes the outcome with an Event per phase transition.
 */
import { type Classification, classify } from '../../app/errors.ts';
import type { Progress } from '../../engine/progress.ts';
import type { RunMetrics, RunResult } from '../../metrics/run-metrics.ts';
import { SecretNotAvailableError } from '../api-secrets.ts';
import type { Controller, ReconcileContext, ReconcileResult } from '../controller.ts';
import { addFinalizer, hasFinalizer, removeFinalizer } from '../finalizers.ts';
import { type KubeObject, type ObjectKey, RERUN_ANNOTATION, type ResourceKind } from '../resource.ts';
import type { RunRequest } from '../runs/run-request.ts';
import { type RunControls, type Runner, runKey, where } from '../runs/runner.ts';
import {
  type Condition,
  type Health,
  healthConditions,
  setCondition,
  statusOf,
  writeStatus,
} from '../status.ts';
import { decideOneShot, type OneShotDecision, runIdOf, stalledRetryMs } from './one-shot-decision.ts';
import { UnresolvedReferenceError } from './references.ts';

/** What a kind resolved before acting: the plan to publish and the work to run. */
export interface Prepared<R> {
  /** Status fields describing what the run will do (published before it acts). */
  readonly status: Record<string, unknown>;
  /** One line for the AwaitingApproval message and the start Event. */
  readonly summary: string;
  readonly work: (controls: RunControls) => Promise<R>;
  /** The same run as data, for a runner that executes it outside the operator (a Job). */
  readonly request?: Omit<RunRequest, 'runId'>;
}

/** How a run that returned ends in status. */
export interface Outcome {
  readonly phase: string;
  /** `ready` ends Ready=True; `failed` ends Ready=False (not retried); `resume` runs again. */
  readonly health: 'ready' | 'failed' | 'resume';
  readonly reason: string;
  readonly message: string;
  readonly status: Record<string, unknown>;
  /** Records and bytes moved, for the run metrics. */
  readonly records?: number;
  readonly bytes?: number;
}

export interface OneShotKind<R> {
  readonly kind: ResourceKind;
  /** 'Restore', 'OffsetReset', 'OffsetRollback': Event reasons are built from it. */
  readonly noun: string;
  prepare(object: KubeObject, context: ReconcileContext, options: { fresh: boolean }): Promise<Prepared<R>>;
  outcome(result: R, object: KubeObject): Outcome;
  /** Status fields while running. */
  progressStatus?(progress: Progress): Record<string, unknown>;
  /** Upkeep of a finished resource (e.g. deleting an expired snapshot); says when to look again. */
  whenDone?(object: KubeObject, context: ReconcileContext, now: Date): Promise<ReconcileResult | undefined>;
  /** What a resource leaves outside itself (e.g. an offset snapshot in storage), removed when it is deleted. */
  readonly cleanup?: Cleanup;
}

/**
 * A finalizer and its cleanup. The finalizer is on the resource exactly while `needed` holds, so
 * deleting a resource that left nothing behind is never delayed.
 */
export interface Cleanup {
  readonly finalizer: string;
  needed(status: Record<string, unknown>): boolean;
  /** Idempotent (a retry after a partial cleanup, or a second replica, repeats it); says what it removed. */
  run(object: KubeObject, context: ReconcileContext): Promise<string>;
}

/** How long a failing cleanup is retried before the resource is let go, with a Warning naming what stayed. */
export const CLEANUP_GIVE_UP_MS = 5 * 60_000;
const CLEANUP_RETRY_MS = 10_000;

export interface OneShotDeps {
  readonly runner: Runner;
  readonly metrics: RunMetrics;
  readonly now?: () => Date;
}

interface Spec {
  readonly approval?: { readonly policy?: 'Automatic' | 'Manual'; readonly approved?: boolean };
  readonly activeDeadlineSeconds?: number;
}

export function oneShotController<R>(definition: OneShotKind<R>, deps: OneShotDeps): Controller {
  const now = deps.now ?? (() => new Date());
  // Stalled keys wait here, in memory, so that our own status write (a watch event) is no hot loop.
  const retries = new Map<string, { attempt: number; at: number }>();
  return {
    kind: definition.kind,
    // biome-ignore lint/suspicious/noConfusingVoidType: the Controller contract (nothing to requeue)
    async reconcile(key: ObjectKey, context: ReconcileContext): Promise<ReconcileResult | void> {
      const rk = runKey(definition.kind, key);
      const object = context.cache.get(key);
      if (!object) {
        // Deleted: stop its run (it saves a checkpoint) and forget it.
        if (deps.runner.get(rk)?.state === 'running') await deps.runner.abort(rk);
        deps.runner.forget(rk);
        retries.delete(rk);
        deps.metrics.forget(definition.kind, key);
        return;
      }
      const status = statusOf(object);
      const at = now();
      if (definition.cleanup) {
        const handled = await finalize(definition.cleanup, definition.kind, object, status, context, at);
        if (handled) {
          if (object.metadata.deletionTimestamp && deps.runner.get(rk)?.state === 'running')
            await deps.runner.abort(rk);
          return handled === true ? undefined : handled;
        }
      }
      const spec = (object.spec ?? {}) as Spec;
      const run = deps.runner.get(rk);
      const rerun = object.metadata.annotations?.[RERUN_ANNOTATION] ?? '';
      const observedRerun = typeof status.observedRerun === 'string' ? status.observedRerun : '';
      const decision: OneShotDecision = decideOneShot({
        generation: object.metadata.generation ?? 0,
        rerun,
        status: {
          ...(typeof status.phase === 'string' ? { phase: status.phase } : {}),
          ...(typeof status.observedGeneration === 'number'
            ? { observedGeneration: status.observedGeneration }
            : {}),
          observedRerun,
          ...(typeof status.startTime === 'string' ? { startTime: status.startTime } : {}),
        },
        approval: {
          policy: spec.approval?.policy === 'Manual' ? 'Manual' : 'Automatic',
          approved: spec.approval?.approved === true,
        },
        ...(spec.activeDeadlineSeconds !== undefined
          ? { activeDeadlineSeconds: spec.activeDeadlineSeconds }
          : {}),
        ...(run ? { run: { state: run.state, id: run.id } } : {}),
        now: at,
      });
      const writer = { client: context.client, recorder: context.recorder };
      /** Status patch, plus the Event and a log line of a transition. */
      const write = async (
        fields: Record<string, unknown>,
        event?: { type: 'Normal' | 'Warning'; reason: string; note: string },
      ) => {
        await writeStatus(writer, definition.kind, object, fields, event);
        if (event) context.log.info(event.note, { reason: event.reason, phase: fields.phase });
      };
      const generation = object.metadata.generation;
      const conditions = status.conditions as Condition[] | undefined;
      const health = (h: Health, reason: string, message: string) =>
        healthConditions(conditions, h, reason, message, generation, at);
      /** The run metrics of a run that ended; its duration from status.startTime (kept across resumes). */
      const ended = (result: RunResult, moved: { records?: number; bytes?: number } = {}) =>
        deps.metrics.runEnded(definition.kind, key, {
          result,
          startedAt: typeof status.startTime === 'string' ? new Date(status.startTime) : undefined,
          endedAt: at,
          ...(moved.records !== undefined ? { records: moved.records } : {}),
          ...(moved.bytes !== undefined ? { bytes: moved.bytes } : {}),
        });
      const phaseEvent = (phase: string, type: 'Normal' | 'Warning', reason: string, note: string) =>
        status.phase === phase ? undefined : { type, reason, note };

      switch (decision.action) {
        case 'done':
          if (run && run.state !== 'running') deps.runner.forget(rk);
          return definition.whenDone ? await definition.whenDone(object, context, at) : undefined;
        case 'awaiting-approval':
          if (run && run.state !== 'running') deps.runner.forget(rk);
          return;
        case 'watch': {
          const progress = run?.progress;
          if (progress && definition.progressStatus) {
            await write(definition.progressStatus(progress));
          }
          return decision.deadlineInMs !== undefined
            ? { requeueAfterMs: decision.deadlineInMs + 100 }
            : undefined;
        }
        case 'deadline-exceeded': {
          if (run?.state === 'running') await deps.runner.abort(rk);
          deps.runner.forget(rk);
          const message = `the run did not finish within activeDeadlineSeconds (${spec.activeDeadlineSeconds} s): it was stopped`;
          ended('deadline_exceeded');
          await write(
            {
              phase: 'Failed',
              message,
              completionTime: at.toISOString(),
              observedGeneration: generation,
              conditions: health('failed', 'DeadlineExceeded', message),
            },
            { type: 'Warning', reason: 'DeadlineExceeded', note: message },
          );
          return;
        }
        case 'finish': {
          const snapshot = run;
          deps.runner.forget(rk);
          if (!snapshot) return;
          if (decision.state === 'succeeded') {
            const outcome = definition.outcome(snapshot.result as R, object);
            if (outcome.health === 'resume') {
              // Stopped at a checkpoint (shutdown): the next reconcile starts it again.
              ended('interrupted');
              return { requeueAfterMs: 1000 };
            }
            retries.delete(rk);
            ended(outcome.health === 'ready' ? 'succeeded' : 'failed', outcome);
            await write(
              {
                ...outcome.status,
                phase: outcome.phase,
                message: outcome.message,
                completionTime: at.toISOString(),
                observedGeneration: generation,
                conditions: health(outcome.health, outcome.reason, outcome.message),
              },
              {
                type: outcome.health === 'ready' ? 'Normal' : 'Warning',
                reason: `${definition.noun}${outcome.phase}`,
                note: outcome.message,
              },
            );
            return;
          }
          const failure = classify(snapshot.error);
          // A retriable failure is a failed run too; the resumed run counts as a new one.
          ended('failed');
          if (failure.class === 'terminal' && !FIXED_OUTSIDE_THE_RUN.has(failure.reason))
            return fail(failure.reason, failure.message);
          return stall(failure.reason, failure.message, true);
        }
        case 'prepare':
          break;
      }

      // prepare: wait out a Stalled backoff first.
      const retry = retries.get(rk);
      if (retry && retry.at > at.getTime()) return { requeueAfterMs: retry.at - at.getTime() };
      const fresh = decision.fresh;
      let prepared: Prepared<R>;
      try {
        prepared = await definition.prepare(object, context, { fresh });
      } catch (error) {
        const failure = classifyPrepareError(error);
        if (failure.class === 'terminal') return fail(failure.reason, failure.message, fresh);
        return stall(failure.reason, failure.message, !fresh);
      }
      retries.delete(rk);
      const restart = fresh
        ? { observedRerun: rerun, startTime: null, completionTime: null }
        : { observedRerun };
      const manual = spec.approval?.policy === 'Manual';
      if (!decision.approved) {
        const message = `waiting for approval (set spec.approval.approved: true): ${prepared.summary}`;
        await write(
          {
            ...prepared.status,
            ...restart,
            phase: 'AwaitingApproval',
            message,
            observedGeneration: generation,
            conditions: setCondition(
              health('reconciling', 'AwaitingApproval', message),
              { type: 'Approved', status: 'False', reason: 'AwaitingApproval', message },
              generation,
              at,
            ),
          },
          phaseEvent('AwaitingApproval', 'Normal', 'AwaitingApproval', message),
        );
        return;
      }
      // Start (or resume) the run of the current rerun value.
      if (run && run.state !== 'running') deps.runner.forget(rk);
      const runRerun = fresh ? rerun : observedRerun;
      const runId = runIdOf(runRerun);
      const started = deps.runner.start(
        rk,
        runId,
        prepared.work,
        prepared.request ? { ...prepared.request, runId } : undefined,
      );
      const startTime = fresh || typeof status.startTime !== 'string' ? at.toISOString() : status.startTime;
      const message = `${fresh ? 'running' : 'resumed'}: ${prepared.summary}${where(started)}`;
      deps.metrics.runStarted(definition.kind);
      await write(
        {
          ...prepared.status,
          ...restart,
          phase: 'Running',
          message,
          startTime,
          completionTime: null,
          observedGeneration: generation,
          conditions: setCondition(
            health('reconciling', 'Running', message),
            {
              type: 'Approved',
              status: 'True',
              reason: manual ? 'Approved' : 'AutomaticApproval',
              message: manual ? 'approved in spec.approval.approved' : 'approval.policy is Automatic',
            },
            generation,
            at,
          ),
        },
        // A resume is worth an Event although the phase stays Running.
        fresh
          ? phaseEvent('Running', 'Normal', `${definition.noun}Started`, message)
          : { type: 'Normal', reason: `${definition.noun}Resumed`, note: message },
      );
      const deadline = spec.activeDeadlineSeconds;
      if (deadline === undefined) return;
      return { requeueAfterMs: Math.max(0, Date.parse(startTime) + deadline * 1000 - at.getTime()) + 100 };

      /** Failed for good: fix the spec (before a start) or create a new resource / rerun. */
      async function fail(reason: string, message: string, clearStart = false): Promise<void> {
        await write(
          {
            ...(clearStart ? { observedRerun: rerun, startTime: null } : {}),
            phase: 'Failed',
            message,
            completionTime: at.toISOString(),
            observedGeneration: generation,
            conditions: health('failed', reason, message),
          },
          phaseEvent('Failed', 'Warning', `${definition.noun}Failed`, message),
        );
      }

      /** Cannot progress now (missing Secret, KafkaBackup, bucket, broker...): retried with backoff. */
      async function stall(reason: string, message: string, started: boolean): Promise<ReconcileResult> {
        const attempt = (retries.get(rk)?.attempt ?? 0) + 1;
        const delay = stalledRetryMs(attempt);
        retries.set(rk, { attempt, at: at.getTime() + delay });
        const text = `${message} (retrying in ${Math.round(delay / 1000)} s)`;
        await write(
          {
            // Started runs keep startTime: the spec stays immutable and the retry resumes.
            phase: 'Pending',
            message: text,
            observedGeneration: generation,
            ...(started ? {} : { observedRerun: rerun, startTime: null }),
            conditions: health('stalled', reason, text),
          },
          status.phase === 'Pending' && isStalled(conditions)
            ? undefined
            : { type: 'Warning', reason: `${definition.noun}Stalled`, note: text },
        );
        return { requeueAfterMs: delay };
      }
    },
  };
}

function isStalled(conditions: readonly Condition[] | undefined): boolean {
  return conditions?.some((c) => c.type === 'Stalled' && c.status === 'True') ?? false;
}

/**
 * Before acting, what is missing may still appear (a KafkaBackup, a Secret, a bucket, a backup set):
 * those stall and are retried with backoff; invalid specs and refused credentials fail.
 */
/**
 * Terminal for the run (the CLI exits 4 at once) but fixed outside it, in a Secret, a CA or an ACL:
 * the resource stays Stalled and is retried with backoff rather than Failed.
 */
const FIXED_OUTSIDE_THE_RUN: ReadonlySet<string> = new Set([
  'AuthenticationFailed',
  'AuthorizationFailed',
  'TLSHandshakeFailed',
]);

export function classifyPrepareError(error: unknown): {
  readonly class: Classification['class'];
  readonly reason: string;
  readonly message: string;
} {
  if (error instanceof UnresolvedReferenceError)
    return { class: 'retriable', reason: error.reason, message: error.message };
  const failure = classify(error);
  if (error instanceof SecretNotAvailableError || secretMissing(error)) {
    return { class: 'retriable', reason: 'SecretNotFound', message: failure.message };
  }
  if (failure.reason === 'NotFound' || FIXED_OUTSIDE_THE_RUN.has(failure.reason))
    return { ...failure, class: 'retriable' };
  return failure;
}

/** Spec parsing collects a missing Secret as one of its problems (a ConfigError): still retriable. */
function secretMissing(error: unknown): boolean {
  return error instanceof Error && /Secret \S+ (does not exist|has no key)/.test(error.message);
}

/**
 * The finalizer's part of a reconcile: added while the resource leaves something behind, removed
 * when it no longer does; on deletion, the cleanup runs and then the finalizer goes. Returns
 * undefined when the reconcile should go on, true or a requeue when this reconcile is done.
 */
async function finalize(
  cleanup: Cleanup,
  kind: ResourceKind,
  object: KubeObject,
  status: Record<string, unknown>,
  context: ReconcileContext,
  at: Date,
): Promise<true | ReconcileResult | undefined> {
  const present = hasFinalizer(object, cleanup.finalizer);
  if (!object.metadata.deletionTimestamp) {
    const needed = cleanup.needed(status);
    if (needed && !present) await addFinalizer(context.client, kind, object, cleanup.finalizer);
    else if (!needed && present) await removeFinalizer(context.client, kind, object, cleanup.finalizer);
    else return undefined;
    return true; // the write is a new version: the next reconcile sees it
  }
  if (!present) return true;
  try {
    const note = await cleanup.run(object, context);
    context.log.info(note, { reason: 'CleanedUp' });
    await context.recorder.normal(object, 'CleanedUp', 'Delete', note);
  } catch (error) {
    const message = classify(error).message;
    const pendingMs = at.getTime() - Date.parse(object.metadata.deletionTimestamp);
    // A reference that no longer resolves (its KafkaBackup deleted too) will not come back.
    const hopeless = error instanceof UnresolvedReferenceError;
    if (!hopeless && pendingMs < CLEANUP_GIVE_UP_MS) {
      context.log.warn('cleanup failed; retrying', { error: message });
      return { requeueAfterMs: CLEANUP_RETRY_MS };
    }
    const note = hopeless
      ? `deleted without its cleanup: ${message}`
      : `deleted without its cleanup, which failed for ${Math.round(pendingMs / 60_000)} minutes: ${message}`;
    context.log.warn(note, { reason: 'CleanupAbandoned' });
    await context.recorder.warning(object, 'CleanupAbandoned', 'Delete', note);
  }
  await removeFinalizer(context.client, kind, object, cleanup.finalizer);
  return true;
}
