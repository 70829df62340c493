/**
 * etcd + kube-apiserver on loopback: a control plane without controllers or nodes, enough to
 * test CRDs, RBAC and ServiceAccount tokens against the real API server. The `node` component
 * (components/node.ts) adds the controllers, the scheduler and a kubelet to it on demand.
 *
 * All default admission plugins stay on (PodSecurity, ServiceAccount, ...) so objects are judged
 * as in a real cluster. Without kube-controller-manager no namespace gets a `default`
 * ServiceAccount (Pods are then rejected; KubeClient.createNamespace creates it) and a deleted
 * namespace never leaves `Terminating`.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { goTool } from '../go-tools.ts';
import { freePorts } from '../ports.ts';
import {
  ComponentStartError,
  type ManagedProcess,
  managed,
  run,
  startProcess,
  stopProcess,
  waitFor,
} from '../process.ts';
import type { ComponentContext, KubeInfo, Started } from '../state.ts';

/** Issuer and audience of ServiceAccount tokens, as in a kubeadm cluster. */
export const SERVICE_ACCOUNT_ISSUER = 'https://kubernetes.default.svc.cluster.local';
const SERVICE_CLUSTER_IP_RANGE = '10.96.0.0/16';

interface Pki {
  readonly dir: string;
  readonly caFile: string;
  readonly caKey: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly adminCert: string;
  readonly adminKey: string;
  readonly saKey: string;
  readonly saPub: string;
  /** The API server's client certificate towards kubelets (logs, exec, port-forward). */
  readonly kubeletClientCert: string;
  readonly kubeletClientKey: string;
}

export async function startKube(ctx: ComponentContext): Promise<Started<KubeInfo>> {
  const [apiserver, kubectl, etcdBin] = await Promise.all([
    goTool('kube', 'kube-apiserver'),
    goTool('kube', 'kubectl'),
    goTool('etcd', 'etcd'),
  ]);
  const pki = await generatePki(join(ctx.dataDir, 'pki'));
  const [clientPort, peerPort, securePort] = (await freePorts(3)) as [number, number, number];

  const processes: ManagedProcess[] = [];
  try {
    const etcd = managed(startEtcd(etcdBin, ctx, clientPort, peerPort));
    processes.push(etcd);
    await waitFor(etcd, 'etcd /health', () => etcdHealthy(clientPort), 60_000);

    const kube = managed(startApiserver(apiserver, ctx, pki, `http://127.0.0.1:${clientPort}`, securePort));
    processes.push(kube);
    const server = `https://127.0.0.1:${securePort}`;
    const tls = {
      ca: readFileSync(pki.caFile),
      cert: readFileSync(pki.adminCert),
      key: readFileSync(pki.adminKey),
    };
    // /readyz covers the post-start hooks (RBAC bootstrap among them); the explicit reads make sure
    // what tests rely on is really there.
    await waitFor(
      kube,
      'kube-apiserver /readyz',
      async () => (await get(server, '/readyz', tls)).status === 200,
      120_000,
    );
    for (const path of [
      '/apis/rbac.authorization.k8s.io/v1/clusterroles/cluster-admin',
      '/apis/rbac.authorization.k8s.io/v1/clusterroles/admin',
      '/api/v1/namespaces/default',
    ]) {
      await waitFor(kube, `GET ${path}`, async () => (await get(server, path, tls)).status === 200, 60_000);
    }

    const kubeconfig = join(ctx.dataDir, 'admin.kubeconfig');
    writeFileSync(kubeconfig, adminKubeconfig(server, pki), { mode: 0o600 });
    // Proves the kubeconfig itself works with the kubectl tests will use.
    await run(kubectl, ['--kubeconfig', kubeconfig, 'get', '--raw', '/version']).catch((error: Error) => {
      throw new ComponentStartError(
        'kube-apiserver',
        `kubectl cannot use the admin kubeconfig: ${error.message}`,
      );
    });
    return { info: { server, kubeconfig, caFile: pki.caFile, pkiDir: pki.dir, kubectl }, processes };
  } catch (error) {
    await Promise.all(processes.map((p) => stopProcess(p.pid)));
    throw error;
  }
}

function startEtcd(binary: string, ctx: ComponentContext, clientPort: number, peerPort: number) {
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  return startProcess({
    name: 'etcd',
    command: binary,
    logFile: join(ctx.logDir, 'etcd.log'),
    args: [
      '--name=kube-test',
      `--data-dir=${join(ctx.dataDir, 'etcd')}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=kube-test=${peer}`,
      '--initial-cluster-state=new',
      // Test data is thrown away: skipping fsync keeps etcd fast on a shared disk.
      '--unsafe-no-fsync',
      '--quota-backend-bytes=1073741824',
      '--log-level=warn',
    ],
    // etcd keeps its heap small by itself; the soft limit protects the shared test machine.
    env: { GOMEMLIMIT: '256MiB' },
  });
}

