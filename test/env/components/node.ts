/**
 * One real Kubernetes node joined to the environment's API server: containerd and runc (Debian's
 * packages), a kubelet, and kube-controller-manager and kube-scheduler (built from the same
 * Kubernetes release as the API server), so Deployments, Jobs and `helm install --wait` run real
 * Pods on this machine. Images are imported into containerd, never pulled.
 *
 * Networking stays inside what the environment creates: the node's InternalIP sits on a veth pair
 * whose other end lives in a network namespace of the environment's own, and Pods without
 * `hostNetwork` get addresses on a CNI bridge the environment removes again. Test workloads use
 * `hostNetwork: true` to reach Kafka, MinIO and the API server on loopback (there is no kube-proxy
 * and no cluster DNS).
 *
 * What this machine needs from the kubelet (see docs/testing.md): cgroup v1 with the cgroupfs driver,
 * no swap check, no node-allocatable enforcement and no eviction, and containerd's
 * `restrict_oom_score_adj` (CAP_SYS_RESOURCE is withheld, so runc cannot lower OOM scores).
 */
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { goToolDir } from '../go-tools.ts';
import { type OciImage, pauseImage } from '../images.ts';
import { freePorts } from '../ports.ts';
import {
  ComponentStartError,
  isAlive,
  type ManagedProcess,
  managed,
  run,
  startProcess,
  stopProcess,
  waitFor,
} from '../process.ts';
import type { ComponentContext, KubeInfo, NodeInfo, Started } from '../state.ts';
import { CLIENT_AUTH, certificateKubeconfig, issueCertificate } from './kube.ts';

export const NODE_NAME = 'kafka-backup-test-node';
/**
 * The node's taint: only workloads that tolerate it run there. Tests that never meant to run Pods
 * (the dist/ Deployment applied to judge its manifests, say) keep their Pods Pending, as before
 * there was a node, instead of pulling images or acting on the cluster.
 */
export const NODE_TAINT = {
  key: 'kafka-backup.test/node',
  value: 'workloads',
  effect: 'NoSchedule',
} as const;
export const NODE_TOLERATION = {
  key: NODE_TAINT.key,
  operator: 'Equal',
  value: NODE_TAINT.value,
  effect: NODE_TAINT.effect,
} as const;
/** The containerd namespace the CRI plugin (and so the kubelet) uses. */
export const CRI_NAMESPACE = 'k8s.io';
const CNI_BIN_DIR = '/usr/lib/cni';

const INSTALL_PACKAGES = fileURLToPath(new URL('../install-packages.sh', import.meta.url));

/** containerd, runc, the CNI plugins and buildah come from Debian: installed on first use (as root). */
async function installPackages(): Promise<void> {
  await run('bash', [INSTALL_PACKAGES], { timeoutMs: 15 * 60_000 }).catch((error: Error) => {
    throw new ComponentStartError('node', `the node's Debian packages are missing: ${error.message}`);
  });
  for (const binary of [
    '/usr/bin/containerd',
    '/usr/sbin/runc',
    '/usr/bin/ctr',
    join(CNI_BIN_DIR, 'bridge'),
  ]) {
    if (!existsSync(binary)) {
      throw new ComponentStartError(
        'node',
        `${binary} is missing after installing the packages: see ${INSTALL_PACKAGES}`,
      );
    }
  }
}

