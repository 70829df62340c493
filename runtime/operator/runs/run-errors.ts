/**
 * Errors a run ends with that the controllers tell apart, and their form in a Job's termination
 * message: a run in a Kubernetes Job reports its error as data (classification, message, and
 * whether it passed its deadline), and the operator rebuilds an error that classify() and the
 * controllers' `instanceof` checks treat exactly like the in-process run's.
 */
import { ClassifiedError, classify, type ErrorClass, type FailureReason } from '../../app/errors.ts';

/** Thrown into (or by) a run that passed activeDeadlineSeconds. */
export class DeadlineExceededError extends Error {
  constructor(
    readonly seconds: number,
    message = `the run did not finish within ${seconds}s`,
  ) {
    super(message);
    this.name = 'DeadlineExceededError';
  }
}

/** An error as a Job reports it: never a stack, never a Secret value (the message is scrubbed). */
export interface ReportedError {
  readonly class: ErrorClass;
  readonly reason: FailureReason;
  readonly exitCode: number;
  readonly message: string;
  /** Set when the run stopped at activeDeadlineSeconds. */
  readonly deadlineSeconds?: number;
}

export function reportError(error: unknown): ReportedError {
  const c = classify(error);
  return {
    class: c.class,
    reason: c.reason,
    exitCode: c.exitCode,
    message: c.message,
    ...(error instanceof DeadlineExceededError ? { deadlineSeconds: error.seconds } : {}),
  };
}

/** The error the controllers see for a run reported by a Job. */
export function errorOf(reported: ReportedError): Error {
  if (reported.deadlineSeconds !== undefined) {
    return new DeadlineExceededError(reported.deadlineSeconds, reported.message);
  }
  return new ClassifiedError(
    { class: reported.class, reason: reported.reason, exitCode: reported.exitCode },
    reported.message,
  );
}
