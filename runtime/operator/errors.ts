/**
 * Errors of the operator layer. A reconciler signals "do not retry" with a TerminalError (or any
 * error with `terminal: true`, so the use-case layer can mark its own errors without importing
 * this module); every other error is retried with backoff, as in controller-runtime.
 */
export class TerminalError extends Error {
  readonly terminal = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TerminalError';
  }
}

/** True for errors that retrying cannot fix (a TerminalError, or any error with `terminal: true`). */
export function isTerminal(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { terminal?: unknown }).terminal === true;
}

/** A failed Kubernetes API call, with the HTTP status and the Status reason when the server sent one. */
export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** The Status `reason` (NotFound, Conflict, AlreadyExists, Expired, Forbidden...), when known. */
    readonly reason?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'KubeApiError';
  }
}

export const isNotFound = (e: unknown): boolean => e instanceof KubeApiError && e.status === 404;
/** 409: a resourceVersion precondition failed, or the object already exists. */
export const isConflict = (e: unknown): boolean => e instanceof KubeApiError && e.status === 409;
/** 410 Gone: the resourceVersion is too old to watch from; relist. */
export const isGone = (e: unknown): boolean =>
  e instanceof KubeApiError && (e.status === 410 || e.reason === 'Expired' || e.reason === 'Gone');