export async function startNode(ctx: ComponentContext, kube: KubeInfo): Promise<Started<NodeInfo>> {
  await installPackages();
  const binDir = await goToolDir('kube-node');
  const pause = await pauseImage(ctx.cacheDir);
  const id = createHash('sha256').update(ctx.dataDir).digest('hex').slice(0, 6);
  const network = await createNodeNetwork(id);
  const processes: ManagedProcess[] = [];
  try {
    const containerd = await startContainerd(ctx, pause, id);
    processes.push(managed(containerd));
    await importImage(containerd.socket, pause.archive);

    const pki = await nodePki(ctx, kube, network.nodeIp);
    const kubeconfigs = writeKubeconfigs(ctx, kube, pki);
    const [controllerManager, scheduler] = [
      startControllerManager(
        join(binDir, 'kube-controller-manager'),
        ctx,
        kube,
        kubeconfigs.controllerManager,
      ),
      startScheduler(join(binDir, 'kube-scheduler'), ctx, kubeconfigs.scheduler),
    ];
    processes.push(managed(controllerManager), managed(scheduler));
    const [kubeletPort] = (await freePorts(1)) as [number];
    const kubelet = startKubelet(join(binDir, 'kubelet'), ctx, {
      kubeconfig: kubeconfigs.kubelet,
      caFile: kube.caFile,
      pki,
      nodeIp: network.nodeIp,
      port: kubeletPort,
      socket: containerd.socket,
    });
    processes.push(managed(kubelet));

    const kubectl = (args: string[]) => run(kube.kubectl, ['--kubeconfig', kube.kubeconfig, ...args]);
    await waitFor(
      kubelet,
      `node ${NODE_NAME} Ready`,
      async () =>
        (await kubectl([
          'get',
          'node',
          NODE_NAME,
          '-o',
          'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
        ])) === 'True',
      180_000,
    );
    // The node lifecycle controller taints a new node not-ready until it has seen it Ready.
    await waitFor(
      controllerManager,
      `node ${NODE_NAME} without the not-ready taint`,
      async () => {
        const taints = JSON.parse(
          (await kubectl(['get', 'node', NODE_NAME, '-o', 'jsonpath={.spec.taints}'])) || '[]',
        ) as Array<{ key: string }>;
        return taints.every((t) => t.key === NODE_TAINT.key);
      },
      120_000,
    );
    return {
      info: {
        name: NODE_NAME,
        internalIp: network.nodeIp,
        containerdSocket: containerd.socket,
        ctr: '/usr/bin/ctr',
        criNamespace: CRI_NAMESPACE,
        dataDir: ctx.dataDir,
        netns: network.netns,
        hostInterface: network.hostInterface,
        cniBridge: cniBridgeName(id),
        toleration: NODE_TOLERATION,
      },
      processes,
    };
  } catch (error) {
    await stopNode({
      processes,
      dataDir: ctx.dataDir,
      netns: network.netns,
      hostInterface: network.hostInterface,
      cniBridge: cniBridgeName(id),
      containerdSocket: join(ctx.dataDir, 'containerd', 'containerd.sock'),
    });
    throw error;
  }
}

interface NodeNetwork {
  readonly netns: string;
  readonly hostInterface: string;
  readonly nodeIp: string;
}

/**
 * A veth pair, one end in a network namespace of our own: the host end carries the node's
 * InternalIP (the kubelet refuses loopback addresses), and nothing outside this machine is involved.
 */
async function createNodeNetwork(id: string): Promise<NodeNetwork> {
  const netns = `kbt-node-${id}`;
  const hostInterface = `kbt-${id}`;
  const peer = `kbt-${id}p`;
  // 10.213.0.0/16 is private and unused here; the id spreads concurrent environments over it.
  const octet = Number.parseInt(id.slice(0, 2), 16);
  const nodeIp = `10.213.${octet}.1`;
  const ip = (args: string[]) =>
    run('ip', args).catch((error: Error) => {
      throw new ComponentStartError(
        'node',
        `could not set up the node's network (ip ${args.join(' ')}): ${error.message}`,
      );
    });
  await deleteNodeNetwork({ netns, hostInterface });
  await ip(['netns', 'add', netns]);
  await ip(['link', 'add', hostInterface, 'type', 'veth', 'peer', 'name', peer]);
  await ip(['link', 'set', peer, 'netns', netns]);
  await ip(['addr', 'add', `${nodeIp}/30`, 'dev', hostInterface]);
  await ip(['link', 'set', hostInterface, 'up']);
  await ip(['-n', netns, 'addr', 'add', `10.213.${octet}.2/30`, 'dev', peer]);
  await ip(['-n', netns, 'link', 'set', peer, 'up']);
  return { netns, hostInterface, nodeIp };
}

async function deleteNodeNetwork(n: {
  netns: string;
  hostInterface: string;
  cniBridge?: string;
}): Promise<void> {
  // Each may already be gone; deleting the host end of the veth deletes its peer too.
  await run('ip', ['link', 'del', n.hostInterface]).catch(() => undefined);
  await run('ip', ['netns', 'del', n.netns]).catch(() => undefined);
  if (n.cniBridge) await run('ip', ['link', 'del', n.cniBridge]).catch(() => undefined);
}

function cniBridgeName(id: string): string {
  return `kbt-br-${id}`;
}

interface Containerd extends ManagedProcess {
  readonly socket: string;
}

