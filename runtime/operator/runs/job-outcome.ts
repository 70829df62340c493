/**
 * What a Job's status and its Pods say about a run (pure): still running, or ended with the result
 * or the classified error its Pod reported in the termination message. A Job that ended without a
 * readable report is a failed run with a message saying so, never a success.
 */
import { ClassifiedError, EXIT } from '../../app/errors.ts';
import type { JobView, PodView } from '../kube/port.ts';
import { DeadlineExceededError, errorOf } from './run-errors.ts';
import { decodeReport, MalformedReportError } from './termination-message.ts';

export type JobState =
  | { readonly state: 'running' }
  | { readonly state: 'complete'; readonly at?: string }
  | { readonly state: 'failed'; readonly reason: string; readonly message: string; readonly at?: string };

/** The Job's final condition (Complete or Failed), if it has one. */
export function jobStateOf(job: JobView): JobState {
  const done = (type: string) => job.conditions.find((c) => c.type === type && c.status === 'True');
  const complete = done('Complete');
  if (complete) return { state: 'complete', at: complete.lastTransitionTime ?? job.completionTime };
  const failed = done('Failed');
  if (failed) {
    return {
      state: 'failed',
      reason: failed.reason ?? 'Failed',
      message: failed.message ?? '',
      ...(failed.lastTransitionTime ? { at: failed.lastTransitionTime } : {}),
    };
  }
  return { state: 'running' };
}

/** The Pod whose container ended last: the one whose report is the run's. */
export function lastTerminatedPod(pods: readonly PodView[]): PodView | undefined {
  const ended = pods.filter((p) => p.terminated);
  const at = (p: PodView) => Date.parse(p.terminated?.finishedAt ?? p.creationTimestamp ?? '') || 0;
  return ended.sort((a, b) => at(b) - at(a))[0];
}

export type RunEnd =
  | { readonly state: 'succeeded'; readonly result: unknown; readonly endedAt?: Date }
  | { readonly state: 'failed'; readonly error: Error; readonly endedAt?: Date };

/** How a finished Job ends the run. `deadlineSeconds`: the resource's activeDeadlineSeconds. */
export function runEndOf(
  jobName: string,
  state: Exclude<JobState, { state: 'running' }>,
  pods: readonly PodView[],
  deadlineSeconds?: number,
): RunEnd {
  const pod = lastTerminatedPod(pods);
  const endedAt = pod?.terminated?.finishedAt ?? state.at;
  const at = endedAt ? { endedAt: new Date(endedAt) } : {};
  if (state.state === 'failed' && state.reason === 'DeadlineExceeded') {
    const seconds = deadlineSeconds ?? 0;
    return {
      state: 'failed',
      error: new DeadlineExceededError(
        seconds,
        `Job ${jobName} passed its deadline (activeDeadlineSeconds ${seconds}s plus a grace period) and was stopped`,
      ),
      ...at,
    };
  }
  try {
    const report = decodeReport(pod?.terminated?.message);
    return report.ok
      ? { state: 'succeeded', result: report.result, ...at }
      : { state: 'failed', error: errorOf(report.error), ...at };
  } catch (error) {
    if (!(error instanceof MalformedReportError)) throw error;
    const exit = pod?.terminated
      ? `exit code ${pod.terminated.exitCode}${pod.terminated.reason ? ` (${pod.terminated.reason})` : ''}`
      : 'no Pod that ran to its end';
    const how =
      state.state === 'complete'
        ? 'completed'
        : `failed (${state.reason}${state.message ? `: ${state.message}` : ''})`;
    return {
      state: 'failed',
      error: new ClassifiedError(
        { class: 'terminal', reason: 'Internal', exitCode: pod?.terminated?.exitCode ?? EXIT.unexpected },
        `Job ${jobName} ${how} with ${exit} but without a run report (${error.message}); ` +
          `its outcome is unknown: see kubectl logs job/${jobName}`,
      ),
      ...at,
    };
  }
}
