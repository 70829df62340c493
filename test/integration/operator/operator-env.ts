/**
 * Helpers of the operator's integration tests: the operator's install (ServiceAccount and RBAC
 * exactly as lib/operator.ts synthesizes them) on the test environment's kube-apiserver, a client
 * authenticated with that ServiceAccount's token, KafkaBackup objects, and a TCP proxy in front of
 * the API server that a test can cut to break the operator's connections.
 */
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig } from '@kubernetes/client-node';
import { App, Chart } from 'cdk8s';
import { InstallMode, KafkaBackupOperator } from '../../../lib/index.ts';
import { type AppPorts, productionPorts } from '../../../runtime/app/index.ts';
import { silentLogger } from '../../../runtime/log.ts';
import { ClientNodeKube } from '../../../runtime/operator/kube/client-node-kube.ts';
import { loadKubeConfig } from '../../../runtime/operator/kube/kubeconfig.ts';
import { KAFKA_KINDS } from '../../../runtime/operator/resource.ts';
import { type CleanupScope, KubeClient } from '../../env/kube-client.ts';
import type { S3Info } from '../../env/state.ts';
import { mapSecrets } from '../../unit/app/memory-ports.ts';
import { installCrds } from '../api/crd-install.ts';

export const SERVICE_ACCOUNT = 'kafka-backup-operator';
export const LEASE_NAME = 'kafka-backup-operator-leader';
export const KB = KAFKA_KINDS.KafkaBackup;

/** Polls until `probe` holds. */
export async function eventually(
  what: string,
  probe: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await sleep(100);
  }
}

export interface OperatorInstall {
  readonly admin: KubeClient;
  /** Where the operator runs (its ServiceAccount and Lease). */
  readonly operatorNamespace: string;
  /** The namespace it watches. */
  readonly watched: string;
  /** A kubeconfig authenticating as the operator's ServiceAccount (TokenRequest token). */
  readonly kubeconfig: string;
  /** The manifests applied: the operator's RBAC as synthesized. */
  readonly manifests: ReadonlyArray<{ kind: string; metadata: { name: string } }>;
}

/** The operator's ServiceAccount in a namespace of its own, with or without its RBAC applied yet. */
export async function installOperator(
  scope: CleanupScope,
  options: { applyRbac?: boolean; secretNames?: string[] } = {},
): Promise<OperatorInstall & { applyRbac(): Promise<void> }> {
  const admin = KubeClient.admin();
  await installCrds(admin);
  const [operatorNamespace, watched] = (await Promise.all(
    ['op', 'op-watched'].map((prefix) => admin.createNamespace(prefix, scope)),
  )) as [string, string];
  const app = new App();
  new KafkaBackupOperator(new Chart(app, 'operator'), 'Operator', {
    namespace: operatorNamespace,
    createNamespace: false,
    installMode: InstallMode.namespaced(watched),
    secretNames: options.secretNames,
  });
  const manifests = app.charts.flatMap((c) => c.toJson()) as Array<{
    kind: string;
    metadata: { name: string };
  }>;
  const serviceAccount = manifests.filter((m) => m.kind === 'ServiceAccount');
  await admin.apply(serviceAccount);
  const kubeconfig = await admin.writeServiceAccountKubeconfig(operatorNamespace, SERVICE_ACCOUNT);
  const applyRbac = async () => {
    // Everything lib/operator.ts synthesizes; with no nodes in the environment, the Deployment never runs.
    await admin.apply(manifests);
    const sa = `system:serviceaccount:${operatorNamespace}:${SERVICE_ACCOUNT}`;
    await eventually('the operator RBAC takes effect', async () => {
      const can = await admin.tryKubectl([
        'auth',
        'can-i',
        'watch',
        'kafkabackups.kafka.oso.sh',
        '-n',
        watched,
        '--as',
        sa,
      ]);
      const lease = await admin.tryKubectl([
        'auth',
        'can-i',
        'update',
        `leases.coordination.k8s.io/${LEASE_NAME}`,
        '-n',
        operatorNamespace,
        '--as',
        sa,
      ]);
      return can.stdout.trim() === 'yes' && lease.stdout.trim() === 'yes';
    });
  };
  if (options.applyRbac ?? true) await applyRbac();
  return { admin, operatorNamespace, watched, kubeconfig, manifests, applyRbac };
}

/** The port authenticated as the operator, optionally through another server address (a proxy). */
export function operatorKube(kubeconfig: string, server?: string): ClientNodeKube {
  const config = loadKubeConfig(kubeconfig);
  if (!server) return new ClientNodeKube(config);
  const redirected = new KubeConfig();
  redirected.loadFromOptions({
    clusters: config.clusters.map((c) => ({ ...c, server })),
    users: config.users,
    contexts: config.contexts,
    currentContext: config.currentContext,
  });
  return new ClientNodeKube(redirected);
}