/** `id`: the environment's node id, which names the CNI bridge and picks its subnet. */
async function startContainerd(ctx: ComponentContext, pause: OciImage, id: string): Promise<Containerd> {
  const dir = join(ctx.dataDir, 'containerd');
  const cniConfDir = join(dir, 'net.d');
  mkdirSync(cniConfDir, { recursive: true });
  const socket = join(dir, 'containerd.sock');
  const octet = Number.parseInt(id.slice(2, 4), 16);
  writeFileSync(
    join(cniConfDir, '10-bridge.conflist'),
    JSON.stringify(
      {
        cniVersion: '1.0.0',
        name: 'kafka-backup-test',
        plugins: [
          {
            type: 'bridge',
            bridge: cniBridgeName(id),
            isGateway: true,
            ipMasq: false,
            ipam: {
              type: 'host-local',
              dataDir: join(dir, 'ipam'),
              ranges: [[{ subnet: `10.214.${octet}.0/24` }]],
            },
          },
          { type: 'portmap', capabilities: { portMappings: true } },
        ],
      },
      null,
      2,
    ),
  );
  const config = join(dir, 'config.toml');
  writeFileSync(
    config,
    `version = 2
root = "${join(dir, 'root')}"
state = "${join(dir, 'state')}"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]

[grpc]
  address = "${socket}"

[plugins."io.containerd.internal.v1.opt"]
  path = "${join(dir, 'opt')}"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${pause.reference}"
  # runc cannot lower OOM scores without CAP_SYS_RESOURCE, which this machine withholds.
  restrict_oom_score_adj = true
  disable_apparmor = true

  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false

  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "${CNI_BIN_DIR}"
    conf_dir = "${cniConfDir}"
`,
  );
  const proc = startProcess({
    name: 'containerd',
    command: '/usr/bin/containerd',
    args: ['--config', config, '--log-level', 'warn'],
    logFile: join(ctx.logDir, 'containerd.log'),
  });
  await waitFor(
    proc,
    'containerd socket',
    async () => {
      await run('/usr/bin/ctr', ['--address', socket, 'version'], { timeoutMs: 5_000 });
      return true;
    },
    60_000,
  );
  return { ...managed(proc), socket };
}

/** Imports an OCI archive into the CRI namespace, where the kubelet finds it without pulling. */
export async function importImage(socket: string, archive: string): Promise<void> {
  await run(
    '/usr/bin/ctr',
    ['--address', socket, '-n', CRI_NAMESPACE, 'images', 'import', '--all-platforms', archive],
    {
      timeoutMs: 10 * 60_000,
    },
  );
}

interface NodePki {
  readonly kubeletCert: string;
  readonly kubeletKey: string;
  readonly servingCert: string;
  readonly servingKey: string;
  readonly controllerManagerCert: string;
  readonly controllerManagerKey: string;
  readonly schedulerCert: string;
  readonly schedulerKey: string;
}

/** Client certificates with the identities the bootstrap RBAC rules expect, and the kubelet's serving one. */
async function nodePki(ctx: ComponentContext, kube: KubeInfo, nodeIp: string): Promise<NodePki> {
  const dir = join(ctx.dataDir, 'pki');
  mkdirSync(dir, { recursive: true });
  const f = (name: string) => join(dir, name);
  const pki: NodePki = {
    kubeletCert: f('kubelet-client.crt'),
    kubeletKey: f('kubelet-client.key'),
    servingCert: f('kubelet-serving.crt'),
    servingKey: f('kubelet-serving.key'),
    controllerManagerCert: f('controller-manager.crt'),
    controllerManagerKey: f('controller-manager.key'),
    schedulerCert: f('scheduler.crt'),
    schedulerKey: f('scheduler.key'),
  };
  const ca = { caFile: kube.caFile, caKey: join(kube.pkiDir, 'ca.key') };
  await Promise.all([
    issueCertificate(ca, 'kubelet', {
      subject: `/O=system:nodes/CN=system:node:${NODE_NAME}`,
      cert: pki.kubeletCert,
      key: pki.kubeletKey,
      extensions: CLIENT_AUTH,
    }),
    issueCertificate(ca, 'kubelet', {
      subject: `/CN=${NODE_NAME}`,
      cert: pki.servingCert,
      key: pki.servingKey,
      extensions: [
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature',
        'extendedKeyUsage=serverAuth',
        `subjectAltName=IP:${nodeIp},DNS:${NODE_NAME}`,
      ],
    }),
    issueCertificate(ca, 'kube-controller-manager', {
      subject: '/CN=system:kube-controller-manager',
      cert: pki.controllerManagerCert,
      key: pki.controllerManagerKey,
      extensions: CLIENT_AUTH,
    }),
    issueCertificate(ca, 'kube-scheduler', {
      subject: '/CN=system:kube-scheduler',
      cert: pki.schedulerCert,
      key: pki.schedulerKey,
      extensions: CLIENT_AUTH,
    }),
  ]);
  return pki;
}

