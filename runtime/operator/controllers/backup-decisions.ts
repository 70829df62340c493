/**
 * What a KafkaBackup reconcile does next, as a pure function of the resource, the run the runner
 * holds for it, the parsed schedule and the time: no I/O here, so every rule is unit-tested.
 */
import type { CronSchedule } from './backup-schedule.ts';

/** The parts of a KafkaBackup the decision reads. */
export interface BackupView {
  readonly generation: number;
  /** metadata.creationTimestamp: ticks before it are not missed runs of a new resource. */
  readonly createdAt: Date | undefined;
  readonly schedule: boolean;
  readonly suspend: boolean;
  readonly concurrencyPolicy: 'Forbid' | 'Replace';
  readonly continuous: boolean;
  /** The value of the kafka.oso.sh/rerun annotation. */
  readonly rerun: string | undefined;
  readonly status: {
    readonly observedGeneration: number | undefined;
    readonly observedRerun: string | undefined;
    /** When a run was last started. */
    readonly lastScheduleTime: Date | undefined;
    /** When the last run ended. */
    readonly completionTime: Date | undefined;
    readonly lastOutcome: LastOutcome | undefined;
    /** Status says Running: if the runner holds no run, the process that ran it is gone. */
    readonly running: boolean;
    /** Since when the resource is Stalled (a retriable failure); drives the retry backoff. */
    readonly stalledSince: Date | undefined;
  };
}

export type LastOutcome = 'succeeded' | 'failed-retriable' | 'failed-terminal';

export interface RunView {
  readonly state: 'running' | 'succeeded' | 'failed';
  readonly startedAt: Date;
}

export type StartReason = 'initial' | 'scheduled' | 'rerun' | 'retry' | 'resume' | 'continuous';

export type Decision =
  | {
      readonly kind: 'start';
      readonly reason: StartReason;
      /** The schedule tick the run serves (scheduled runs), else the time it was decided. */
      readonly at: Date;
      /** Stop the running run first (concurrencyPolicy Replace). */
      readonly replace: boolean;
      readonly nextScheduleTime: Date | undefined;
    }
  | {
      readonly kind: 'wait';
      /** Look again after this long; undefined: only a change (of the object or the run) matters. */
      readonly requeueAfterMs: number | undefined;
      readonly nextScheduleTime: Date | undefined;
      /** A tick that passed while a run was going and was skipped (concurrencyPolicy Forbid). */
      readonly skipped: Date | undefined;
    };

/** Retries of a Stalled resource: 10 s, then as long as it has been stalled, at most 5 minutes. */
export const RETRY_MIN_MS = 10_000;
export const RETRY_MAX_MS = 300_000;
/** Re-check a schedule at least this often, so a clock jump or a lost wake-up costs little. */
export const SCHEDULE_RECHECK_MS = 300_000;

export function retryDelayMs(stalledSince: Date | undefined, now: Date): number {
  const stalledFor = stalledSince ? now.getTime() - stalledSince.getTime() : 0;
  return Math.min(RETRY_MAX_MS, Math.max(RETRY_MIN_MS, stalledFor));
}

/**
 * The next step. A finished run must already be recorded in `view.status` (the controller records
 * the outcome, forgets the run, then decides), so `run` is undefined or running.
 */
export function decide(
  view: BackupView,
  run: RunView | undefined,
  schedule: CronSchedule | undefined,
  now: Date,
): Decision {
  const { status } = view;
  const running = run?.state === 'running';
  const rerunRequested = view.rerun !== undefined && view.rerun !== status.observedRerun;
  // Ticks at or before the last start or end are served or were skipped while a run was going;
  // of the ticks missed since, only the latest runs (an operator down for a day runs once).
  const servedUntil = latestOf(
    status.lastScheduleTime,
    status.completionTime,
    run?.startedAt,
    view.createdAt,
  );
  const tick = schedule && !view.suspend ? schedule.latest(now) : undefined;
  const dueTick = tick && (!servedUntil || tick > servedUntil) ? tick : undefined;
  const nextScheduleTime = schedule && !view.suspend ? schedule.next(now) : undefined;
  const untilNextTick = nextScheduleTime
    ? Math.min(SCHEDULE_RECHECK_MS, Math.max(0, nextScheduleTime.getTime() - now.getTime()))
    : undefined;
  const wait = (requeueAfterMs: number | undefined, skipped?: Date): Decision => ({
    kind: 'wait',
    requeueAfterMs,
    nextScheduleTime,
    skipped,
  });
  const start = (reason: StartReason, at: Date, replace = false): Decision => ({
    kind: 'start',
    reason,
    at,
    replace,
    nextScheduleTime,
  });

  if (running) {
    if (dueTick && view.schedule) {
      return view.concurrencyPolicy === 'Replace'
        ? start('scheduled', dueTick, true)
        : wait(untilNextTick, dueTick);
    }
    // Progress and the end of the run enqueue the key; the schedule needs the next tick.
    return wait(untilNextTick);
  }
  // A rerun is an explicit request: it runs even while suspended.
  if (rerunRequested) return start('rerun', now);
  // A run cut off by an operator restart continues from its checkpoint (suspend lets it finish too).
  if (status.running) return start('resume', now);
  if (view.suspend) return wait(undefined);

  const retriable = status.lastOutcome === 'failed-retriable';
  const retryAt =
    retriable && status.completionTime
      ? new Date(status.completionTime.getTime() + retryDelayMs(status.stalledSince, status.completionTime))
      : undefined;
  const retryDue = retryAt !== undefined && retryAt <= now;
  const untilRetry = retryAt ? Math.max(0, retryAt.getTime() - now.getTime()) : undefined;

  if (view.continuous) {
    if (!status.lastScheduleTime) return start('initial', now);
    // A continuous run ends only when stopped or failed: restart it (it resumes from its checkpoint).
    if (status.lastOutcome === 'failed-terminal' && status.observedGeneration === view.generation) {
      return wait(undefined);
    }
    if (retriable && !retryDue) return wait(untilRetry);
    return start(retriable ? 'retry' : 'continuous', now);
  }

  if (view.schedule) {
    if (dueTick) return start('scheduled', dueTick);
    if (retryDue) return start('retry', now);
    return wait(minDefined(untilNextTick, untilRetry));
  }

  // One run: once, again after a retriable failure (with backoff), after a terminal failure only
  // once the spec changed.
  if (!status.lastScheduleTime) return start('initial', now);
  if (retriable) return retryDue ? start('retry', now) : wait(untilRetry);
  if (status.lastOutcome === 'failed-terminal' && status.observedGeneration !== view.generation) {
    return start('retry', now);
  }
  return wait(undefined);
}

function latestOf(...dates: readonly (Date | undefined)[]): Date | undefined {
  let latest: Date | undefined;
  for (const d of dates) if (d && (!latest || d > latest)) latest = d;
  return latest;
}

function minDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}

export interface HistoryEntry {
  readonly id: string;
  readonly phase: 'Succeeded' | 'Failed';
  readonly startTime: string;
  readonly completionTime: string;
  readonly message?: string;
}

/** Newest first, keeping the newest `successful` successes and `failed` failures. */
export function trimHistory(
  entries: readonly HistoryEntry[],
  successful: number,
  failed: number,
): HistoryEntry[] {
  let s = 0;
  let f = 0;
  return entries.filter((e) => (e.phase === 'Succeeded' ? s++ < successful : f++ < failed));
}
