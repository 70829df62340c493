import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findRunningEnv, readState } from './environment.ts';
import { run } from './process.ts';
import type { EnvState, NodeInfo } from './state.ts';

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

/**
 * The test node, started on first use for the environment the tests run in (a minute or two; see
 * docs/testing.md) and shared by every test file after that. A lock serializes concurrent callers
 * across test processes; the node is stopped with the environment.
 */
export async function ensureNode(): Promise<NodeInfo> {
  const env = testEnv();
  if (env.node) return env.node;
  const file = process.env.KAFKA_BACKUP_TEST_ENV ?? findRunningEnv()?.file;
  if (!file) throw new Error('no test environment to add the node to');
  const cli = fileURLToPath(new URL('./cli.ts', import.meta.url));
  await run(
    'flock',
    [join(env.root, 'node.lock'), process.execPath, '--import', 'tsx', cli, 'add-node', file],
    {
      timeoutMs: 30 * 60_000,
    },
  );
  cached = readState(file);
  if (!cached.node)
    throw new Error(`the node did not start; see ${env.root}/logs (kubelet.log, containerd.log)`);
  return cached.node;
}
