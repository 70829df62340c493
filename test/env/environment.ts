import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheDir } from './cache.ts';
import { startAzurite } from './components/azurite.ts';
import { startFakeGcs } from './components/fake-gcs.ts';
import { startKafka } from './components/kafka.ts';
import { startKube } from './components/kube.ts';
import { startMinio } from './components/minio.ts';
import { resolveTools } from './components/tools.ts';
import { startToxiproxy } from './components/toxiproxy.ts';
import { isAlive, type ManagedProcess, stopProcess } from './process.ts';
import type { ComponentContext, EnvState, Started } from './state.ts';

export const COMPONENTS = ['kafka', 'kube', 's3', 'azure', 'gcs', 'toxiproxy', 'tools'] as const;
export type ComponentName = (typeof COMPONENTS)[number];

/** File naming the running environment's env.json, so `env status|down` and tests can find it. */
export function currentEnvPointer(): string {
  return join(cacheDir(), 'current-env');
}

const STATE_KEY: Record<ComponentName, keyof EnvState> = {
  kafka: 'kafka',
  kube: 'kube',
  s3: 's3',
  azure: 'azure',
  gcs: 'gcs',
  toxiproxy: 'toxiproxy',
  tools: 'tools',
};

export function hasComponent(state: EnvState, component: ComponentName): boolean {
  return state[STATE_KEY[component]] !== undefined;
}

export function readState(file: string): EnvState {
  return JSON.parse(readFileSync(file, 'utf8')) as EnvState;
}

/** The environment started by `npm run env up`, if it is still running. */
export function findRunningEnv(): { file: string; state: EnvState } | undefined {
  let file: string;
  try {
    file = readFileSync(currentEnvPointer(), 'utf8').trim();
  } catch {
    return undefined;
  }
  try {
    const state = readState(file);
    if (state.processes.length > 0 && state.processes.every((p) => isAlive(p.pid))) return { file, state };
  } catch {
    // stale pointer
  }
  return undefined;
}

export interface UpResult {
  readonly file: string;
  readonly state: EnvState;
  readonly seconds: number;
}

/**
 * Starts the requested components in parallel, each in its own data directory under a fresh
 * temporary root, and writes `env.json` there. If one component fails, the others are stopped.
 * Unless `register` is false, it becomes the current environment that `env status|down` and later
 * test runs find.
 */
export async function up(
  components: readonly ComponentName[] = COMPONENTS,
  options: { register?: boolean } = {},
): Promise<UpResult> {
  const started = Date.now();
  const root = mkdtempSync(join(tmpdir(), 'kafka-backup-env-'));
  const logDir = join(root, 'logs');
  mkdirSync(logDir, { recursive: true });
  mkdirSync(cacheDir(), { recursive: true });
  const context = (name: string): ComponentContext => {
    const dataDir = join(root, name);
    mkdirSync(dataDir, { recursive: true });
    return { dataDir, logDir, cacheDir: cacheDir() };
  };

  const processes: ManagedProcess[] = [];
  const track = async <T>(p: Promise<Started<T>>): Promise<T> => {
    const s = await p;
    // Only what identifies a process goes into env.json (a starter may hand back its ChildProcess too).
    processes.push(...s.processes.map(({ name, pid, logFile }) => ({ name, pid, logFile })));
    return s.info;
  };
  const want = new Set(components);
  const results = await Promise.allSettled([
    want.has('kafka') ? track(startKafka(context('kafka'))) : undefined,
    want.has('kube') ? track(startKube(context('kube'))) : undefined,
    want.has('s3') ? track(startMinio(context('minio'))) : undefined,
    want.has('azure') ? track(startAzurite(context('azurite'))) : undefined,
    want.has('gcs') ? track(startFakeGcs(context('fake-gcs'))) : undefined,
    want.has('toxiproxy') ? track(startToxiproxy(context('toxiproxy'))) : undefined,
    want.has('tools') ? resolveTools(context('tools')) : undefined,
  ]);
  const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failures.length > 0) {
    await Promise.all(processes.map((p) => stopProcess(p.pid)));
    throw new AggregateError(
      failures.map((f) => f.reason),
      `test environment did not start (logs in ${logDir}):\n${failures.map((f) => `- ${(f.reason as Error).message}`).join('\n')}`,
    );
  }
  const value = <T>(i: number) => (results[i] as PromiseFulfilledResult<T>).value;
  const state: EnvState = {
    version: 1,
    root,
    processes,
    kafka: value(0),
    kube: value(1),
    s3: value(2),
    azure: value(3),
    gcs: value(4),
    toxiproxy: value(5),
    tools: value(6),
  };
  const file = join(root, 'env.json');
  writeFileSync(file, `${JSON.stringify(state, null, 2)}\n`);
  // Registered environments (`npm run env -- up`) are found by later runs; a test run's own is private.
  if (options.register !== false) writeFileSync(currentEnvPointer(), `${file}\n`);
  return { file, state, seconds: (Date.now() - started) / 1000 };
}

/** Stops every process of an environment (by the pids it recorded) and removes its data. */
export async function down(file: string, options: { keepData?: boolean } = {}): Promise<void> {
  const state = readState(file);
  await Promise.all(state.processes.map((p) => stopProcess(p.pid)));
  try {
    if (readFileSync(currentEnvPointer(), 'utf8').trim() === file) rmSync(currentEnvPointer());
  } catch {
    // no pointer
  }
  if (!options.keepData) rmSync(state.root, { recursive: true, force: true });
}
