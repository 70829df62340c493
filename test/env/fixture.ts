import { randomBytes } from 'node:crypto';
import { findRunningEnv, readState } from './environment.ts';
import type { EnvState } from './state.ts';

let cached: EnvState | undefined;

/**
 * The running test environment. `npm test` starts it (test/global-setup.ts); a test file run on
 * its own (`node --import tsx --test FILE`) uses the one `npm run env -- up` started.
 */
export function testEnv(): EnvState {
  if (cached) return cached;
  const file = process.env.KAFKA_BACKUP_TEST_ENV ?? findRunningEnv()?.file;
  if (!file) {
    throw new Error(
      'no test environment: run the tests with `npm test`, or start one with `npm run env -- up` first',
    );
  }
  cached = readState(file);
  return cached;
}

/** A component's connection details, or a clear error when the environment lacks it. */
export function need<K extends keyof EnvState>(key: K): NonNullable<EnvState[K]> {
  const value = testEnv()[key];
  if (value === undefined || value === null) {
    throw new Error(
      `the test environment has no '${String(key)}' component; start it with npm run env -- up`,
    );
  }
  return value as NonNullable<EnvState[K]>;
}

/** A name unique to this test run, valid as a Kafka topic, bucket, container and namespace name. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`.toLowerCase();
}
