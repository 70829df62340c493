/**
 * `kafka-backup operator [flags]`: builds the Kubernetes client, the manager and its controllers
 * from the flags, runs until SIGTERM/SIGINT (graceful: stop taking work, wait for reconciles in
 * progress, release the Lease) or until leadership is lost (like controller-runtime, the process
 * then exits non-zero so that Kubernetes restarts it as a fresh candidate).
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { createLogger, type Logger } from '../log.ts';
import type { Controller } from './controller.ts';
import { defaultControllers } from './controllers/index.ts';
import { FlagError, OPERATOR_HELP, parseOperatorFlags } from './flags.ts';
import { ClientNodeKube } from './kube/client-node-kube.ts';
import { loadKubeConfig } from './kube/kubeconfig.ts';
import type { KubePort } from './kube/port.ts';
import { Manager } from './manager.ts';
import { OperatorMetrics } from './metrics.ts';
import { KAFKA_KINDS, type ObjectKey, type ResourceKind } from './resource.ts';
import { JobRunner } from './runs/job-runner.ts';
import { InProcessRunner, type Runner } from './runs/runner.ts';

/** What controllers are built from: the manager's client, a way to ask for a reconcile, the run registry. */
export interface ControllerDeps {
  readonly kube: KubePort;
  readonly log: Logger;
  readonly runner: Runner;
  readonly metrics: OperatorMetrics;
}

export interface OperatorMainOptions {
  /** The controllers to run, or how to build them. @default the five kinds (controllers/index.ts) */
  readonly controllers?: readonly Controller[] | ((deps: ControllerDeps) => readonly Controller[]);
  /** Replaces the client built from the kubeconfig (tests). */
  readonly kube?: KubePort;
  readonly log?: Logger;
  readonly env?: NodeJS.ProcessEnv;
  /** Called once the manager has started (tests read its addresses). */
  readonly onStarted?: (manager: Manager) => void;
}

/** Runs the operator; resolves with the process exit code. */
export async function operatorMain(
  argv: readonly string[],
  options: OperatorMainOptions = {},
): Promise<number> {
  const env = options.env ?? process.env;
  let flags: ReturnType<typeof parseOperatorFlags>;
  try {
    flags = parseOperatorFlags(argv, env);
  } catch (error) {
    if (!(error instanceof FlagError)) throw error;
    process.stderr.write(`kafka-backup operator: ${error.message}\n\n${OPERATOR_HELP}`);
    return 2;
  }
  if (flags.help) {
    process.stdout.write(OPERATOR_HELP);
    return 0;
  }
  const identity = `${env.POD_NAME || hostname()}_${randomUUID()}`;
  const log = (options.log ?? createLogger({ level: flags.logLevel })).child({ component: 'operator' });
  let kube: KubePort;
  try {
    kube =
      options.kube ??
      new ClientNodeKube(loadKubeConfig(flags.kubeconfig, env), {
        rateLimit: flags.kubeApiRateLimit ?? null,
      });
  } catch (error) {
    log.error('cannot reach Kubernetes', { error });
    return 2;
  }
  // Runs report progress through the runner, which asks the manager for a reconcile of their key.
  let enqueue: (kind: ResourceKind, key: ObjectKey) => void = () => {};
  const onChange = (key: string) => {
    const [kind, namespace, name] = key.split('/') as [string, string, string];
    const resource = Object.values(KAFKA_KINDS).find((k) => k.kind === kind);
    if (resource) enqueue(resource, { namespace, name });
  };
  const runner: Runner =
    flags.runner.mode === 'job'
      ? new JobRunner({ jobs: kube, settings: flags.runner.job, log, onChange })
      : new InProcessRunner({ log, onChange });
  log.info('runs execute', {
    runner: flags.runner.mode,
    ...(flags.runner.mode === 'job' ? { image: flags.runner.job.image } : {}),
  });
  const metrics = new OperatorMetrics();
  const build = options.controllers ?? defaultControllers;
  const controllers = typeof build === 'function' ? build({ kube, log, runner, metrics }) : build;
  if (controllers.length === 0)
    log.warn('no controllers registered: the manager runs but reconciles nothing');
  const manager = new Manager({
    metrics,
    kube,
    controllers,
    identity,
    namespaces: flags.watchNamespaces,
    metricsBindAddress: flags.metricsBindAddress,
    healthProbeBindAddress: flags.healthProbeBindAddress,
    maxConcurrentReconciles: flags.maxConcurrentReconciles,
    gracePeriodMs: flags.gracefulShutdownTimeoutMs,
    informer: { resyncMs: flags.syncPeriodMs },
    leaderElection:
      flags.leaderElect && flags.leaderElectionNamespace
        ? {
            namespace: flags.leaderElectionNamespace,
            name: flags.leaderElectionId,
            identity,
            leaseDurationMs: flags.leaseDurationMs,
            renewDeadlineMs: flags.renewDeadlineMs,
            retryPeriodMs: flags.retryPeriodMs,
          }
        : undefined,
    log,
  });

  enqueue = (kind, key) => manager.enqueue(kind, key);

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      // A second signal: the operator is stuck in shutdown and the user means it.
      log.error('second signal during shutdown: exiting now', { signal });
      process.exit(1);
    }
    log.info('shutting down', { signal });
    void manager.stop();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    try {
      await manager.start();
    } catch (error) {
      log.error('could not start the manager', { error });
      await manager.stop();
      return 1;
    }
    options.onStarted?.(manager);
    const reason = await manager.done;
    // In-process runs stop at a checkpoint and the next leader resumes them; Jobs go on, and the
    // next leader adopts them.
    await runner.stopAll();
    const code = reason === 'leadership-lost' ? 1 : 0;
    if (manager.abandonedReconciles > 0) {
      // Their promises keep the event loop alive, and after losing the Lease they must not act on.
      log.error('exiting with reconciles still running', { abandoned: manager.abandonedReconciles });
      process.exit(code);
    }
    return code;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}