function writeKubeconfigs(ctx: ComponentContext, kube: KubeInfo, pki: NodePki) {
  const write = (name: string, cert: string, key: string) => {
    const file = join(ctx.dataDir, `${name}.kubeconfig`);
    writeFileSync(file, certificateKubeconfig(kube.server, kube.caFile, { name, cert, key }), {
      mode: 0o600,
    });
    return file;
  };
  return {
    kubelet: write('kubelet', pki.kubeletCert, pki.kubeletKey),
    controllerManager: write('kube-controller-manager', pki.controllerManagerCert, pki.controllerManagerKey),
    scheduler: write('kube-scheduler', pki.schedulerCert, pki.schedulerKey),
  };
}

function startControllerManager(binary: string, ctx: ComponentContext, kube: KubeInfo, kubeconfig: string) {
  return startProcess({
    name: 'kube-controller-manager',
    command: binary,
    logFile: join(ctx.logDir, 'kube-controller-manager.log'),
    args: [
      `--kubeconfig=${kubeconfig}`,
      // Each controller acts with its own ServiceAccount's rights, as in kubeadm clusters.
      '--use-service-account-credentials=true',
      `--service-account-private-key-file=${join(kube.pkiDir, 'sa.key')}`,
      `--root-ca-file=${kube.caFile}`,
      '--leader-elect=false',
      '--secure-port=0',
      '--v=1',
    ],
    env: { GOMEMLIMIT: '256MiB' },
  });
}

function startScheduler(binary: string, ctx: ComponentContext, kubeconfig: string) {
  return startProcess({
    name: 'kube-scheduler',
    command: binary,
    logFile: join(ctx.logDir, 'kube-scheduler.log'),
    args: [`--kubeconfig=${kubeconfig}`, '--leader-elect=false', '--secure-port=0', '--v=1'],
    env: { GOMEMLIMIT: '128MiB' },
  });
}

function startKubelet(
  binary: string,
  ctx: ComponentContext,
  k: { kubeconfig: string; caFile: string; pki: NodePki; nodeIp: string; port: number; socket: string },
) {
  const root = join(ctx.dataDir, 'kubelet');
  mkdirSync(root, { recursive: true });
  const config = join(ctx.dataDir, 'kubelet-config.yaml');
  writeFileSync(
    config,
    stringify({
      apiVersion: 'kubelet.config.k8s.io/v1beta1',
      kind: 'KubeletConfiguration',
      address: k.nodeIp,
      port: k.port,
      readOnlyPort: 0,
      healthzPort: 0,
      tlsCertFile: k.pki.servingCert,
      tlsPrivateKeyFile: k.pki.servingKey,
      authentication: {
        anonymous: { enabled: false },
        webhook: { enabled: true },
        x509: { clientCAFile: k.caFile },
      },
      authorization: { mode: 'Webhook' },
      containerRuntimeEndpoint: `unix://${k.socket}`,
      podLogsDir: join(ctx.dataDir, 'pod-logs'),
      // This machine: cgroup v1, swap present, no CAP_SYS_RESOURCE, a shared disk.
      cgroupDriver: 'cgroupfs',
      failCgroupV1: false,
      failSwapOn: false,
      enforceNodeAllocatable: [],
      evictionHard: {},
      localStorageCapacityIsolation: false,
      // Images are imported, never pulled: garbage collection must not remove them.
      imageGCHighThresholdPercent: 100,
      imageGCLowThresholdPercent: 99,
      resolvConf: '/etc/resolv.conf',
      serializeImagePulls: false,
      registerWithTaints: [NODE_TAINT],
      maxPods: 50,
    }),
  );
  return startProcess({
    name: 'kubelet',
    command: binary,
    logFile: join(ctx.logDir, 'kubelet.log'),
    args: [
      `--config=${config}`,
      `--kubeconfig=${k.kubeconfig}`,
      `--root-dir=${root}`,
      `--cert-dir=${join(ctx.dataDir, 'pki')}`,
      `--node-ip=${k.nodeIp}`,
      `--hostname-override=${NODE_NAME}`,
      '--v=1',
    ],
    env: { GOMEMLIMIT: '256MiB' },
  });
}