/** A `storage` block for the environment's MinIO (path-style, plain HTTP), credentials in Secret `secret`. */
export function minioStorage(s3: S3Info, bucket: string, secret: string, prefix?: string) {
  return {
    storageType: 's3',
    s3: {
      bucket,
      region: s3.region,
      endpoint: s3.endpoint,
      pathStyle: true,
      allowHttp: true,
      ...(prefix ? { prefix } : {}),
      credentialsSecret: { name: secret },
    },
  };
}

/** The use cases' ports, given the MinIO credentials of minioSecret(s3, secret) as the API would. */
export function minioPorts(s3: S3Info, secret: string): AppPorts {
  return productionPorts({
    log: silentLogger,
    secrets: mapSecrets({
      [`${secret}/AWS_ACCESS_KEY_ID`]: s3.accessKeyId,
      [`${secret}/AWS_SECRET_ACCESS_KEY`]: s3.secretAccessKey,
    }),
  });
}

/** The store minioStorage(s3, bucket, secret, prefix) names, to check what the operator wrote. */
export function openMinioStore(s3: S3Info, bucket: string, secret: string, prefix?: string) {
  const credential = (key: string) => ({ kind: 'secret' as const, name: secret, key });
  return minioPorts(s3, secret).openStore({
    type: 's3',
    bucket,
    region: s3.region,
    endpoint: s3.endpoint,
    pathStyle: true,
    allowHttp: true,
    ...(prefix ? { prefix } : {}),
    accessKeyId: credential('AWS_ACCESS_KEY_ID'),
    secretAccessKey: credential('AWS_SECRET_ACCESS_KEY'),
  });
}

/** The Secret minioStorage names: MinIO's credentials under the keys the CRD defaults to. */
export function minioSecret(s3: S3Info, name: string) {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name },
    stringData: { AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey },
  };
}

/** A KafkaBackup that the CRD's schema accepts. */
export function kafkaBackup(name: string, extra: Record<string, unknown> = {}) {
  return {
    apiVersion: 'kafka.oso.sh/v1alpha1',
    kind: 'KafkaBackup',
    metadata: { name },
    spec: {
      kafkaCluster: { bootstrapServers: ['kafka.default.svc:9092'] },
      topics: ['orders'],
      storage: {
        storageType: 's3',
        s3: { bucket: 'backups', region: 'us-west-2', credentialsSecret: { name: 's3-credentials' } },
      },
      stopAtCurrentOffsets: true,
      ...extra,
    },
  };
}

/**
 * A TCP proxy to the API server (TLS passes through untouched). cut() drops every connection,
 * and while refusing, new connections are closed at once: the operator sees ECONNRESET, as when
 * a load balancer or the API server goes away. `connections` counts connection attempts.
 */
export class ApiServerProxy {
  connections = 0;
  refusing = false;
  /** While frozen, bytes stop flowing both ways and nothing is closed: a silent stall. */
  private frozen = false;
  private readonly pairs = new Set<[Socket, Socket]>();
  url = '';
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;

  private constructor(
    private readonly host: string,
    private readonly port: number,
  ) {
    this.server = createServer((client) => this.accept(client));
  }

  static async start(target: string): Promise<ApiServerProxy> {
    const { hostname, port } = new URL(target);
    const proxy = new ApiServerProxy(hostname, Number(port));
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    proxy.url = `https://127.0.0.1:${(proxy.server.address() as { port: number }).port}`;
    return proxy;
  }

  /** Drops every open connection. */
  cut(): void {
    for (const s of this.sockets) s.destroy();
  }

  /**
   * A silent stall, as when a NAT or load balancer drops a connection's state: connections stay
   * open but carry nothing, new ones are accepted and hang. No RST, no FIN, no error.
   */
  freeze(): void {
    this.frozen = true;
    for (const [client, upstream] of this.pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    }
  }

  /** New connections work again; the stalled ones stay stalled until the operator gives up on them. */
  thaw(): void {
    this.frozen = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    this.connections++;
    if (this.refusing) {
      client.destroy();
      return;
    }
    if (this.frozen) {
      // Accepted, never answered.
      this.sockets.add(client);
      client.on('close', () => this.sockets.delete(client));
      client.on('error', () => client.destroy());
      client.pause();
      return;
    }
    const upstream = tcpConnect(this.port, this.host);
    const pair: [Socket, Socket] = [client, upstream];
    this.pairs.add(pair);
    upstream.on('close', () => this.pairs.delete(pair));
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  }
}
