/**
 * The namespaced install mode on kube-apiserver: the operator gets exactly what it needs in the
 * namespaces it watches and nothing anywhere else, and nothing cluster-wide.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { App, Chart } from 'cdk8s';
import { InstallMode, KafkaBackupOperator } from '../../../lib/index.ts';
import { KubeClient } from '../../env/kube-client.ts';

test('namespaced install: permissions only in the watched namespaces', async (t) => {
  const kube = KubeClient.admin();
  const [operatorNs, watched, other] = await Promise.all(
    ['kb-op', 'kb-watched', 'kb-other'].map((prefix) => kube.createNamespace(prefix, t)),
  );
  const app = new App();
  const operator = new KafkaBackupOperator(new Chart(app, 'operator'), 'Operator', {
    namespace: operatorNs as string,
    createNamespace: false,
    installMode: InstallMode.namespaced(watched as string),
    secretNames: ['s3-credentials'],
  });
  assert.ok(operator.installMode.namespaces);
  const manifests = app.charts.flatMap((c) => c.toJson()) as Array<{ kind: string }>;
  assert.ok(!manifests.some((m) => m.kind.startsWith('Cluster')), 'nothing cluster-wide');
  await kube.apply(manifests);

  const sa = `system:serviceaccount:${operatorNs}:kafka-backup-operator`;
  const can = async (verb: string, resource: string, ns: string) =>
    (await kube.tryKubectl(['auth', 'can-i', verb, resource, '-n', ns, '--as', sa])).stdout.trim() === 'yes';
  assert.equal(await can('watch', 'kafkabackups.kafka.oso.sh', watched as string), true);
  assert.equal(await can('patch', 'kafkarestores.kafka.oso.sh/status', watched as string), true);
  assert.equal(await can('create', 'jobs.batch', watched as string), true);
  assert.equal(await can('get', 'secret/s3-credentials', watched as string), true);
  assert.equal(await can('get', 'secret/other', watched as string), false);
  assert.equal(await can('watch', 'kafkabackups.kafka.oso.sh', other as string), false);
  assert.equal(await can('get', 'secret/s3-credentials', other as string), false);
  assert.equal(await can('create', 'jobs.batch', other as string), false);
  assert.equal(
    await can('update', 'leases.coordination.k8s.io/kafka-backup-operator-leader', operatorNs as string),
    true,
  );
  assert.equal(
    await can('list', 'kafkabackups.kafka.oso.sh', operatorNs as string),
    false,
    'the own namespace is not watched',
  );
});
