import type { Classification } from '../../app/errors.ts';
import type { DeliveryResult } from '../../evidence/notifications.ts';
import type { CheckOutcome, EvidenceReport } from '../../evidence/report.ts';
import type { RunResult } from '../../metrics/run-metrics.ts';
import { type Condition, type Health, healthConditions } from '../status.ts';
import { type HistoryEntry, trimHistory } from './backup-decisions.ts';

/**
 * The status of a KafkaBackupValidation for each transition, as pure functions: what is written
 * (a merge patch of `status`) and the Event that goes with it. Never a secret: messages come from
 * the report (already redacted) and from classify() (scrubbed).
 */
export interface StatusChange {
  readonly status: Record<string, unknown>;
  readonly event: { readonly type: 'Normal' | 'Warning'; readonly reason: string; readonly note: string };
  /** How the run ended, for the run metrics (a run that could not start has none). */
  readonly result?: RunResult;
}

interface Base {
  readonly generation: number;
  readonly rerun: string;
  readonly conditions: readonly Condition[] | undefined;
  readonly now: Date;
}

function common(base: Base, health: Health, reason: string, message: string, phase: string) {
  return {
    phase,
    message,
    observedGeneration: base.generation,
    observedRerun: base.rerun === '' ? null : base.rerun,
    conditions: healthConditions(base.conditions, health, reason, message, base.generation, base.now),
  };
}

/** `scheduledAt`: the schedule tick the run serves (status.lastScheduleTime), else now. */
export function startedStatus(
  base: Base,
  backupId: string | undefined,
  restart: boolean,
  scheduledAt?: Date,
): StatusChange {
  const message = `validating backup ${backupId ?? '(the latest in storage)'}`;
  return {
    status: {
      ...common(base, 'reconciling', 'Running', message, 'Running'),
      startTime: base.now.toISOString(),
      completionTime: null,
      lastScheduleTime: (scheduledAt ?? base.now).toISOString(),
      ...(backupId ? { backupId } : {}),
    },
    event: {
      type: 'Normal',
      reason: restart ? 'Restarted' : 'Started',
      // The tick in the note: each scheduled run is an Event of its own (the recorder drops repeats).
      note: `${restart ? `${message} again: the operator restarted during the run` : message}${
        scheduledAt ? ` (run scheduled for ${scheduledAt.toISOString()})` : ''
      }`,
    },
  };
}

const OUTCOME: Readonly<Record<CheckOutcome, string>> = {
  passed: 'Passed',
  failed: 'Failed',
  warning: 'Warning',
  skipped: 'Skipped',
};

export interface RunOutput {
  readonly report: EvidenceReport;
  /** Where the JSON report is, e.g. `s3://bucket/prefix/evidence/<backupId>/<reportId>/report.json`. */
  readonly reportPath?: string;
  readonly notifications?: readonly DeliveryResult[];
  readonly pruned?: readonly string[];
}

/**
 * The run ended with a report: Completed (passed or warnings; Ready when scheduled, as it waits for
 * its next tick) or Failed naming the failed checks.
 */
export function resultStatus(
  base: Base,
  output: RunOutput,
  options: { scheduled?: boolean } = {},
): StatusChange {
  const { report } = output;
  const s = report.summary;
  const failed = report.checks.filter((c) => c.outcome === 'failed');
  const counts = `${s.passed} passed, ${s.failed} failed, ${s.warnings} warnings, ${s.skipped} skipped`;
  const where = output.reportPath ? `; report ${output.reportPath}` : '';
  const undelivered = (output.notifications ?? []).filter((n) => !n.delivered && !n.skipped);
  const pruned = output.pruned?.length
    ? `; ${output.pruned.length} report(s) older than evidence.retentionDays deleted`
    : '';
  const notes =
    pruned +
    (undelivered.length
      ? `; not notified: ${undelivered.map((n) => `${n.target} (${n.error})`).join(', ')}`
      : '');
  const checkFields = {
    validationResult: s.result === 'passed' ? 'Pass' : s.result === 'warning' ? 'Warn' : 'Fail',
    backupId: report.backup.id,
    completionTime: base.now.toISOString(),
    lastValidationTime: base.now.toISOString(),
    checksTotal: s.total,
    checksCompleted: s.total,
    checksPassed: s.passed,
    checksFailed: s.failed,
    checksWarned: s.warnings,
    checkResults: report.checks.slice(0, 64).map((c) => ({
      checkName: c.name.slice(0, 63),
      outcome: OUTCOME[c.outcome],
      message: c.summary.slice(0, 4096),
      ...(c.durationMs !== undefined ? { durationMs: c.durationMs } : {}),
    })),
    evidenceReportPath: output.reportPath ?? null,
    evidenceReportSigned: report.signature !== undefined,
  };
  if (s.result === 'failed') {
    const names = failed.map((c) => c.name);
    const message =
      names.length > 0
        ? `checks failed: ${names.join(', ')} (${failed[0]?.name}: ${failed[0]?.summary})${where}${notes}`
        : `no check passed, nothing was proven (${counts})${where}${notes}`;
    return {
      status: { ...common(base, 'failed', 'ChecksFailed', message, 'Failed'), ...checkFields },
      event: { type: 'Warning', reason: 'Failed', note: message },
      result: 'failed',
    };
  }
  const message = `backup ${report.backup.id} ${s.result === 'passed' ? 'passed' : 'passed with warnings'}: ${counts}${where}${notes}`;
  return {
    status: {
      ...common(
        base,
        'ready',
        s.result === 'passed' ? 'Passed' : 'PassedWithWarnings',
        message,
        options.scheduled ? 'Ready' : 'Completed',
      ),
      ...checkFields,
      lastSuccessfulTime: base.now.toISOString(),
    },
    event: {
      type: undelivered.length ? 'Warning' : 'Normal',
      reason: s.result === 'passed' ? 'Passed' : 'PassedWithWarnings',
      note: message,
    },
    result: 'succeeded',
  };
}

