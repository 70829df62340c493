import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Where downloaded and built test components live: outside the repo, shared by every clone on
 * the machine, keyed by version below this directory so that a pin change never reuses a stale build.
 */
export function cacheDir(): string {
  return (
    process.env.KAFKA_BACKUP_TEST_CACHE ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'kafka-backup-test')
  );
}
