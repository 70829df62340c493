/**
 * Test helpers for the kube-apiserver of the test environment: kubectl as the admin or as a
 * ServiceAccount, an isolated namespace per test, ServiceAccount tokens from the TokenRequest API.
 *
 * Until a test asks for the node (`ensureNode()`), the environment runs no controllers and no
 * node, so:
 * - a deleted namespace stays `Terminating` forever; helpers never wait for deletion;
 * - nothing creates a namespace's `default` ServiceAccount: createNamespace() does it;
 * - Deployments, Jobs etc. never get Pods; tests that need running workloads call ensureNode().
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { need, uniqueName } from './fixture.ts';
import type { KubeInfo } from './state.ts';

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** Written to the command's standard input (e.g. YAML for `apply -f -`). */
  readonly input?: string;
  readonly timeoutMs?: number;
}

/** What node:test's TestContext offers to register cleanup (`t.after`). */
export interface CleanupScope {
  after(fn: () => unknown): void;
}

/** kubectl (and helm) bound to one identity on the test environment's API server. */
export class KubeClient {
  private constructor(
    readonly info: KubeInfo,
    /** The kubeconfig this client uses: the admin's, or one made for a ServiceAccount. */
    readonly kubeconfig: string,
    /** Who this client acts as, for error messages. */
    readonly identity: string,
  ) {}

  /** The cluster admin (system:masters), from the running test environment. */
  static admin(info: KubeInfo = need('kube')): KubeClient {
    return new KubeClient(info, info.kubeconfig, 'admin');
  }

  /** Runs kubectl and returns stdout; fails with kubectl's stderr when it exits non-zero. */
  async kubectl(args: readonly string[], options: RunOptions = {}): Promise<string> {
    const result = await this.tryKubectl(args, options);
    if (result.code !== 0) {
      throw new Error(
        `kubectl ${args.join(' ')} (as ${this.identity}) exited with ${result.code}: ${result.stderr.trim()}`,
      );
    }
    return result.stdout;
  }

  /** Runs kubectl and returns exit code and output, for tests that expect a failure. */
  tryKubectl(args: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
    return execute(this.info.kubectl, ['--kubeconfig', this.kubeconfig, ...args], {
      ...options,
      env: { KUBECACHEDIR: join(this.dataDir, 'kubectl-cache') },
    });
  }

  /** `kubectl get -o json`, parsed. */
  async getJson<T = KubeObject>(args: readonly string[]): Promise<T> {
    return JSON.parse(await this.kubectl(['get', ...args, '-o', 'json'])) as T;
  }

  /** Applies YAML (a string, or objects that are serialized as a multi-document stream). */
  apply(manifests: string | readonly object[], namespace?: string): Promise<string> {
    return this.kubectl([...(namespace ? ['-n', namespace] : []), 'apply', '-f', '-'], {
      input: yamlStream(manifests),
    });
  }

