/**
 * The KafkaBackup controller: decides (backup-decisions.ts) and carries it out. Runs go through the
 * runner (one per resource), status is written from the run's state and from storage (what the
 * bucket holds, backup-storage.ts), and every transition is an Event.
 */
import { type AppPorts, classify, productionPorts } from '../../app/index.ts';
import type { BackupResult } from '../../engine/backup.ts';
import type { PruneResult } from '../../format/repository.ts';
import type { Logger } from '../../log.ts';
import type { LiveRunMetrics } from '../../metrics/live-run-metrics.ts';
import type { RunMetrics } from '../../metrics/run-metrics.ts';
import { apiSecrets } from '../api-secrets.ts';
import type { Controller, ReconcileContext } from '../controller.ts';
import type { KubePort } from '../kube/port.ts';
import { KAFKA_KINDS, type KubeObject, keyOf, type ObjectKey } from '../resource.ts';
import { DeadlineExceededError } from '../runs/run-errors.ts';
import { ownerOf, type RunRequest, secretsOf } from '../runs/run-request.ts';
import { backupWork } from '../runs/run-work.ts';
import { type Runner, type RunSnapshot, runKey, where } from '../runs/runner.ts';
import { type Condition, type Health, healthConditions, statusOf, writeStatus } from '../status.ts';
import {
  type BackupView,
  decide,
  type HistoryEntry,
  type LastOutcome,
  type StartReason,
  trimHistory,
} from './backup-decisions.ts';
import { type CronSchedule, parseSchedule, ScheduleError } from './backup-schedule.ts';
import { readStoredState } from './backup-storage.ts';

const KIND = KAFKA_KINDS.KafkaBackup;
export const RERUN_ANNOTATION = 'kafka.oso.sh/rerun';
/** Look again soon when the cache held a deleted object that a new one of the same name replaced. */
const STALE_RETRY = { requeueAfterMs: 200 };
/** While a run goes, what storage holds is read again after a checkpoint at most this often. */
const STORAGE_READ_WHILE_RUNNING_MS = 60_000;
/** Progress is written to status at most this often while a run goes. */
const PROGRESS_WRITE_MS = 5_000;

export interface BackupControllerDeps {
  readonly runner: Runner;
  readonly metrics: RunMetrics;
  /** Where in-process runs publish their live figures (the operator's /metrics). */
  readonly live?: LiveRunMetrics;
  /** The use case's ports for one resource's namespace (tests replace the adapters). */
  readonly ports?: (namespace: string, client: KubePort, log: Logger) => AppPorts;
  readonly now?: () => Date;
}

interface BackupSpec {
  readonly schedule?: string;
  readonly timeZone?: string;
  readonly suspend?: boolean;
  readonly concurrencyPolicy?: 'Forbid' | 'Replace';
  readonly continuous?: boolean;
  readonly successfulRunsHistoryLimit?: number;
  readonly failedRunsHistoryLimit?: number;
  readonly activeDeadlineSeconds?: number;
  readonly metrics?: { readonly enabled?: boolean };
  readonly retention?: { readonly enabled?: boolean; readonly dryRun?: boolean };
}

/**
 * A run's result, with the retention pass that followed it (spec.retention.enabled): part of the same
 * work on the runner, so it stays off the reconcile's path and never overlaps the next run. Its
 * failure is reported here, never as the run's.
 */
export type BackupRunResult = BackupResult & {
  readonly retention?: { readonly pruned: PruneResult } | { readonly error: string };
};

type Status = Record<string, unknown>;
type Event = { readonly type: 'Normal' | 'Warning'; readonly reason: string; readonly note: string };

/** Failures fixed outside the run (a Secret, a bucket, a broker, the spec): Stalled and retried with backoff. */
const FIXABLE = new Set([
  'InvalidConfig',
  'KafkaUnavailable',
  'KafkaRejected',
  'AuthenticationFailed',
  'AuthorizationFailed',
  'TLSHandshakeFailed',
  'BrokerUnreachable',
  'UnsupportedBrokerVersion',
  'StorageUnavailable',
  'StorageAccessDenied',
  'NotFound',
  'DeadlineExceeded',
  // A run stopped from outside (its Job deleted): the next run resumes from the checkpoint.
  'Interrupted',
]);

