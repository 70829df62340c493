/**
 * Bounds of one validation run: activeDeadlineSeconds and the operator stopping end it through one
 * signal, which the use case passes to its HTTP calls, and which ends the wait for the use case at
 * once even while it reads storage (that read then finishes in the background, bounded by the
 * storage client's own timeouts).
 */
import { DeadlineExceededError } from '../runs/run-errors.ts';

export { DeadlineExceededError };

/** Aborted when the operator stops the run or when activeDeadlineSeconds passes (reason: DeadlineExceededError). */
export function stopSignal(
  parent: AbortSignal,
  deadline: { at: Date; seconds: number } | undefined,
): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onAbort = () => controller.abort(new Error('the operator stopped during the run'));
  parent.addEventListener('abort', onAbort, { once: true });
  const timer = deadline
    ? setTimeout(
        () => controller.abort(new DeadlineExceededError(deadline.seconds)),
        Math.max(0, deadline.at.getTime() - Date.now()),
      )
    : undefined;
  return {
    signal: controller.signal,
    dispose() {
      clearTimeout(timer);
      parent.removeEventListener('abort', onAbort);
    },
  };
}

/** The use case's work, ended at once when `signal` aborts (its reason is the error), even mid-read. */
export async function bounded<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  let onAbort: (() => void) | undefined;
  const stopped = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  // The abandoned work may still reject later: that is already accounted for.
  work.catch(() => {});
  try {
    return await Promise.race([work, stopped]);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}