/** What stopping a node needs; env.json's NodeInfo has it. */
export interface NodeTeardown {
  readonly processes: readonly ManagedProcess[];
  readonly dataDir: string;
  readonly netns: string;
  readonly hostInterface: string;
  readonly cniBridge: string;
  readonly containerdSocket: string;
}

/**
 * Stops the node and removes what the kubelet and containerd left outside the data directory:
 * the Pods' containers and their shims, mounts under the data directory, the `kubepods` cgroups,
 * the network. Order matters: the kubelet first (so it restarts nothing), then every container,
 * then containerd, then the rest.
 */
export async function stopNode(node: NodeTeardown): Promise<void> {
  const byName = (name: string) => node.processes.filter((p) => p.name === name);
  for (const name of ['kubelet', 'kube-scheduler', 'kube-controller-manager']) {
    await Promise.all(byName(name).map((p) => stopProcess(p.pid)));
  }
  if (byName('containerd').some((p) => isAlive(p.pid))) await removeAllContainers(node.containerdSocket);
  await Promise.all(byName('containerd').map((p) => stopProcess(p.pid)));
  await stopShims(node.containerdSocket);
  await unmountUnder(node.dataDir);
  removeKubepodsCgroups();
  await deleteNodeNetwork({
    netns: node.netns,
    hostInterface: node.hostInterface,
    cniBridge: node.cniBridge,
  });
  removeContainerLogLinks(node.dataDir);
}

async function removeAllContainers(socket: string): Promise<void> {
  const ctr = (args: string[]) =>
    run('/usr/bin/ctr', ['--address', socket, '-n', CRI_NAMESPACE, ...args], { timeoutMs: 30_000 });
  const ids = (await ctr(['containers', 'ls', '-q']).catch(() => '')).split('\n').filter(Boolean);
  for (const id of ids) {
    await ctr(['tasks', 'kill', '-s', 'SIGKILL', id]).catch(() => undefined);
  }
  for (const id of ids) {
    for (let i = 0; i < 20; i++) {
      if (
        await ctr(['tasks', 'delete', id]).then(
          () => true,
          (e: Error) => /not found/i.test(e.message),
        )
      )
        break;
      await new Promise((r) => setTimeout(r, 250));
    }
    await ctr(['containers', 'delete', id]).catch(() => undefined);
  }
  // Pod sandboxes' network namespaces are bind mounts the CRI plugin made; the Pods are gone now.
  await cleanupSandboxNetns();
}

/** containerd-shim processes our containerd started (their command line names its socket). */
async function stopShims(socket: string): Promise<void> {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (cmdline[0]?.includes('containerd-shim') && cmdline.includes(socket)) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  await Promise.all(pids.map((pid) => stopProcess(pid, 2_000)));
}

async function unmountUnder(dir: string): Promise<void> {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((point): point is string => point?.startsWith(`${dir}/`) === true)
    // Deepest first.
    .sort((a, b) => b.length - a.length);
  for (const point of mounts) await run('umount', ['-l', point]).catch(() => undefined);
}

async function cleanupSandboxNetns(): Promise<void> {
  // The CRI plugin names them cni-<uuid>; only those whose sandbox is gone are unused (no process).
  const dir = '/var/run/netns';
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    if (!name.startsWith('cni-')) continue;
    const users = await run('ip', ['netns', 'pids', name]).catch(() => 'unknown');
    if (users.trim() === '') await run('ip', ['netns', 'del', name]).catch(() => undefined);
  }
}

/** The kubelet puts every Pod's cgroups under `kubepods` in each hierarchy; empty ones can go. */
function removeKubepodsCgroups(): void {
  const root = '/sys/fs/cgroup';
  if (!existsSync(root)) return;
  const removeTree = (dir: string) => {
    let children: string[] = [];
    try {
      children = readdirSync(dir, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name);
    } catch {
      return;
    }
    for (const child of children) removeTree(join(dir, child));
    try {
      // A cgroup goes with rmdir once it has no processes (its files are not real files).
      rmdirSync(dir);
    } catch {
      // still in use, or gone
    }
  };
  for (const hierarchy of readdirSync(root)) {
    const kubepods = join(root, hierarchy, 'kubepods');
    if (existsSync(kubepods)) removeTree(kubepods);
  }
}

/** The kubelet links each container's log from /var/log/containers (a fixed path) into podLogsDir. */
function removeContainerLogLinks(dataDir: string): void {
  const dir = '/var/log/containers';
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    const link = join(dir, name);
    try {
      if (readlinkSync(link).startsWith(dataDir)) rmSync(link);
    } catch {
      // already gone
    }
  }
}