export function backupController(deps: BackupControllerDeps): Controller {
  const clock = deps.now ?? (() => new Date());
  const portsFor =
    deps.ports ??
    ((namespace: string, client: KubePort, log: Logger) =>
      productionPorts({ log, secrets: apiSecrets(client, namespace) }));
  const lastProgressWrite = new Map<string, number>();
  const lastSkipped = new Map<string, number>();

  return {
    kind: KIND,
    async reconcile(key, context) {
      const rk = runKey(KIND, key);
      const object = context.cache.get(key);
      if (!object || object.metadata.deletionTimestamp) {
        await deps.runner.abort(rk);
        deps.runner.forget(rk);
        lastProgressWrite.delete(rk);
        lastSkipped.delete(rk);
        deps.metrics.forget(KIND, key);
        return;
      }
      const spec = (object.spec ?? {}) as BackupSpec;
      // spec.metrics.enabled turned off: its last-success series goes at once, not at the next run.
      if (spec.metrics?.enabled === false) deps.metrics.forget(KIND, key);
      const generation = object.metadata.generation ?? 0;
      const source = `KafkaBackup ${key.namespace}/${key.name}`;
      const ports = portsFor(key.namespace, context.client, context.log);
      let status: Status = { ...statusOf(object) };
      const patch: Status = {};
      const events: Event[] = [];
      const set = (fields: Status) => {
        Object.assign(patch, fields);
        status = { ...status, ...fields };
      };
      const setHealth = (health: Health, reason: string, message: string) =>
        set({
          conditions: healthConditions(
            status.conditions as Condition[] | undefined,
            health,
            reason,
            message,
            generation,
            clock(),
          ),
          message,
        });

      // 1. A run that ended: its outcome goes to status before anything is decided.
      const ended = deps.runner.get<BackupRunResult>(rk);
      if (ended && ended.state !== 'running') {
        recordOutcome(ended, spec, key, status, set, setHealth, events, deps.metrics, clock());
        deps.runner.forget(rk);
        lastProgressWrite.delete(rk);
        if (ended.state === 'succeeded')
          await refreshFromStorage(object, ports, source, set, context, clock());
      }

      // 2. A schedule that cannot be evaluated: nothing can run until the spec changes.
      let schedule: CronSchedule | undefined;
      if (spec.schedule !== undefined) {
        try {
          schedule = parseSchedule(spec.schedule, spec.timeZone ?? 'UTC');
        } catch (error) {
          if (!(error instanceof ScheduleError)) throw error;
          const wasStalled = status.phase === 'Failed' && reasonOf(status, 'Stalled') === 'InvalidSchedule';
          set({ phase: 'Failed', nextScheduleTime: null, nextScheduledBackup: null });
          setHealth('stalled', 'InvalidSchedule', `${error.message}; fix spec.schedule or spec.timeZone`);
          if (!wasStalled) events.push({ type: 'Warning', reason: 'InvalidSchedule', note: error.message });
          if (!(await flush(context, object, patch, events, generation))) return STALE_RETRY;
          return;
        }
      }

      const running = deps.runner.get(rk)?.state === 'running';

      // 3. Decide.
      const now = clock();
      const view = viewOf(object, spec, status, generation, running);
      const run = deps.runner.get(rk);
      const decision = decide(
        view,
        run ? { state: run.state, startedAt: run.startedAt } : undefined,
        schedule,
        now,
      );
      const nextScheduleTime = decision.nextScheduleTime?.toISOString() ?? null;
      if (nextScheduleTime !== null && status.nextScheduleTime === undefined && !spec.suspend) {
        events.push({ type: 'Normal', reason: 'Scheduled', note: `next run at ${nextScheduleTime}` });
      }
      set({ nextScheduleTime, nextScheduledBackup: nextScheduleTime });

      if (decision.kind === 'start') {
        if (decision.replace) {
          await deps.runner.abort(rk);
          const replaced = deps.runner.get<BackupRunResult>(rk);
          if (replaced) {
            recordOutcome(
              replaced,
              spec,
              key,
              status,
              set,
              setHealth,
              events,
              deps.metrics,
              clock(),
              'replaced',
            );
            deps.runner.forget(rk);
          }
        }
        // A resumed run is the one status shows as started: a Job runner adopts its Job if it ended meanwhile.
        const resumeOf =
          decision.reason === 'resume' && typeof status.startTime === 'string' ? status.startTime : undefined;
        const started = startRun(
          deps.runner,
          rk,
          decision.at,
          spec,
          object,
          ports,
          source,
          key,
          resumeOf,
          deps.live,
        );
        deps.metrics.runStarted(KIND);
        const startedAt = clock().toISOString();
        set({
          phase: 'Running',
          lastScheduleTime: decision.at.toISOString(),
          startTime: startedAt,
          completionTime: null,
          checkpointEnabled: true,
          resumable: true,
          recordsProcessed: 0,
          bytesProcessed: 0,
          throughputRecordsPerSec: 0,
          throughputBytesPerSec: 0,
          ...(decision.reason === 'rerun' ? { observedRerun: view.rerun } : {}),
        });
        const stalledBefore = (status.conditions as Condition[] | undefined)?.find(
          (c) => c.type === 'Stalled' && c.status === 'True',
        );
        setHealth('reconciling', 'Running', startMessage(decision.reason, decision.at) + where(started));
        if (decision.reason === 'retry' && stalledBefore) {
          // A retry does not end the stall: Stalled stays True (since the first failure) until a run
          // succeeds, so the backoff, measured from it, grows with each failed retry.
          set({
            conditions: (status.conditions as Condition[]).map((c) =>
              c.type === 'Stalled' ? stalledBefore : c,
            ),
          });
        }
        events.push({
          type: 'Normal',
          reason: 'Started',
          note: startMessage(decision.reason, decision.at) + where(started),
        });
        if (!(await flush(context, object, patch, events, generation))) return STALE_RETRY;
        return requeue(decision.nextScheduleTime, now);
      }

      // 4. Waiting: progress of a running run, a skipped tick, or the phase at rest.
      const current = deps.runner.get(rk);
      let progressDueMs: number | undefined;
      if (current?.state === 'running') {
        const progress: Status = {
          ...(current.progress
            ? {
                recordsProcessed: current.progress.records,
                bytesProcessed: current.progress.bytes,
                throughputRecordsPerSec: Math.round(current.progress.recordsPerSec),
                throughputBytesPerSec: Math.round(current.progress.bytesPerSec),
              }
            : {}),
          ...(current.lastCheckpoint ? { lastCheckpointTime: current.lastCheckpoint.toISOString() } : {}),
        };
        const unwritten = Object.entries(progress).some(([k, v]) => status[k] !== v);
        const sinceWrite = now.getTime() - (lastProgressWrite.get(rk) ?? 0);
        if (unwritten && sinceWrite >= PROGRESS_WRITE_MS) {
          lastProgressWrite.set(rk, now.getTime());
          set(progress);
        } else if (unwritten) {
          // Throttled: come back for it, or the last numbers before a quiet spell never show.
          progressDueMs = PROGRESS_WRITE_MS - sinceWrite;
        }
        // A long run (continuous) commits as it goes: list what storage holds after a checkpoint,
        // at most once a minute.
        const readAt = typeof status.storageReadTime === 'string' ? Date.parse(status.storageReadTime) : 0;
        if (
          current.lastCheckpoint &&
          current.lastCheckpoint.getTime() > readAt &&
          now.getTime() - readAt >= STORAGE_READ_WHILE_RUNNING_MS
        ) {
          await refreshFromStorage(object, ports, source, set, context, now);
        }
        if (decision.skipped && lastSkipped.get(rk) !== decision.skipped.getTime()) {
          lastSkipped.set(rk, decision.skipped.getTime());
          events.push({
            type: 'Normal',
            reason: 'Skipped',
            note: `run due at ${decision.skipped.toISOString()} skipped: the run started at ${current.startedAt.toISOString()} is still going (concurrencyPolicy Forbid)`,
          });
        }
      } else if (spec.suspend && status.phase !== 'Suspended') {
        set({ phase: 'Suspended' });
        setHealth('ready', 'Suspended', 'suspended: no run starts until spec.suspend is false');
        events.push({ type: 'Normal', reason: 'Suspended', note: 'schedule suspended' });
      } else if (!spec.suspend && (status.phase === 'Suspended' || status.phase === undefined)) {
        const phase = status.lastRunId ? 'Ready' : 'Pending';
        set({ phase });
        setHealth('ready', 'Scheduled', nextScheduleTime ? `next run at ${nextScheduleTime}` : 'waiting');
        if (status.phase === 'Suspended')
          events.push({ type: 'Normal', reason: 'Resumed', note: 'schedule resumed' });
      }
      // A fresh cluster (disaster recovery, or a first reconcile): list what storage holds. Done
      // while idle, so reading the bucket never delays a scheduled start.
      if (current?.state !== 'running' && status.storageReadTime === undefined && status.phase !== 'Failed') {
        await refreshFromStorage(object, ports, source, set, context, clock());
      }
      if (!(await flush(context, object, patch, events, generation))) return STALE_RETRY;
      const requeueAfterMs =
        progressDueMs === undefined || decision.requeueAfterMs === undefined
          ? (progressDueMs ?? decision.requeueAfterMs)
          : Math.min(progressDueMs, decision.requeueAfterMs);
      if (requeueAfterMs === undefined) return undefined;
      // Measured from now: the storage read and the status write took time.
      const elapsed = clock().getTime() - now.getTime();
      return { requeueAfterMs: Math.max(requeueAfterMs - elapsed, 50) };
    },
  };
}

