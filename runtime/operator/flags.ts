/**
 * The flags of `kafka-backup operator`: those lib/operator.ts passes to the Deployment (same
 * names and meaning as a kubebuilder operator's), plus a few for running it by hand.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { LogLevel } from '../log.ts';
import { parseBindAddress } from './http-endpoints.ts';
import { DEFAULT_KUBE_API_RATE_LIMIT } from './kube/port.ts';
import type { JobPodTemplate, JobSettings } from './runs/job-manifest.ts';
import { JobTemplateError, parseJobTemplate } from './runs/job-template.ts';

export const OPERATOR_HELP = `kafka-backup operator - run the Kubernetes operator (the manager and its controllers)

Usage:
  kafka-backup operator [flags]

Flags:
  --metrics-bind-address ADDR        serve /metrics here (default :8080; 0 disables)
  --health-probe-bind-address ADDR   serve /healthz and /readyz here (default :8081; 0 disables)
  --leader-elect[=true|false]        elect a leader on a Lease, so only one replica acts (default false)
  --leader-election-id NAME          the Lease's name (default kafka-backup-operator-leader)
  --leader-election-namespace NS     the Lease's namespace (default: the Pod's namespace)
  --leader-elect-lease-duration D    how long a Lease holds without renewal (default 15s)
  --leader-elect-renew-deadline D    how long the leader retries renewing before it stops (default 10s)
  --leader-elect-retry-period D      how often to try to take or renew the Lease (default 2s)
  --watch-namespaces NS[,NS...]      namespaces to watch (default: all)
  --sync-period D                    re-reconcile every object this often (default 5m; 0 disables)
  --max-concurrent-reconciles N      reconciles at once, over all kinds (default 4)
  --kube-api-qps Q                   requests per second to the API server, client-side (default 50;
                                     -1 disables the limit and leaves it to the server's priority and fairness)
  --kube-api-burst N                 requests above that rate allowed at once (default 100)
  --graceful-shutdown-timeout D      on SIGTERM, wait this long for reconciles in progress (default 20s)
  --runner in-process|job            where runs execute: in the operator process (default), or each as a
                                     Kubernetes Job of --job-image running \`kafka-backup run\`
  --job-image IMAGE                  the run Jobs' image (the operator's own image; required with --runner=job)
  --job-service-account NAME         the run Pods' ServiceAccount (default: the namespace's default)
  --job-template FILE                YAML pod template fragment for run Pods: metadata.labels/annotations,
                                     spec.nodeSelector, tolerations, affinity, hostNetwork, securityContext...,
                                     spec.containers[0].resources, env, envFrom, imagePullPolicy
  --kubeconfig FILE                  kubeconfig (default: $KUBECONFIG, in-cluster, ~/.kube/config)
  --log-level L                      debug, info (default), warn or error
  -h, --help                         this help

Durations: 500ms, 15s, 5m, 1h.
`;

export interface OperatorFlags {
  readonly metricsBindAddress: string;
  readonly healthProbeBindAddress: string;
  readonly leaderElect: boolean;
  readonly leaderElectionId: string;
  readonly leaderElectionNamespace: string | undefined;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  readonly watchNamespaces: string[];
  readonly syncPeriodMs: number;
  readonly maxConcurrentReconciles: number;
  /** Client-side rate limit of API requests; undefined: none (--kube-api-qps=-1). */
  readonly kubeApiRateLimit: { readonly qps: number; readonly burst: number } | undefined;
  readonly gracefulShutdownTimeoutMs: number;
  readonly kubeconfig: string | undefined;
  readonly logLevel: LogLevel;
  /** Where runs execute; `job` comes with the settings of the run Jobs. */
  readonly runner: { readonly mode: 'in-process' } | { readonly mode: 'job'; readonly job: JobSettings };
  readonly help: boolean;
}

export class FlagError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FlagError';
  }
}

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
const SERVICE_ACCOUNT_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

