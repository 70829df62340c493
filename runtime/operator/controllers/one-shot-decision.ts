/**
 * What a one-shot resource (KafkaRestore, KafkaOffsetReset, KafkaOffsetRollback) needs next, as a
 * pure function of its spec, its status, the state of its run in this process, and the time.
 * The reconciler does the I/O the decision names; tests cover every branch without a cluster.
 */
import type { RunState } from '../runs/runner.ts';

/** Phases after which nothing runs until the kafka.oso.sh/rerun annotation changes. */
export const FINAL_PHASES: ReadonlySet<string> = new Set([
  'Completed',
  'PartiallyCompleted',
  'Failed',
  'RolledBack',
]);

export interface OneShotInput {
  readonly generation: number;
  /** Value of the kafka.oso.sh/rerun annotation ('' when absent). */
  readonly rerun: string;
  readonly status: {
    readonly phase?: string;
    readonly observedGeneration?: number;
    readonly observedRerun?: string;
    readonly startTime?: string;
  };
  readonly approval: { readonly policy: 'Automatic' | 'Manual'; readonly approved: boolean };
  readonly activeDeadlineSeconds?: number;
  /** The run of this resource in this process, if any, and which rerun it serves. */
  readonly run?: { readonly state: RunState; readonly id: string };
  readonly now: Date;
}

export type OneShotDecision =
  /** Finished for this rerun value; a finished run still held by the runner may be dropped. */
  | { readonly action: 'done' }
  /** Waiting for approval.approved, with the plan of this generation already published. */
  | { readonly action: 'awaiting-approval' }
  /** Resolve references, validate, publish the plan; then wait for approval or start. */
  | { readonly action: 'prepare'; readonly fresh: boolean; readonly approved: boolean }
  /** The run is going: publish its progress; look again at `deadlineInMs` at the latest. */
  | { readonly action: 'watch'; readonly deadlineInMs?: number }
  /** The run's deadline has passed: stop it and fail. */
  | { readonly action: 'deadline-exceeded' }
  /** The run ended (in this process): write its outcome. */
  | { readonly action: 'finish'; readonly state: 'succeeded' | 'failed' };

/** The run id of the current rerun value: a run in the runner with another id is stale. */
export function runIdOf(rerun: string): string {
  return `rerun:${rerun}`;
}

export function decideOneShot(input: OneShotInput): OneShotDecision {
  const { status, run } = input;
  const current = (status.observedRerun ?? '') === input.rerun;
  const runId = runIdOf(status.observedRerun ?? '');
  const ourRun = run && run.id === runId ? run : undefined;
  const started = status.startTime !== undefined;

  // A run of the status' rerun value is ours to finish, whatever the annotation says meanwhile.
  if (ourRun && started) {
    if (ourRun.state !== 'running') return { action: 'finish', state: ourRun.state };
    const remaining = deadlineRemainingMs(input);
    if (remaining !== undefined && remaining <= 0) return { action: 'deadline-exceeded' };
    return { action: 'watch', ...(remaining !== undefined ? { deadlineInMs: remaining } : {}) };
  }
  const approved = input.approval.policy === 'Automatic' || input.approval.approved;
  const phase = status.phase ?? '';
  if (FINAL_PHASES.has(phase)) {
    // Before a start the spec may still be fixed: a new generation is looked at again.
    if (current && (started || status.observedGeneration === input.generation)) return { action: 'done' };
    return { action: 'prepare', fresh: true, approved };
  }
  if (
    !approved &&
    current &&
    phase === 'AwaitingApproval' &&
    status.observedGeneration === input.generation
  ) {
    return { action: 'awaiting-approval' };
  }
  if (started && current) {
    // Started before (an operator restart, or a retriable failure): the deadline still counts.
    const remaining = deadlineRemainingMs(input);
    if (remaining !== undefined && remaining <= 0) return { action: 'deadline-exceeded' };
    return { action: 'prepare', fresh: false, approved };
  }
  return { action: 'prepare', fresh: true, approved };
}

function deadlineRemainingMs(input: OneShotInput): number | undefined {
  if (input.activeDeadlineSeconds === undefined || input.status.startTime === undefined) return undefined;
  const started = Date.parse(input.status.startTime);
  if (Number.isNaN(started)) return undefined;
  return started + input.activeDeadlineSeconds * 1000 - input.now.getTime();
}

/** Stalled resources are looked at again after 5 s doubling to 5 min (never a hot loop). */
export function stalledRetryMs(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(300_000, 5_000 * 2 ** Math.max(0, Math.min(attempt - 1, 20)));
  return Math.round(ceiling * (1 - 0.2 * random()));
}