function requeue(next: Date | undefined, now: Date) {
  return next ? { requeueAfterMs: Math.max(50, next.getTime() - now.getTime()) } : undefined;
}

function startMessage(reason: StartReason, at: Date): string {
  switch (reason) {
    case 'scheduled':
      return `scheduled run for ${at.toISOString()} started`;
    case 'rerun':
      return `run requested with the ${RERUN_ANNOTATION} annotation started`;
    case 'retry':
      return 'run started again after the last one failed';
    case 'resume':
      return 'interrupted run resumed from its last checkpoint';
    case 'continuous':
      return 'continuous run restarted; it resumes from its last checkpoint';
    default:
      return 'run started';
  }
}

function startRun(
  runner: Runner,
  rk: string,
  at: Date,
  spec: BackupSpec,
  object: KubeObject,
  ports: AppPorts,
  source: string,
  key: ObjectKey,
  resumeOf: string | undefined,
  metrics: LiveRunMetrics | undefined,
): RunSnapshot<BackupRunResult> {
  const run = {
    source,
    name: key.name,
    activeDeadlineSeconds: spec.activeDeadlineSeconds,
    ...(metrics ? { metrics: { live: metrics, resource: { kind: KIND.kind, ...key } } } : {}),
  };
  const id = at.toISOString();
  const request: RunRequest = {
    kind: 'backup',
    owner: ownerOf(object),
    runId: id,
    spec: (object.spec ?? {}) as Record<string, unknown>,
    secrets: secretsOf((object.spec ?? {}) as Record<string, unknown>, key.namespace),
    ...(spec.activeDeadlineSeconds ? { activeDeadlineSeconds: spec.activeDeadlineSeconds } : {}),
    ...(resumeOf ? { resumeOf } : {}),
  };
  return runner.start<BackupRunResult>(
    rk,
    id,
    (controls) => backupWork(object.spec, ports, controls, run),
    request,
  );
}