export function parseOperatorFlags(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): OperatorFlags {
  // A bare --leader-elect means true, as with Go's boolean flags; --leader-elect=false also works.
  const args = argv.map((a) => (a === '--leader-elect' ? '--leader-elect=true' : a));
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args,
      allowPositionals: false,
      options: {
        'metrics-bind-address': { type: 'string', default: ':8080' },
        'health-probe-bind-address': { type: 'string', default: ':8081' },
        'leader-elect': { type: 'string', default: 'false' },
        'leader-election-id': { type: 'string', default: 'kafka-backup-operator-leader' },
        'leader-election-namespace': { type: 'string' },
        'leader-elect-lease-duration': { type: 'string', default: '15s' },
        'leader-elect-renew-deadline': { type: 'string', default: '10s' },
        'leader-elect-retry-period': { type: 'string', default: '2s' },
        'watch-namespaces': { type: 'string', default: '' },
        'sync-period': { type: 'string', default: '5m' },
        'max-concurrent-reconciles': { type: 'string', default: '4' },
        'kube-api-qps': { type: 'string', default: String(DEFAULT_KUBE_API_RATE_LIMIT.qps) },
        'kube-api-burst': { type: 'string', default: String(DEFAULT_KUBE_API_RATE_LIMIT.burst) },
        'graceful-shutdown-timeout': { type: 'string', default: '20s' },
        kubeconfig: { type: 'string' },
        runner: { type: 'string', default: 'in-process' },
        'job-image': { type: 'string' },
        'job-service-account': { type: 'string' },
        'job-template': { type: 'string' },
        'log-level': { type: 'string', default: 'info' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    throw new FlagError(error instanceof Error ? error.message : String(error));
  }
  const str = (name: string) => values[name] as string;
  const leaderElect = parseBoolean('--leader-elect', str('leader-elect'));
  const logLevel = str('log-level') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new FlagError(`--log-level: expected one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }
  const concurrency = Number(str('max-concurrent-reconciles'));
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new FlagError(
      `--max-concurrent-reconciles: expected a whole number of at least 1, got "${str('max-concurrent-reconciles')}"`,
    );
  }
  const qps = Number(str('kube-api-qps'));
  if (!(Number.isFinite(qps) && (qps > 0 || qps === -1))) {
    throw new FlagError(
      `--kube-api-qps: expected a positive number or -1 (no limit), got "${str('kube-api-qps')}"`,
    );
  }
  const burst = Number(str('kube-api-burst'));
  if (!Number.isInteger(burst) || burst < 1) {
    throw new FlagError(
      `--kube-api-burst: expected a whole number of at least 1, got "${str('kube-api-burst')}"`,
    );
  }
  const watchNamespaces = str('watch-namespaces')
    .split(',')
    .map((ns) => ns.trim())
    .filter(Boolean);
  const flags: OperatorFlags = {
    metricsBindAddress: str('metrics-bind-address'),
    healthProbeBindAddress: str('health-probe-bind-address'),
    leaderElect,
    leaderElectionId: str('leader-election-id'),
    leaderElectionNamespace: str('leader-election-namespace') || podNamespace(env),
    leaseDurationMs: parseDuration('--leader-elect-lease-duration', str('leader-elect-lease-duration')),
    renewDeadlineMs: parseDuration('--leader-elect-renew-deadline', str('leader-elect-renew-deadline')),
    retryPeriodMs: parseDuration('--leader-elect-retry-period', str('leader-elect-retry-period')),
    watchNamespaces: [...new Set(watchNamespaces)],
    syncPeriodMs: parseDuration('--sync-period', str('sync-period')),
    maxConcurrentReconciles: concurrency,
    kubeApiRateLimit: qps === -1 ? undefined : { qps, burst },
    gracefulShutdownTimeoutMs: parseDuration('--graceful-shutdown-timeout', str('graceful-shutdown-timeout')),
    kubeconfig: str('kubeconfig'),
    logLevel,
    runner: runnerOf(values as Record<string, string | undefined>),
    help: values.help === true,
  };
  for (const [flag, value] of [
    ['--metrics-bind-address', flags.metricsBindAddress],
    ['--health-probe-bind-address', flags.healthProbeBindAddress],
  ] as const) {
    try {
      parseBindAddress(flag, value);
    } catch (error) {
      throw new FlagError((error as Error).message);
    }
  }
  if (flags.leaderElect && !flags.leaderElectionNamespace && !flags.help) {
    throw new FlagError(
      '--leader-elect: the Lease namespace is unknown outside a Pod; pass --leader-election-namespace',
    );
  }
  if (
    flags.leaderElect &&
    !(flags.leaseDurationMs > flags.renewDeadlineMs && flags.renewDeadlineMs > flags.retryPeriodMs)
  ) {
    throw new FlagError(
      'leader election: lease duration must exceed renew deadline, which must exceed retry period',
    );
  }
  return flags;
}

function runnerOf(values: Record<string, string | undefined>): OperatorFlags['runner'] {
  const mode = values.runner;
  const jobFlags = ['job-image', 'job-service-account', 'job-template'].filter(
    (f) => values[f] !== undefined,
  );
  if (mode === 'in-process') {
    if (jobFlags.length > 0)
      throw new FlagError(`--${jobFlags[0]} applies to --runner=job only (the runner is in-process)`);
    return { mode };
  }
  if (mode !== 'job') throw new FlagError(`--runner: expected in-process or job, got "${mode}"`);
  const image = values['job-image'];
  if (!image) throw new FlagError("--runner=job needs --job-image (the operator's own image)");
  const serviceAccountName = values['job-service-account'];
  const file = values['job-template'];
  let template: JobPodTemplate | undefined;
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new FlagError(
        `--job-template: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? error}`,
      );
    }
    try {
      template = parseJobTemplate(text, `--job-template ${file}`);
    } catch (error) {
      if (error instanceof JobTemplateError) throw new FlagError(error.message);
      throw error;
    }
  }
  return {
    mode,
    job: { image, ...(serviceAccountName ? { serviceAccountName } : {}), ...(template ? { template } : {}) },
  };
}

function parseBoolean(flag: string, value: string): boolean {
  if (/^(true|1|t)$/i.test(value)) return true;
  if (/^(false|0|f)$/i.test(value)) return false;
  throw new FlagError(`${flag}: expected true or false, got "${value}"`);
}

/** "500ms", "15s", "5m", "1h", or "0". */
export function parseDuration(flag: string, value: string): number {
  if (value === '0') return 0;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(value);
  if (!match)
    throw new FlagError(`${flag}: expected a duration such as 500ms, 15s, 5m or 1h, got "${value}"`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(match[1]) * unit);
}

/** The Pod's namespace: $POD_NAMESPACE (the Deployment sets it), else the ServiceAccount mount. */
function podNamespace(env: NodeJS.ProcessEnv): string | undefined {
  if (env.POD_NAMESPACE) return env.POD_NAMESPACE;
  try {
    return readFileSync(SERVICE_ACCOUNT_NAMESPACE, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
