/**
 * A run cannot proceed for a reason the user can act on. `kind` picks the CLI's exit code:
 * - config: the options contradict the cluster or the backup (fix the configuration);
 * - not-found: a backup, topic or partition named does not exist;
 * - conflict: the target changed under the run (another writer, deleted records, recreated topic);
 * - interrupted: stopped by a signal; rerunning resumes.
 * - integrity: Kafka answered in a way that would lose records if accepted (nothing is recorded).
 * - internal: the engine's own state contradicts itself (a bug); the message says what is consistent
 *   and what to inspect.
 */
export type EngineErrorKind = 'config' | 'not-found' | 'conflict' | 'interrupted' | 'integrity' | 'internal';

export class EngineError extends Error {
  readonly kind: EngineErrorKind;
  constructor(kind: EngineErrorKind, message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'EngineError';
    this.kind = kind;
  }
}

/**
 * Another run of the same backup or restore holds its lease, or this run lost it: nothing is wrong
 * with the spec or the data, so the same request succeeds once the other run ends (exit 7 like
 * every conflict, but retriable for the operator).
 */
export class RunLeaseConflict extends EngineError {
  constructor(message: string) {
    super('conflict', message);
    this.name = 'RunLeaseConflict';
  }
}