  /**
   * Creates a namespace of its own for one test, with the `default` ServiceAccount that the
   * (absent) controller manager would create. With `scope` (a node:test TestContext), the namespace
   * is deleted after the test.
   */
  async createNamespace(prefix: string, scope?: CleanupScope): Promise<string> {
    const name = uniqueName(prefix).slice(0, 63).replace(/-+$/, '');
    const objects = [
      {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name, labels: { 'kafka-backup.test/owner': 'test' } },
      },
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: name } },
    ];
    // Server-side: where a kube-controller-manager runs, it creates `default` at the same time, and
    // a client-side apply (get, then create) can then fail with AlreadyExists.
    await this.kubectl(['apply', '--server-side', '-f', '-'], { input: yamlStream(objects) });
    scope?.after(() => this.deleteNamespace(name));
    return name;
  }

  /**
   * Requests deletion of a namespace without waiting: with no namespace controller running it
   * stays `Terminating` (its objects remain readable) until the environment is discarded.
   */
  async deleteNamespace(name: string): Promise<void> {
    await this.kubectl(['delete', 'namespace', name, '--wait=false', '--ignore-not-found']);
  }

  /** A ServiceAccount token from the TokenRequest API (`kubectl create token`). */
  async createToken(
    namespace: string,
    serviceAccount: string,
    options: { audience?: string; durationSeconds?: number } = {},
  ): Promise<string> {
    const args = ['-n', namespace, 'create', 'token', serviceAccount];
    if (options.audience) args.push('--audience', options.audience);
    if (options.durationSeconds) args.push('--duration', `${options.durationSeconds}s`);
    return (await this.kubectl(args)).trim();
  }

  /**
   * Writes a kubeconfig that authenticates as a ServiceAccount with a fresh token (default
   * namespace: the ServiceAccount's) and returns its path. The ServiceAccount must exist.
   */
  async writeServiceAccountKubeconfig(namespace: string, serviceAccount: string): Promise<string> {
    const token = await this.createToken(namespace, serviceAccount, { durationSeconds: 3600 });
    const user = `system:serviceaccount:${namespace}:${serviceAccount}`;
    const dir = join(this.dataDir, 'clients');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${namespace}.${serviceAccount}.${randomBytes(3).toString('hex')}.kubeconfig`);
    const config = {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'test',
          cluster: {
            server: this.info.server,
            'certificate-authority-data': readFileSync(this.info.caFile).toString('base64'),
          },
        },
      ],
      users: [{ name: user, user: { token } }],
      contexts: [{ name: user, context: { cluster: 'test', user, namespace } }],
      'current-context': user,
    };
    writeFileSync(file, stringify(config), { mode: 0o600 });
    return file;
  }

  /** A client acting as a ServiceAccount, authenticated with a token from the TokenRequest API. */
  async asServiceAccount(namespace: string, serviceAccount: string): Promise<KubeClient> {
    const kubeconfig = await this.writeServiceAccountKubeconfig(namespace, serviceAccount);
    return new KubeClient(this.info, kubeconfig, `system:serviceaccount:${namespace}:${serviceAccount}`);
  }

  /** `kubectl auth can-i VERB RESOURCE` for this client's identity. */
  async canI(verb: string, resource: string, namespace?: string): Promise<boolean> {
    const args = ['auth', 'can-i', verb, resource, ...(namespace ? ['-n', namespace] : [])];
    const result = await this.tryKubectl(args);
    // can-i exits 1 with "no" when denied; anything else is a real error.
    if (result.code !== 0 && result.stdout.trim() !== 'no') {
      throw new Error(`kubectl ${args.join(' ')} (as ${this.identity}) failed: ${result.stderr.trim()}`);
    }
    return result.stdout.trim() === 'yes';
  }

  /**
   * Whether `user` may do this, by a SubjectAccessReview. Unlike `kubectl auth can-i`, which needs
   * discovery to split `kafkabackups.kafka.oso.sh` into group and resource, it answers for custom
   * resources whose CRD is not installed.
   */
  async allows(
    user: string,
    attributes: {
      verb: string;
      resource: string;
      group?: string;
      subresource?: string;
      name?: string;
      namespace?: string;
    },
  ): Promise<boolean> {
    const review = {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: { user, resourceAttributes: attributes },
    };
    const out = await this.kubectl(['create', '-o', 'json', '-f', '-'], { input: JSON.stringify(review) });
    return (JSON.parse(out) as { status: { allowed: boolean } }).status.allowed;
  }

  /**
   * Runs helm against this client's kubeconfig, with helm's cache, config and data kept in the
   * environment's data directory (never the user's home).
   */
  async helm(args: readonly string[], options: RunOptions & { helm?: string } = {}): Promise<string> {
    const helm = options.helm ?? need('tools').helm;
    const home = join(this.dataDir, 'helm');
    const result = await execute(helm, ['--kubeconfig', this.kubeconfig, ...args], {
      ...options,
      env: {
        HELM_CACHE_HOME: join(home, 'cache'),
        HELM_CONFIG_HOME: join(home, 'config'),
        HELM_DATA_HOME: join(home, 'data'),
      },
    });
    if (result.code !== 0) {
      throw new Error(
        `helm ${args.join(' ')} (as ${this.identity}) exited with ${result.code}: ${result.stderr.trim()}`,
      );
    }
    return result.stdout;
  }

  /** The kube component's data directory (holds the admin kubeconfig). */
  private get dataDir(): string {
    return dirname(this.info.kubeconfig);
  }
}

/** The parts of a Kubernetes object most tests read. */
export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { name: string; namespace?: string; uid?: string; [key: string]: unknown };
  readonly spec?: Record<string, unknown>;
  readonly status?: Record<string, unknown> & { conditions?: Condition[] };
  readonly items?: KubeObject[];
}

export interface Condition {
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason?: string;
  readonly message?: string;
}

function yamlStream(manifests: string | readonly object[]): string {
  return typeof manifests === 'string' ? manifests : manifests.map((m) => stringify(m)).join('---\n');
}

/** Parses a multi-document YAML stream (e.g. `helm template` output) into its objects. */
export function parseManifests(yaml: string): KubeObject[] {
  return yaml
    .split(/^---\s*$/m)
    .map((doc) => parse(doc) as KubeObject | null)
    .filter((doc): doc is KubeObject => doc !== null && typeof doc === 'object');
}

function execute(
  command: string,
  args: readonly string[],
  options: RunOptions & { env?: NodeJS.ProcessEnv },
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? 60_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', (error) => reject(new Error(`could not run ${command}: ${error.message}`)));
    child.on('close', (code, signal) => {
      if (signal) reject(new Error(`${command} ${args.join(' ')} was killed by ${signal}: ${stderr.trim()}`));
      else resolve({ code: code ?? 1, stdout, stderr });
    });
    // A child that exits without reading its input closes the pipe first (kubectl, quick to fail or
    // done): the EPIPE says nothing that its exit code and output do not.
    child.stdin.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') reject(error);
    });
    child.stdin.end(options.input ?? '');
  });
}