function recordOutcome(
  run: RunSnapshot<BackupRunResult>,
  spec: BackupSpec,
  key: ObjectKey,
  status: Status,
  set: (fields: Status) => void,
  setHealth: (health: Health, reason: string, message: string) => void,
  events: Event[],
  metrics: RunMetrics,
  now: Date,
  replacedBy?: 'replaced',
): void {
  const endedAt = run.endedAt ?? now;
  const durationMs = endedAt.getTime() - run.startedAt.getTime();
  const perResource = spec.metrics?.enabled !== false;
  const history = (status.history as HistoryEntry[] | undefined) ?? [];
  const keep = (entry: HistoryEntry) =>
    trimHistory([entry, ...history], spec.successfulRunsHistoryLimit ?? 3, spec.failedRunsHistoryLimit ?? 1);
  const result = run.state === 'succeeded' ? run.result : undefined;

  if (result && result.outcome === 'complete') {
    const message =
      `run ${result.runId} stored ${result.records} records (${result.bytes} bytes) ` +
      `in ${Math.round(durationMs / 1000)}s`;
    set({
      phase: spec.schedule || spec.continuous ? 'Ready' : 'Completed',
      backupId: result.backupId,
      lastRunId: result.runId,
      completionTime: endedAt.toISOString(),
      lastBackupTime: endedAt.toISOString(),
      lastSuccessfulTime: endedAt.toISOString(),
      lastRunDurationSeconds: Math.round(durationMs / 1000),
      recordsProcessed: result.records,
      bytesProcessed: result.bytes,
      segmentsCompleted: result.segments,
      throughputRecordsPerSec: Math.round(result.recordsPerSec),
      throughputBytesPerSec: Math.round(result.bytesPerSec),
      history: keep({
        id: result.runId,
        phase: 'Succeeded',
        startTime: run.startedAt.toISOString(),
        completionTime: endedAt.toISOString(),
        message,
      }),
    });
    setHealth('ready', 'BackupSucceeded', message);
    events.push({ type: 'Normal', reason: 'Completed', note: message });
    if (result.retention) recordRetention(result.retention, endedAt, set, events);
    metrics.runEnded(
      KIND,
      key,
      {
        result: 'succeeded',
        startedAt: run.startedAt,
        endedAt,
        records: result.records,
        bytes: result.bytes,
      },
      { perResource },
    );
    return;
  }

  // Interrupted (replaced, or stopped by a deadline) or failed.
  const interrupted = result !== undefined;
  const classification = interrupted ? undefined : classify(run.error);
  const deadline = run.error instanceof DeadlineExceededError;
  const reason = deadline
    ? 'DeadlineExceeded'
    : interrupted
      ? 'Interrupted'
      : (classification?.reason ?? 'Internal');
  const message = interrupted
    ? `run ${result.runId} stopped at a checkpoint${replacedBy ? ': replaced by a newer scheduled run (concurrencyPolicy Replace)' : ''}`
    : (classification?.message ?? 'the run failed');
  set({
    phase: 'Failed',
    completionTime: endedAt.toISOString(),
    lastRunId: result?.runId ?? run.id,
    lastRunDurationSeconds: Math.round(durationMs / 1000),
    history: keep({
      id: result?.runId ?? run.id,
      phase: 'Failed',
      startTime: run.startedAt.toISOString(),
      completionTime: endedAt.toISOString(),
      message: message.slice(0, 4096),
    }),
  });
  if (FIXABLE.has(reason) || interrupted) setHealth('stalled', reason, message);
  else setHealth('failed', reason, message);
  events.push({ type: 'Warning', reason: 'Failed', note: `${reason}: ${message}` });
  metrics.runEnded(KIND, key, {
    result: deadline ? 'deadline_exceeded' : interrupted ? 'interrupted' : 'failed',
    startedAt: run.startedAt,
    endedAt,
  });
}

