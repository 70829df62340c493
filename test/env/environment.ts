import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheDir } from './cache.ts';
import { startAzurite } from './components/azurite.ts';
import { startFakeGcs } from './components/fake-gcs.ts';
import { startKafka } from './components/kafka.ts';
import { startKube } from './components/kube.ts';
import { startMinio } from './components/minio.ts';
import { startNode, stopNode } from './components/node.ts';
import { resolveTools } from './components/tools.ts';
import { startToxiproxy } from './components/toxiproxy.ts';
import { isAlive, type ManagedProcess, managed, stopProcess } from './process.ts';
import type { ComponentContext, EnvState, Started } from './state.ts';

/** What `npm run env -- up` and `npm test` start by default. */
export const COMPONENTS = ['kafka', 'kube', 's3', 'azure', 'gcs', 'toxiproxy', 'tools'] as const;
/**
 * Started only on request (`npm run env -- up node`, or `ensureNode()` from the tests that run Pods):
 * it costs minutes to build cold and ~450 MiB while idle, and it needs `kube`.
 */
export const ON_DEMAND_COMPONENTS = ['node'] as const;
export type ComponentName = (typeof COMPONENTS)[number] | (typeof ON_DEMAND_COMPONENTS)[number];
export const ALL_COMPONENTS: readonly ComponentName[] = [...COMPONENTS, ...ON_DEMAND_COMPONENTS];

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
  node: 'node',
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
    processes.push(...s.processes.map(managed));
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
  let state: EnvState = {
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
  if (want.has('node')) {
    if (!state.kube) throw new Error('the node component needs kube: npm run env -- up kube node');
    try {
      const node = await startNode(context('node'), state.kube);
      state = { ...state, node: node.info, processes: [...processes, ...node.processes.map(managed)] };
    } catch (error) {
      await Promise.all(processes.map((p) => stopProcess(p.pid)));
      throw error;
    }
  }
  const file = join(root, 'env.json');
  writeFileSync(file, `${JSON.stringify(state, null, 2)}\n`);
  // Registered environments (`npm run env -- up`) are found by later runs; a test run's own is private.
  if (options.register !== false) writeFileSync(currentEnvPointer(), `${file}\n`);
  return { file, state, seconds: (Date.now() - started) / 1000 };
}

/**
 * Adds the node to a running environment (it needs the environment's API server) and records it in
 * its env.json. Callers serialize through `ensureNode()`, which holds a lock across processes.
 */
export async function addNode(file: string): Promise<EnvState> {
  const state = readState(file);
  if (state.node) return state;
  if (!state.kube) throw new Error(`the environment ${file} has no kube component, which the node needs`);
  const dataDir = join(state.root, 'node');
  mkdirSync(dataDir, { recursive: true });
  const started = Date.now();
  const node = await startNode(
    { dataDir, logDir: join(state.root, 'logs'), cacheDir: cacheDir() },
    state.kube,
  );
  const next: EnvState = {
    ...state,
    node: node.info,
    processes: [...state.processes, ...node.processes.map(managed)],
  };
  writeFileSync(file, `${JSON.stringify(next, null, 2)}\n`);
  console.log(`node ${node.info.name} Ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return next;
}

/** Stops every process of an environment (by the pids it recorded) and removes its data. */
export async function down(file: string, options: { keepData?: boolean } = {}): Promise<void> {
  const state = readState(file);
  const node = state.node;
  if (node) {
    // The node goes first and in order (kubelet, containers, containerd), while the API server is up.
    const nodeNames = new Set(['kubelet', 'kube-scheduler', 'kube-controller-manager', 'containerd']);
    await stopNode({ ...node, processes: state.processes.filter((p) => nodeNames.has(p.name)) });
  }
  await Promise.all(state.processes.map((p) => stopProcess(p.pid)));
  try {
    if (readFileSync(currentEnvPointer(), 'utf8').trim() === file) rmSync(currentEnvPointer());
  } catch {
    // no pointer
  }
  if (!options.keepData) rmSync(state.root, { recursive: true, force: true });
}