/** activeDeadlineSeconds passed: Failed, not retried (rerun to try again). */
export function deadlineStatus(base: Base, seconds: number): StatusChange {
  const message = `the run did not finish within activeDeadlineSeconds (${seconds}s) and was stopped; raise the deadline or set the ${'kafka.oso.sh/rerun'} annotation to try again`;
  return {
    status: {
      ...common(base, 'failed', 'DeadlineExceeded', message, 'Failed'),
      validationResult: 'Fail',
      completionTime: base.now.toISOString(),
    },
    event: { type: 'Warning', reason: 'DeadlineExceeded', note: message },
    result: 'deadline_exceeded',
  };
}

/** The spec cannot work as it is (a missing KafkaBackup or Secret, storage unreachable): retried. */
export function stalledStatus(base: Base, reason: string, message: string, retryInMs: number): StatusChange {
  const text = `${message} (retrying in ${Math.max(1, Math.round(retryInMs / 1000))}s)`;
  return {
    status: { ...common(base, 'stalled', reason, text, 'Pending'), completionTime: base.now.toISOString() },
    event: { type: 'Warning', reason: 'Stalled', note: `${reason}: ${text}` },
  };
}

/** The reason and an actionable message for an error that stopped a run before it had a report. */
export function stalledReason(classification: Classification): { reason: string; message: string } {
  const hint: Partial<Record<Classification['reason'], string>> = {
    InvalidConfig: 'fix the spec or create the Secrets it names',
    StorageUnavailable: 'check that the backup storage is reachable from the operator',
    StorageAccessDenied: "check the storage credentials in the backup storage's Secret",
    NotFound: 'check backupRef.backupId and the storage it points to',
    KafkaUnavailable: 'check kafkaCluster.bootstrapServers and the network path to them',
    AuthenticationFailed: "check kafkaCluster's credentials Secret",
    AuthorizationFailed: "grant the ACLs the run needs to kafkaCluster's user",
    TLSHandshakeFailed: "check kafkaCluster's securityProtocol and its CA Secret (caSecret or tlsSecret)",
    BrokerUnreachable: 'check kafkaCluster.bootstrapServers and the network path to them',
  };
  const extra = hint[classification.reason];
  return {
    reason: classification.reason,
    message: extra ? `${classification.message}: ${extra}` : classification.message,
  };
}

/** spec.schedule or spec.timeZone cannot be evaluated: Failed and Stalled until the spec changes. */
export function invalidScheduleStatus(base: Base, message: string): StatusChange {
  return {
    status: {
      ...common(base, 'stalled', 'InvalidSchedule', message, 'Failed'),
      nextScheduleTime: null,
      nextScheduledValidation: null,
    },
    event: { type: 'Warning', reason: 'InvalidSchedule', note: message },
  };
}

/** spec.suspend: no run starts (a run going finishes; a rerun request still runs). */
export function suspendedStatus(base: Base): StatusChange {
  const message = 'suspended: no scheduled run starts until spec.suspend is false';
  return {
    status: {
      ...common(base, 'ready', 'Suspended', message, 'Suspended'),
      nextScheduleTime: null,
      nextScheduledValidation: null,
    },
    event: { type: 'Normal', reason: 'Suspended', note: 'schedule suspended' },
  };
}

/**
 * Waiting for the next tick, with the outcome of the last run as the phase: after a suspension
 * (Event Resumed), on the first look at a new schedule, or nothing to write while it just goes on.
 */
export function waitingStatus(
  base: Base,
  phase: 'Ready' | 'Failed' | 'Pending',
  next: Date | undefined,
  previousPhase: unknown,
): Pick<StatusChange, 'status'> & Partial<Pick<StatusChange, 'event'>> {
  const at = next?.toISOString() ?? null;
  const message = at ? `next run at ${at}` : 'the schedule does not fire again';
  if (previousPhase === 'Suspended') {
    return {
      status: common(
        base,
        phase === 'Failed' ? 'failed' : 'ready',
        phase === 'Failed' ? 'LastRunFailed' : 'Scheduled',
        message,
        phase,
      ),
      event: { type: 'Normal', reason: 'Resumed', note: `schedule resumed: ${message}` },
    };
  }
  if (previousPhase === undefined) return { status: common(base, 'ready', 'Scheduled', message, phase) };
  return { status: {} };
}

/**
 * status.history with the run that just ended, newest first, within the spec's history limits
 * (successfulRunsHistoryLimit default 3, failedRunsHistoryLimit default 1).
 */
export function historyWith(
  history: unknown,
  run: {
    readonly id: string;
    readonly startedAt: Date;
    readonly endedAt: Date;
    readonly succeeded: boolean;
    readonly message: string;
  },
  limits: { readonly successful?: number; readonly failed?: number },
): HistoryEntry[] {
  const entry: HistoryEntry = {
    id: run.id.slice(0, 253),
    phase: run.succeeded ? 'Succeeded' : 'Failed',
    startTime: run.startedAt.toISOString(),
    completionTime: run.endedAt.toISOString(),
    message: run.message.slice(0, 4096),
  };
  const previous = Array.isArray(history) ? (history as HistoryEntry[]) : [];
  return trimHistory([entry, ...previous], limits.successful ?? 3, limits.failed ?? 1);
}