function recordRetention(
  outcome: NonNullable<BackupRunResult['retention']>,
  at: Date,
  set: (fields: Status) => void,
  events: Event[],
): void {
  if ('error' in outcome) {
    const message = `retention did not complete: ${outcome.error}. The backup run succeeded; the next successful run tries again`;
    set({ lastRetentionTime: at.toISOString(), retentionError: message.slice(0, 32768) });
    events.push({ type: 'Warning', reason: 'RetentionFailed', note: message });
    return;
  }
  const r = outcome.pruned;
  set({
    lastRetentionTime: at.toISOString(),
    retentionInspectedBackups: r.plan.decisions.length,
    retentionEligibleBackups: r.plan.eligible.length,
    retentionDeletedBackups: r.prunedRuns.length,
    retentionReclaimedBytes: r.reclaimedBytes,
    retentionDryRun: r.dryRun,
    retentionError: null,
  });
  const kept = r.plan.decisions.length - r.plan.eligible.length;
  if (r.dryRun && r.plan.eligible.length > 0) {
    events.push({
      type: 'Normal',
      reason: 'RetentionDryRun',
      note:
        `retention dry run: ${r.plan.eligible.length} of ${r.plan.decisions.length} run(s) eligible ` +
        `(${runList(r.plan.eligible.map((e) => e.runId))}, ${r.eligibleBytes} bytes); nothing deleted`,
    });
  } else if (r.prunedRuns.length > 0 || r.deletedObjects > 0) {
    events.push({
      type: 'Normal',
      reason: 'RetentionPruned',
      note:
        `retention pruned ${r.prunedRuns.length} run(s)${r.prunedRuns.length > 0 ? ` (${runList(r.prunedRuns)})` : ''}, ` +
        `deleted ${r.deletedObjects} object(s), reclaimed ${r.reclaimedBytes} bytes; ${kept} run(s) kept`,
    });
  }
}

