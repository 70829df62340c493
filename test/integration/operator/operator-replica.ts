/**
 * `kafka-backup operator` as a real process, the way a replica of the Deployment runs it: the
 * flags lib/operator.ts synthesizes, a kubeconfig with the ServiceAccount's token (never in-cluster
 * config), structured logs on stderr collected for assertions and for a failure's diagnosis.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { CLI_BUNDLE } from '../../../scripts/bundle-cli.ts';
import { cgroupCommand } from '../../env/memory-cgroup.ts';
import { REPO } from '../api/crd-install.ts';

export interface OperatorReplica {
  /** POD_NAME of the process: the Lease holder identity starts with it. */
  readonly name: string;
  readonly child: ChildProcess;
  /** Every log line so far, parsed (a line that is not JSON is kept as `{ msg }`). */
  readonly logs: Array<Record<string, unknown>>;
  /** stdout and stderr as written, to grep for values that must never show. */
  output(): string;
  /** Resolves with the exit code once the process has exited. */
  readonly exit: Promise<number | null>;
  /** SIGTERM (graceful shutdown), waiting for the exit; a no-op once exited. */
  stop(): Promise<number | null>;
}

export interface ReplicaOptions {
  /** The operator's kubeconfig (installOperator's ServiceAccount kubeconfig). */
  readonly kubeconfig: string;
  /** The namespace to watch; all namespaces when absent. */
  readonly watched?: string;
  /** Flags after the defaults (later flags win): e.g. leader election, ports, log level. */
  readonly args?: readonly string[];
  /**
   * The program to run (with tsx) instead of the real operator, a fixture with a test controller.
   * Without it, the operator runs as the image starts it: the bundled CLI (build/cli/, bundled
   * afresh by the tests' global setup) under plain node.
   */
  readonly entry?: string;
  /**
   * A memory cgroup directory to start the process in (a container's limit: Node sizes its heap
   * after it at start, as in a Pod).
   */
  readonly cgroup?: string;
}

/** Starts one replica named `name`; a test stops it (t.after) with stop() or SIGKILL. */
export function startReplica(name: string, options: ReplicaOptions): OperatorReplica {
  const env: NodeJS.ProcessEnv = { ...process.env, POD_NAME: name };
  delete env.KUBERNETES_SERVICE_HOST;
  const entry = options.entry ? ['--import', 'tsx', options.entry] : [CLI_BUNDLE, 'operator'];
  const args = [
    ...entry,
    `--kubeconfig=${options.kubeconfig}`,
    ...(options.watched ? [`--watch-namespaces=${options.watched}`] : []),
    '--leader-elect=false',
    '--metrics-bind-address=0',
    '--health-probe-bind-address=0',
    '--log-level=info',
    ...(options.args ?? []),
  ];
  // In a cgroup: the shell joins it, then becomes node (same pid), so node starts inside it.
  const [command, argv] = options.cgroup
    ? cgroupCommand(options.cgroup, process.execPath, args)
    : [process.execPath, args];
  const child = spawn(command, argv, { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: Array<Record<string, unknown>> = [];
  let text = '';
  let partial = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    text += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    text += chunk;
    partial += chunk;
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ msg: line });
      }
    }
  });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    name,
    child,
    logs,
    output: () => text,
    exit,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exit;
    },
  };
}

/** A loopback port free right now (for a /metrics address a test scrapes). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
