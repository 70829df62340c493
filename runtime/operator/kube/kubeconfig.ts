import { KubeConfig } from '@kubernetes/client-node';

/**
 * Where the operator finds the API server, in controller-runtime's order: the --kubeconfig flag,
 * then $KUBECONFIG, then the in-cluster ServiceAccount (when running in a Pod), then ~/.kube/config.
 */
export function loadKubeConfig(file?: string, env: NodeJS.ProcessEnv = process.env): KubeConfig {
  const config = new KubeConfig();
  if (file) config.loadFromFile(file);
  else if (env.KUBECONFIG) config.loadFromDefault();
  else if (env.KUBERNETES_SERVICE_HOST) config.loadFromCluster();
  else config.loadFromDefault();
  if (!config.getCurrentCluster()) {
    throw new Error(
      'no Kubernetes cluster configured: pass --kubeconfig, set KUBECONFIG, or run in a Pod with a ServiceAccount',
    );
  }
  return config;
}