/** Run ids for an Event note: a few, then how many more. */
function runList(ids: readonly string[]): string {
  return ids.length <= 5 ? ids.join(', ') : `${ids.slice(0, 5).join(', ')} and ${ids.length - 5} more`;
}

async function refreshFromStorage(
  object: KubeObject,
  ports: AppPorts,
  source: string,
  set: (fields: Status) => void,
  context: ReconcileContext,
  now: Date,
): Promise<void> {
  try {
    const stored = await readStoredState(object.spec, ports, { source, name: object.metadata.name });
    set({ ...stored, storageReadTime: now.toISOString() });
  } catch (error) {
    // What storage holds is informative; the run itself reports why storage cannot be used.
    context.log.warn('cannot list what storage holds', { error: classify(error).message });
  }
}

function viewOf(
  object: KubeObject,
  spec: BackupSpec,
  status: Status,
  generation: number,
  running: boolean,
): BackupView {
  const date = (v: unknown) => (typeof v === 'string' ? new Date(v) : undefined);
  const stalled = (status.conditions as Condition[] | undefined)?.find((c) => c.type === 'Stalled');
  return {
    generation,
    createdAt: date(object.metadata.creationTimestamp),
    schedule: spec.schedule !== undefined,
    suspend: spec.suspend === true,
    concurrencyPolicy: spec.concurrencyPolicy ?? 'Forbid',
    continuous: spec.continuous === true,
    rerun: object.metadata.annotations?.[RERUN_ANNOTATION],
    status: {
      observedGeneration:
        typeof status.observedGeneration === 'number' ? status.observedGeneration : undefined,
      observedRerun: typeof status.observedRerun === 'string' ? status.observedRerun : undefined,
      lastScheduleTime: date(status.lastScheduleTime),
      completionTime: date(status.completionTime),
      lastOutcome: lastOutcomeOf(status, stalled),
      running: status.phase === 'Running' && !running,
      stalledSince: stalled?.status === 'True' ? date(stalled.lastTransitionTime) : undefined,
    },
  };
}

function lastOutcomeOf(status: Status, stalled: Condition | undefined): LastOutcome | undefined {
  if (status.phase === 'Failed') return stalled?.status === 'True' ? 'failed-retriable' : 'failed-terminal';
  if (status.phase === 'Completed' || status.phase === 'Ready') return 'succeeded';
  return undefined;
}

function reasonOf(status: Status, type: string): string | undefined {
  return (status.conditions as Condition[] | undefined)?.find((c) => c.type === type && c.status === 'True')
    ?.reason;
}

/**
 * Writes the patch when it changes something, then the Events (one per transition). False when the
 * object in the cache is gone and another of the same name took its place (deleted and applied
 * again): a status computed from the old one must not land on the new one.
 */
async function flush(
  context: ReconcileContext,
  object: KubeObject,
  patch: Status,
  events: readonly Event[],
  generation: number,
): Promise<boolean> {
  const before = statusOf(object);
  if (
    before.observedGeneration !== generation &&
    patch.conditions === undefined &&
    Array.isArray(before.conditions)
  ) {
    // A new generation was looked at: every condition now describes it.
    patch = {
      ...patch,
      conditions: (before.conditions as Condition[]).map((c) => ({ ...c, observedGeneration: generation })),
    };
  }
  const changed = Object.entries(patch).filter(([k, v]) =>
    v === null ? before[k] !== undefined : JSON.stringify(before[k]) !== JSON.stringify(v),
  );
  if (changed.length > 0 || before.observedGeneration !== generation) {
    const live = await context.client.get(KIND, keyOf(object));
    if (!live || live.metadata.uid !== object.metadata.uid) return false;
    await writeStatus(context, KIND, object, {
      ...Object.fromEntries(changed),
      observedGeneration: generation,
    });
  }
  for (const event of events) {
    // The log says what the Event says (the context's logger names the resource), so a transition
    // is visible to whoever reads the operator's log rather than Events (which expire after an hour).
    const fields = {
      reason: event.reason,
      ...(typeof patch.phase === 'string' ? { phase: patch.phase } : {}),
    };
    if (event.type === 'Warning') {
      context.log.warn(event.note, fields);
      await context.recorder.warning(object, event.reason, event.reason, event.note);
    } else {
      context.log.info(event.note, fields);
      await context.recorder.normal(object, event.reason, event.reason, event.note);
    }
  }
  return true;
}
