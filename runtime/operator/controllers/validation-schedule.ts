/**
 * When a scheduled KafkaBackupValidation runs: the KafkaBackup controller's schedule module
 * (backup-schedule.ts: the expression forms and `timeZone` on croner; backup-decisions.ts: missed
 * ticks coalesced into one run, `suspend`, `concurrencyPolicy`, the rerun annotation, resuming a
 * run an operator restart cut off, retries of a stalled run), fed with what a validation's status
 * says. Pure: no I/O, unit-tested with the decisions it shares.
 */
import {
  type BackupView,
  type Decision,
  decide,
  type LastOutcome,
  type RunView,
} from './backup-decisions.ts';
import { parseSchedule, ScheduleError } from './backup-schedule.ts';

/** The schedule fields of a KafkaBackupValidation spec, as written. */
export interface ValidationScheduleSpec {
  readonly schedule: string;
  readonly timeZone?: string;
  readonly suspend?: boolean;
  readonly concurrencyPolicy?: 'Forbid' | 'Replace';
}

export interface ScheduledValidation {
  readonly spec: ValidationScheduleSpec;
  readonly generation: number;
  readonly createdAt: Date | undefined;
  /** The kafka.oso.sh/rerun annotation; '' when absent. */
  readonly rerun: string;
  readonly status: Readonly<Record<string, unknown>>;
}

/** The expression or the zone cannot be evaluated: nothing runs until the spec changes. */
export interface InvalidSchedule {
  readonly kind: 'invalid';
  readonly message: string;
}

export type ScheduleStep = Decision | InvalidSchedule;

/**
 * The next step of a scheduled validation. `run` is the run the runner holds, going (a finished one
 * is recorded into `status` first, as the KafkaBackup controller does).
 */
export function decideScheduledValidation(
  validation: ScheduledValidation,
  run: RunView | undefined,
  now: Date,
): ScheduleStep {
  let schedule: ReturnType<typeof parseSchedule>;
  try {
    schedule = parseSchedule(validation.spec.schedule, validation.spec.timeZone ?? 'UTC');
  } catch (error) {
    if (!(error instanceof ScheduleError)) throw error;
    return { kind: 'invalid', message: `${error.message}; fix spec.schedule or spec.timeZone` };
  }
  return decide(viewOf(validation, run !== undefined), run, schedule, now);
}

/** A validation's status in the terms of the shared decisions. */
export function viewOf(validation: ScheduledValidation, runHere: boolean): BackupView {
  const { status } = validation;
  const date = (v: unknown) => (typeof v === 'string' ? new Date(v) : undefined);
  const stalled = stalledCondition(status);
  return {
    generation: validation.generation,
    createdAt: validation.createdAt,
    schedule: true,
    suspend: validation.spec.suspend === true,
    concurrencyPolicy: validation.spec.concurrencyPolicy ?? 'Forbid',
    continuous: false,
    rerun: validation.rerun === '' ? undefined : validation.rerun,
    status: {
      observedGeneration:
        typeof status.observedGeneration === 'number' ? status.observedGeneration : undefined,
      observedRerun: typeof status.observedRerun === 'string' ? status.observedRerun : undefined,
      lastScheduleTime: date(status.lastScheduleTime),
      completionTime: date(status.completionTime),
      lastOutcome: lastOutcomeOf(status.phase, stalled !== undefined),
      // Running in status with no run in this process: the process that ran it is gone.
      running: status.phase === 'Running' && !runHere,
      stalledSince: date(stalled?.lastTransitionTime),
    },
  };
}

/**
 * Ready/Completed: the last run passed. Failed: checks failed or the deadline passed, both final
 * for that run (the next tick runs). Stalled (phase Pending): it could not run, retried with backoff.
 */
function lastOutcomeOf(phase: unknown, stalled: boolean): LastOutcome | undefined {
  if (stalled) return 'failed-retriable';
  if (phase === 'Ready' || phase === 'Completed') return 'succeeded';
  if (phase === 'Failed') return 'failed-terminal';
  return undefined;
}

function stalledCondition(
  status: Readonly<Record<string, unknown>>,
): { lastTransitionTime?: string; reason?: string } | undefined {
  const conditions = Array.isArray(status.conditions)
    ? (status.conditions as {
        type?: string;
        status?: string;
        lastTransitionTime?: string;
        reason?: string;
      }[])
    : [];
  return conditions.find((c) => c.type === 'Stalled' && c.status === 'True');
}

/** The phase a validation shows while it waits for its next tick: the outcome of its last run. */
export function restingPhase(status: Readonly<Record<string, unknown>>): 'Ready' | 'Failed' | 'Pending' {
  if (status.validationResult === 'Fail') return 'Failed';
  if (status.validationResult === 'Pass' || status.validationResult === 'Warn') return 'Ready';
  return 'Pending';
}