function startApiserver(binary: string, ctx: ComponentContext, pki: Pki, etcdUrl: string, port: number) {
  return startProcess({
    name: 'kube-apiserver',
    command: binary,
    logFile: join(ctx.logDir, 'kube-apiserver.log'),
    args: [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${port}`,
      `--cert-dir=${join(ctx.dataDir, 'pki')}`,
      `--tls-cert-file=${pki.serverCert}`,
      `--tls-private-key-file=${pki.serverKey}`,
      `--client-ca-file=${pki.caFile}`,
      // Node: kubelets (components/node.ts) act as system:node:<name>, as in a kubeadm cluster.
      '--authorization-mode=Node,RBAC',
      '--enable-admission-plugins=NodeRestriction',
      `--kubelet-client-certificate=${pki.kubeletClientCert}`,
      `--kubelet-client-key=${pki.kubeletClientKey}`,
      `--kubelet-certificate-authority=${pki.caFile}`,
      // The test node's address is on an interface the environment creates, never a hostname.
      '--kubelet-preferred-address-types=InternalIP',
      `--service-account-issuer=${SERVICE_ACCOUNT_ISSUER}`,
      `--service-account-key-file=${pki.saPub}`,
      `--service-account-signing-key-file=${pki.saKey}`,
      `--api-audiences=${SERVICE_ACCOUNT_ISSUER}`,
      `--service-cluster-ip-range=${SERVICE_CLUSTER_IP_RANGE}`,
      // No node will ever reach 127.0.0.1 as the `kubernetes` Service endpoint; don't maintain one.
      '--endpoint-reconciler-type=none',
      // Fewer goroutines and bootstrap objects; nothing under test depends on API priority and fairness.
      '--enable-priority-and-fairness=false',
      '--profiling=false',
      '--allow-privileged=true',
    ],
    env: { GOMEMLIMIT: '768MiB' },
  });
}

async function etcdHealthy(port: number): Promise<boolean> {
  const response = await fetch(`http://127.0.0.1:${port}/health`);
  return response.ok && ((await response.json()) as { health?: string }).health === 'true';
}

interface Tls {
  readonly ca: Buffer;
  readonly cert: Buffer;
  readonly key: Buffer;
}

function get(server: string, path: string, tls: Tls): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, server), { ...tls, timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

function adminKubeconfig(server: string, pki: Pki): string {
  return certificateKubeconfig(server, pki.caFile, { name: 'admin', cert: pki.adminCert, key: pki.adminKey });
}

/**
 * A throwaway CA, the API server's serving certificate, an admin client certificate in
 * system:masters, and the RSA key pair that signs ServiceAccount tokens.
 */
async function generatePki(dir: string): Promise<Pki> {
  mkdirSync(dir, { recursive: true });
  const f = (name: string) => join(dir, name);
  const pki: Pki = {
    dir,
    caFile: f('ca.crt'),
    caKey: f('ca.key'),
    serverCert: f('apiserver.crt'),
    serverKey: f('apiserver.key'),
    adminCert: f('admin.crt'),
    adminKey: f('admin.key'),
    saKey: f('sa.key'),
    saPub: f('sa.pub'),
    kubeletClientCert: f('apiserver-kubelet-client.crt'),
    kubeletClientKey: f('apiserver-kubelet-client.key'),
  };
  await openssl('kube-apiserver', [
    'req',
    '-x509',
    ...EC_KEY,
    '-days',
    '3650',
    '-subj',
    '/CN=kafka-backup-test-kube-ca',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-keyout',
    pki.caKey,
    '-out',
    pki.caFile,
  ]);
  const issue = (subject: string, cert: string, key: string, extensions: readonly string[]) =>
    issueCertificate(pki, 'kube-apiserver', { subject, cert, key, extensions });
  await Promise.all([
    issue('/CN=kube-apiserver', pki.serverCert, pki.serverKey, [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=serverAuth',
      'subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local',
    ]),
    issue('/O=system:masters/CN=kube-test-admin', pki.adminCert, pki.adminKey, CLIENT_AUTH),
    issue(
      '/O=system:masters/CN=kube-apiserver-kubelet-client',
      pki.kubeletClientCert,
      pki.kubeletClientKey,
      CLIENT_AUTH,
    ),
    openssl('kube-apiserver', [
      'genpkey',
      '-algorithm',
      'RSA',
      '-pkeyopt',
      'rsa_keygen_bits:2048',
      '-out',
      pki.saKey,
    ]).then(() => openssl('kube-apiserver', ['pkey', '-in', pki.saKey, '-pubout', '-out', pki.saPub])),
  ]);
  return pki;
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** Extensions of a client certificate. */
export const CLIENT_AUTH = [
  'basicConstraints=critical,CA:FALSE',
  'keyUsage=critical,digitalSignature',
  'extendedKeyUsage=clientAuth',
];

function openssl(component: string, args: readonly string[]): Promise<string> {
  return run('openssl', args).catch((error: Error) => {
    throw new ComponentStartError(
      component,
      `could not generate certificates with openssl: ${error.message}`,
    );
  });
}

/** Issues a certificate signed by the environment's cluster CA. */
export function issueCertificate(
  ca: { readonly caFile: string; readonly caKey: string },
  component: string,
  c: { subject: string; cert: string; key: string; extensions: readonly string[] },
): Promise<string> {
  return openssl(component, [
    'req',
    '-x509',
    ...EC_KEY,
    '-days',
    '3650',
    '-subj',
    c.subject,
    '-CA',
    ca.caFile,
    '-CAkey',
    ca.caKey,
    ...c.extensions.flatMap((e) => ['-addext', e]),
    '-keyout',
    c.key,
    '-out',
    c.cert,
  ]);
}

/** A kubeconfig for the environment's API server that authenticates with a client certificate. */
export function certificateKubeconfig(
  server: string,
  caFile: string,
  user: { readonly name: string; readonly cert: string; readonly key: string },
): string {
  const b64 = (file: string) => readFileSync(file).toString('base64');
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'test', cluster: { server, 'certificate-authority-data': b64(caFile) } }],
    users: [
      {
        name: user.name,
        user: { 'client-certificate-data': b64(user.cert), 'client-key-data': b64(user.key) },
      },
    ],
    contexts: [{ name: user.name, context: { cluster: 'test', user: user.name, namespace: 'default' } }],
    'current-context': user.name,
  });
}
