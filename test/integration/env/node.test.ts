/**
 * Proves the test environment's node is a real one: the scheduler places Pods on it, the kubelet
 * runs them on containerd and runc from an image imported (never pulled), the controllers turn
 * Deployments and Jobs into Pods, and `kubectl logs` and `kubectl exec` reach the kubelet.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { IMAGE_CONFIG, IMAGE_VERSION } from '../../../scripts/image/config.ts';
import { cacheDir } from '../../env/cache.ts';
import { ensureNode } from '../../env/fixture.ts';
import { archiveConfig, loadIntoNode, type OciImage, operatorImage } from '../../env/images.ts';
import { KubeClient } from '../../env/kube-client.ts';
import type { NodeInfo } from '../../env/state.ts';

/** The Pod Security `restricted` settings every workload of the product meets. */
const restricted = {
  pod: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
  container: {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ['ALL'] },
  },
};

describe('the test node', () => {
  const admin = KubeClient.admin();
  let node: NodeInfo;
  let image: OciImage;

  before(async () => {
    node = await ensureNode();
    image = await operatorImage(cacheDir());
    await loadIntoNode(node, image);
  });

  test('is Ready, tainted for the workloads meant for it only, with its InternalIP on an interface of the environment', async () => {
    const n = await admin.getJson<{
      spec: { taints?: unknown[] };
      status: {
        conditions: Array<{ type: string; status: string }>;
        addresses: Array<{ type: string; address: string }>;
      };
    }>(['node', node.name]);
    assert.equal(n.status.conditions.find((c) => c.type === 'Ready')?.status, 'True');
    assert.deepEqual(
      (n.spec.taints as Array<{ key: string; value: string; effect: string }>).map(
        ({ key, value, effect }) => ({ key, value, effect }),
      ),
      [{ key: node.toleration.key, value: node.toleration.value, effect: node.toleration.effect }],
    );
    assert.deepEqual(
      n.status.addresses.find((a) => a.type === 'InternalIP'),
      { type: 'InternalIP', address: node.internalIp },
    );
    assert.doesNotMatch(node.internalIp, /^127\./);
  });

  test('the daemonless build has the configuration the Dockerfile declares (scripts/image/config.ts)', async () => {
    const config = await archiveConfig(image.archive);
    assert.equal(config.User, IMAGE_CONFIG.user);
    assert.equal(config.WorkingDir, IMAGE_CONFIG.workingDir);
    assert.deepEqual(config.Entrypoint, IMAGE_CONFIG.entrypoint);
    assert.deepEqual(config.Cmd, IMAGE_CONFIG.cmd);
    for (const [k, v] of Object.entries(IMAGE_CONFIG.env))
      assert.ok(config.Env?.includes(`${k}=${v}`), `${k}=${v}`);
    assert.deepEqual(config.Labels, IMAGE_CONFIG.labels);
  });

  test('leaves Pods that do not tolerate its taint Pending, as before there was a node', async (t) => {
    const namespace = await admin.createNamespace('node-taint', t);
    await admin.apply(
      [
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'not-meant-for-it' },
          spec: { containers: [{ name: 'c', image: image.reference, imagePullPolicy: 'Never' }] },
        },
      ],
      namespace,
    );
    let reason = '';
    for (let i = 0; i < 50 && reason === ''; i++) {
      const pod = await admin.getJson<{ status: { conditions?: Array<{ type: string; reason?: string }> } }>([
        'pod',
        '-n',
        namespace,
        'not-meant-for-it',
      ]);
      reason = pod.status.conditions?.find((c) => c.type === 'PodScheduled')?.reason ?? '';
      if (reason === '') await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(reason, 'Unschedulable');
  });

  test('runs a Job of the operator image to completion under Pod Security restricted', async (t) => {
    const namespace = await admin.createNamespace('node-job', t);
    await admin.kubectl(['label', 'namespace', namespace, 'pod-security.kubernetes.io/enforce=restricted']);
    await admin.apply(
      [
        {
          apiVersion: 'batch/v1',
          kind: 'Job',
          metadata: { name: 'version' },
          spec: {
            backoffLimit: 0,
            template: {
              spec: {
                tolerations: [node.toleration],
                restartPolicy: 'Never',
                securityContext: restricted.pod,
                containers: [
                  {
                    name: 'cli',
                    image: image.reference,
                    imagePullPolicy: 'Never',
                    args: ['--version'],
                    securityContext: restricted.container,
                  },
                ],
              },
            },
          },
        },
      ],
      namespace,
    );
    await admin.kubectl([
      'wait',
      '-n',
      namespace,
      '--for=condition=Complete',
      'job/version',
      '--timeout=120s',
    ]);
    // The bundled CLI in the image finds its package.json (/app) for the version.
    const logs = await admin.kubectl(['logs', '-n', namespace, 'job/version']);
    assert.equal(logs.trim(), `kafka-backup ${IMAGE_VERSION}`);
  });

  test('rolls out a Deployment; logs and exec reach the container, which runs as the image user', async (t) => {
    const namespace = await admin.createNamespace('node-deploy', t);
    const labels = { app: 'sleeper' };
    await admin.apply(
      [
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: 'sleeper' },
          spec: {
            replicas: 1,
            selector: { matchLabels: labels },
            template: {
              metadata: { labels },
              spec: {
                tolerations: [node.toleration],
                securityContext: restricted.pod,
                containers: [
                  {
                    name: 'node',
                    image: image.reference,
                    imagePullPolicy: 'Never',
                    command: [
                      '/usr/local/bin/node',
                      '-e',
                      'console.log("started"); setInterval(() => {}, 1000)',
                    ],
                    securityContext: restricted.container,
                  },
                ],
              },
            },
          },
        },
      ],
      namespace,
    );
    await admin.kubectl(['rollout', 'status', '-n', namespace, 'deployment/sleeper', '--timeout=120s']);
    assert.match(await admin.kubectl(['logs', '-n', namespace, 'deployment/sleeper']), /started/);
    const id = await admin.kubectl([
      'exec',
      '-n',
      namespace,
      'deployment/sleeper',
      '--',
      '/usr/local/bin/node',
      '-e',
      'console.log([process.getuid(), process.getgid()].join(":"))',
    ]);
    assert.equal(id.trim(), '65532:65532');
  });
});
