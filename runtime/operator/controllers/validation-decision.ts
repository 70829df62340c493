import type { RunSnapshot } from '../runs/runner.ts';
import type { Condition } from '../status.ts';

/**
 * What one reconcile of an unscheduled KafkaBackupValidation does, from its object, its status and
 * the state of its run: a pure function, so every transition is unit-tested without a cluster.
 *
 * A run serves one *request*: the pair (metadata.generation, value of the rerun annotation).
 * Status records the request last taken up (observedGeneration, observedRerun); a request is done
 * once its run ended in Completed or Failed. A request that could not run (Stalled) is retried
 * with a backoff that grows with how long it has been stalled.
 */
export const RERUN_ANNOTATION = 'kafka.oso.sh/rerun';

export interface ValidationView {
  readonly generation: number;
  readonly rerun: string;
  readonly phase?: string;
  readonly observedGeneration?: number;
  readonly observedRerun?: string;
  readonly conditions?: readonly Condition[];
  readonly startTime?: string;
  readonly activeDeadlineSeconds?: number;
}

export type ValidationAction =
  /** Start (or, after an operator restart, restart) the run of the current request. */
  | { readonly kind: 'start'; readonly runId: string; readonly deadlineAt?: Date; readonly restart: boolean }
  /** A run is going: look again by then (its end re-enqueues the key anyway). */
  | { readonly kind: 'wait'; readonly requeueAfterMs?: number }
  /** The run ended: write its outcome to status, then forget it. */
  | { readonly kind: 'record'; readonly run: RunSnapshot }
  /** A stalled request: retry at this delay. */
  | { readonly kind: 'backoff'; readonly requeueAfterMs: number }
  /** The current request is done. */
  | { readonly kind: 'idle' };

export const STALLED_RETRY = { initialMs: 5_000, maxMs: 300_000 } as const;

export function requestId(view: Pick<ValidationView, 'generation' | 'rerun'>): string {
  return `g${view.generation}${view.rerun ? `-r${view.rerun}` : ''}`;
}

const isCurrent = (view: ValidationView) =>
  view.observedGeneration === view.generation && (view.observedRerun ?? '') === view.rerun;

export function decideValidation(
  view: ValidationView,
  run: RunSnapshot | undefined,
  now: Date,
): ValidationAction {
  const id = requestId(view);
  if (run) {
    if (run.state !== 'running') return { kind: 'record', run };
    // A run of an older request finishes first; its outcome is recorded, then the new one starts.
    const deadline = run.id === id ? deadlineOf(view, run.startedAt) : undefined;
    return deadline
      ? { kind: 'wait', requeueAfterMs: Math.max(1, deadline.getTime() - now.getTime()) }
      : { kind: 'wait' };
  }
  if (isCurrent(view)) {
    if (view.phase === 'Completed' || view.phase === 'Failed') return { kind: 'idle' };
    const stalled = view.conditions?.find((c) => c.type === 'Stalled' && c.status === 'True');
    if (stalled) {
      const next = nextStalledTry(new Date(stalled.lastTransitionTime), view.startTime, now);
      if (now < next) return { kind: 'backoff', requeueAfterMs: next.getTime() - now.getTime() };
    }
    // Running in status but no run here: the operator restarted; the run starts again.
    if (view.phase === 'Running') {
      const started = view.startTime ? new Date(view.startTime) : now;
      const deadlineAt = deadlineOf(view, started);
      return { kind: 'start', runId: id, restart: true, ...(deadlineAt ? { deadlineAt } : {}) };
    }
  }
  const deadlineAt = deadlineOf(view, now);
  return { kind: 'start', runId: id, restart: false, ...(deadlineAt ? { deadlineAt } : {}) };
}

/** activeDeadlineSeconds counted from the run's start. */
export function deadlineOf(
  view: Pick<ValidationView, 'activeDeadlineSeconds'>,
  startedAt: Date,
): Date | undefined {
  return view.activeDeadlineSeconds
    ? new Date(startedAt.getTime() + view.activeDeadlineSeconds * 1000)
    : undefined;
}

/**
 * Backoff without memory: the next try of a stalled request comes after the last one (its
 * status.startTime) by as long as the request had been stalled then, at least 5 s, at most
 * 5 min, so the delays double: 5 s, 5 s, 10 s, 20 s, ... 5 min.
 */
export function nextStalledTry(stalledSince: Date, lastTry: string | undefined, now: Date): Date {
  const tried = lastTry ? new Date(lastTry).getTime() : stalledSince.getTime();
  const base = Number.isNaN(tried) ? now.getTime() : tried;
  const delay = Math.min(
    STALLED_RETRY.maxMs,
    Math.max(STALLED_RETRY.initialMs, base - stalledSince.getTime()),
  );
  return new Date(base + delay);
}
