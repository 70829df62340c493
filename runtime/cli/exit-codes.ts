import { ConfigError } from '../config/reader.ts';
import { EngineError } from '../engine/errors.ts';
import {
  BackupNotFoundError,
  CorruptObjectError,
  EncryptionKeyError,
  UnsupportedFormatError,
} from '../format/errors.ts';
import { KafkaError } from '../kafka/port.ts';
import { StorageError } from '../storage/object-store.ts';

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
 */
export const EXIT = {
  ok: 0,
  unexpected: 1,
  usage: 2,
  integrity: 3,
  kafka: 4,
  storage: 5,
  notFound: 6,
  conflict: 7,
  interrupted: 130,
  terminated: 143,
} as const;

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function exitCodeOf(error: unknown): number {
  if (error instanceof UsageError || error instanceof ConfigError) return EXIT.usage;
  if (error instanceof CorruptObjectError || error instanceof UnsupportedFormatError) return EXIT.integrity;
  if (error instanceof EncryptionKeyError) return EXIT.usage;
  if (error instanceof BackupNotFoundError) return EXIT.notFound;
  if (error instanceof KafkaError) return EXIT.kafka;
  if (error instanceof StorageError) return error.kind === 'not-found' ? EXIT.notFound : EXIT.storage;
  if (error instanceof EngineError) {
    return {
      config: EXIT.usage,
      'not-found': EXIT.notFound,
      conflict: EXIT.conflict,
      interrupted: EXIT.interrupted,
      integrity: EXIT.integrity,
      internal: EXIT.unexpected,
    }[error.kind];
  }
  const cause = (error as { cause?: unknown })?.cause;
  if (cause && cause !== error) return exitCodeOf(cause);
  return EXIT.unexpected;
}
