/**
 * Runs the pinned `helm` (test/env/tools/helm, built into the cache) on the chart, offline: lint
 * and template with values given as objects. Shared by the chart's unit and integration tests.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { CHART_DIR } from '../../../scripts/gen-crds.ts';
import { goTool } from '../../env/go-tools.ts';
import { run } from '../../env/process.ts';

export { CHART_DIR };

/** Values of the chart, as values.yaml would hold them. */
export type Values = Record<string, unknown>;

/** A rendered object, free-form below the fields every object has. */
export type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; [k: string]: unknown };
  // biome-ignore lint/suspicious/noExplicitAny: rendered manifests are free-form JSON
  [k: string]: any;
};

/**
 * `helm template` renders offline against a default Kubernetes version, which for a helm built
 * without release ldflags is 1.20, below the chart's kubeVersion (>=1.29: CEL validation rules).
 */
const KUBE_VERSION = '1.33.0';

// helm keeps its config and cache here, never in the user's home (offline commands write nothing).
const helmHome = join(tmpdir(), 'kafka-backup-helm');
const helmEnv = {
  HELM_CACHE_HOME: join(helmHome, 'cache'),
  HELM_CONFIG_HOME: join(helmHome, 'config'),
  HELM_DATA_HOME: join(helmHome, 'data'),
};

/** `--set-json` per top-level key: typed values without a values file. */
export function valueArgs(values: Values): string[] {
  return Object.entries(values).flatMap(([key, value]) => ['--set-json', `${key}=${JSON.stringify(value)}`]);
}

/** Runs helm; a non-zero exit rejects with helm's stderr in the message. */
export async function helm(args: readonly string[]): Promise<string> {
  return run(await goTool('helm', 'helm'), args, { env: helmEnv, timeoutMs: 60_000 });
}

export interface RenderOptions {
  readonly release?: string;
  readonly namespace?: string;
  readonly chart?: string;
}

/** `helm template` of the chart with these values, parsed. */
export async function render(values: Values = {}, options: RenderOptions = {}): Promise<Manifest[]> {
  const out = await helm([
    'template',
    options.release ?? 'kafka-backup-operator',
    options.chart ?? CHART_DIR,
    '--namespace',
    options.namespace ?? 'kafka-backup-system',
    '--kube-version',
    KUBE_VERSION,
    ...valueArgs(values),
  ]);
  return parseAllDocuments(out)
    .map((doc) => doc.toJS() as Manifest | null)
    .filter((doc): doc is Manifest => doc !== null);
}

/** `helm lint --strict` of the chart with these values. */
export function lint(values: Values = {}): Promise<string> {
  return helm(['lint', CHART_DIR, '--strict', '--kube-version', KUBE_VERSION, ...valueArgs(values)]);
}
