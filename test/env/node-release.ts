/**
 * Values for installing the operator's Helm chart on the test node (test/env/components/node.ts),
 * shared by the demo and the end-to-end tests. The node has no kube-proxy and no cluster DNS, so the
 * release runs with host networking (Kafka and MinIO listen on loopback) on free node ports, points
 * the in-cluster client at the API server's loopback address, tolerates the node's taint, and runs
 * the image imported into the node (never pulled).
 */
import type { OciImage } from './images.ts';
import { freePort } from './ports.ts';
import type { KubeInfo, NodeInfo } from './state.ts';

export interface NodeReleaseOptions {
  /** The namespaces the operator watches (namespaced RBAC only, so other tests' resources stay out). */
  readonly watchNamespaces: readonly string[];
  readonly secretNames: readonly string[];
}

export async function nodeReleaseValues(
  kube: KubeInfo,
  node: NodeInfo,
  image: OciImage,
  options: NodeReleaseOptions,
): Promise<Record<string, unknown>> {
  const at = image.reference.lastIndexOf(':');
  return {
    replicaCount: 1,
    image: {
      repository: image.reference.slice(0, at),
      tag: image.reference.slice(at + 1),
      pullPolicy: 'Never',
    },
    watchNamespaces: [...options.watchNamespaces],
    rbac: { secretNames: [...options.secretNames] },
    hostNetwork: true,
    tolerations: [node.toleration],
    // The node's own ports, then: free ones, so releases of concurrent tests never collide.
    ports: { metrics: await freePort(), health: await freePort() },
    extraEnv: [
      { name: 'KUBERNETES_SERVICE_HOST', value: '127.0.0.1' },
      { name: 'KUBERNETES_SERVICE_PORT', value: new URL(kube.server).port },
    ],
  };
}

/** The run Pods' template for `runner.mode=job` on the test node: what the operator Pod needs too. */
export function nodeJobTemplate(node: NodeInfo): Record<string, unknown> {
  return {
    spec: {
      hostNetwork: true,
      tolerations: [node.toleration],
      containers: [{ name: 'run', imagePullPolicy: 'Never' }],
    },
  };
}

/** The release's /metrics, through its metrics Service (the API server proxies to a ready Pod). */
export function metricsPath(namespace: string, release: string): string {
  return `/api/v1/namespaces/${namespace}/services/${release}-metrics:metrics/proxy/metrics`;
}
