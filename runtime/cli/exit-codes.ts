import { classify, EXIT, UsageError } from '../app/errors.ts';

/**
 * Exit codes of `kafka-backup` (documented in `kafka-backup --help`):
 *   0  success
 *   1  unexpected error (a bug: please report it with the log)
 *   2  usage or configuration error: fix the command line or the YAML file
 *   3  integrity error: a backup object is corrupt, truncated or missing, or verification failed
 *   4  Kafka error: the cluster is unreachable, refused the credentials, or rejected an operation
 *   5  storage error: the storage is unreachable, refused access, or failed
 *   6  not found: the backup (or a topic) named does not exist
 *   7  conflict: the target changed under the run (another writer, deleted records, recreated topic)
 * 130 interrupted (SIGINT), 143 terminated (SIGTERM): the run stopped cleanly and can be resumed
 *
 * They derive from the one error classification (runtime/app/errors.ts) the operator uses too.
 */
export { EXIT, UsageError };

export function exitCodeOf(error: unknown): number {
  return classify(error).exitCode;
}
