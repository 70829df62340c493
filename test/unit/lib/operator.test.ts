import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Testing } from 'cdk8s';
import { InstallMode, KafkaBackupOperator, OperatorRunner } from '../../../lib/index.ts';
import { parseOperatorFlags } from '../../../runtime/operator/flags.ts';

type Obj = {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: synthesized manifests are free-form JSON
  [k: string]: any;
};

function synth(
  props: ConstructorParameters<typeof KafkaBackupOperator>[2] = {},
  after?: (op: KafkaBackupOperator) => void,
) {
  const chart = Testing.chart();
  const op = new KafkaBackupOperator(chart, 'Operator', props);
  after?.(op);
  return Testing.synth(chart) as Obj[];
}
const find = (objs: Obj[], kind: string, name?: string) =>
  objs.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
const one = (objs: Obj[], kind: string, name?: string): Obj => {
  const found = find(objs, kind, name);
  assert.equal(found.length, 1, `one ${kind} ${name ?? ''}`);
  return found[0] as Obj;
};
type Rule = { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] };
const verbsFor = (rules: Rule[], resource: string) =>
  rules
    .filter((r) => r.resources.includes(resource))
    .flatMap((r) => r.verbs)
    .sort();

describe('KafkaBackupOperator', () => {
  test('the Deployment meets Pod Security restricted and runs with probes, resources and leader election', () => {
    const objs = synth();
    const deployment = one(objs, 'Deployment', 'kafka-backup-operator');
    assert.equal(deployment.metadata.namespace, 'kafka-backup-system');
    assert.equal(deployment.spec.replicas, 2);
    const pod = deployment.spec.template.spec;
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.equal(pod.serviceAccountName, 'kafka-backup-operator');
    const [container] = pod.containers;
    assert.equal(container.image, 'ghcr.io/oso/kafka-backup-k8s:0.1.0');
    const sc = container.securityContext;
    assert.equal(sc.runAsNonRoot, true);
    assert.equal(sc.allowPrivilegeEscalation, false);
    assert.equal(sc.readOnlyRootFilesystem, true);
    assert.equal(sc.privileged, false);
    assert.deepEqual(sc.capabilities.drop, ['ALL']);
    assert.equal(sc.capabilities.add, undefined);
    assert.deepEqual(sc.seccompProfile, { type: 'RuntimeDefault' });
    assert.equal(container.livenessProbe.httpGet.path, '/healthz');
    assert.equal(container.readinessProbe.httpGet.path, '/readyz');
    assert.deepEqual(container.resources, {
      requests: { cpu: '100m', memory: '128Mi' },
      limits: { cpu: '1', memory: '512Mi' },
    });
    assert.ok(container.args.includes('--leader-elect=true'));
    assert.ok(container.args.includes('--leader-election-namespace=kafka-backup-system'));
    assert.ok(!container.args.some((a: string) => a.startsWith('--watch-namespaces')));
    assert.deepEqual(container.volumeMounts, [{ mountPath: '/tmp', name: 'tmp' }]);
    const pdb = one(objs, 'PodDisruptionBudget', 'kafka-backup-operator');
    assert.equal(pdb.spec.maxUnavailable, 1);
    assert.deepEqual(pdb.spec.selector.matchLabels, {
      'app.kubernetes.io/component': 'operator',
      'app.kubernetes.io/name': 'kafka-backup-operator',
    });
    assert.equal(
      find(synth({ replicas: 1 }), 'PodDisruptionBudget').length,
      0,
      'no PDB for a single replica',
    );
    const ns = one(objs, 'Namespace', 'kafka-backup-system');
    assert.equal(ns.metadata.labels?.['pod-security.kubernetes.io/enforce'], 'restricted');
  });

  test('cluster-wide RBAC covers the five kinds, status, finalizers, jobs and events, and no Secret listing', () => {
    const objs = synth({ secretNames: ['s3-credentials'] }, (op) =>
      op.allowSecrets('kafka-user', 's3-credentials'),
    );
    const rules = one(objs, 'ClusterRole', 'kafka-backup-operator').rules as Rule[];
    for (const kind of [
      'kafkabackups',
      'kafkarestores',
      'kafkaoffsetresets',
      'kafkaoffsetrollbacks',
      'kafkabackupvalidations',
    ]) {
      assert.deepEqual(verbsFor(rules, kind), ['get', 'list', 'patch', 'update', 'watch'], kind);
      assert.deepEqual(verbsFor(rules, `${kind}/status`), ['get', 'patch', 'update']);
      assert.deepEqual(verbsFor(rules, `${kind}/finalizers`), ['update']);
    }
    assert.deepEqual(verbsFor(rules, 'jobs'), ['create', 'delete', 'get', 'list', 'watch']);
    assert.deepEqual(verbsFor(rules, 'events'), ['create', 'create', 'patch', 'patch']);
    assert.equal(verbsFor(rules, 'secrets').length, 0, 'no Secret access in the main role');
    assert.ok(!rules.some((r) => r.verbs.includes('*') || r.resources.includes('*')), 'no wildcards');

    const secretRules = one(objs, 'ClusterRole', 'kafka-backup-operator-secrets').rules as Rule[];
    assert.deepEqual(secretRules, [
      {
        apiGroups: [''],
        resources: ['secrets'],
        verbs: ['get'],
        resourceNames: ['kafka-user', 's3-credentials'],
      },
    ]);
    const binding = one(objs, 'ClusterRoleBinding', 'kafka-backup-operator');
    assert.equal(binding.roleRef.name, 'kafka-backup-operator');
    assert.deepEqual(
      binding.subjects.map((s: Obj) => [s.kind, s.name, s.namespace]),
      [['ServiceAccount', 'kafka-backup-operator', 'kafka-backup-system']],
    );
    const leases = one(objs, 'Role', 'kafka-backup-operator-leader-election').rules as Rule[];
    assert.deepEqual(
      leases.filter((r) => r.resources.includes('leases')).map((r) => [r.verbs, r.resourceNames]),
      [
        [['create'], undefined],
        [['get', 'update', 'patch'], ['kafka-backup-operator-leader']],
      ],
    );
  });

  test('namespaced mode grants Roles in each watched namespace and nothing cluster-wide', () => {
    const objs = synth({
      installMode: InstallMode.namespaced('team-b', 'team-a'),
      namespace: 'ops',
      createNamespace: false,
    });
    assert.equal(find(objs, 'ClusterRole').length, 0);
    assert.equal(find(objs, 'ClusterRoleBinding').length, 0);
    assert.equal(find(objs, 'Namespace').length, 0);
    const roles = find(objs, 'Role', 'kafka-backup-operator').map((r) => r.metadata.namespace);
    assert.deepEqual(roles.sort(), ['team-a', 'team-b']);
    const secretRoles = find(objs, 'Role', 'kafka-backup-operator-secrets').map((r) => r.metadata.namespace);
    assert.deepEqual(secretRoles.sort(), ['team-a', 'team-b']);
    const [secretRole] = find(objs, 'Role', 'kafka-backup-operator-secrets');
    const secretRule = (secretRole?.rules as Rule[] | undefined)?.[0];
    assert.deepEqual(secretRule, { apiGroups: [''], resources: ['secrets'], verbs: ['get'] });
    for (const b of find(objs, 'RoleBinding', 'kafka-backup-operator')) {
      assert.deepEqual(b.subjects[0].namespace, 'ops');
    }
    const args = one(objs, 'Deployment').spec.template.spec.containers[0].args as string[];
    assert.ok(args.includes('--watch-namespaces=team-a,team-b'));
  });

  test('metrics Service always; ServiceMonitor only when asked; NetworkPolicy admits only the metrics port', () => {
    const plain = synth();
    assert.equal(one(plain, 'Service').spec.ports[0].port, 8080);
    assert.equal(find(plain, 'ServiceMonitor').length, 0);
    const np = one(plain, 'NetworkPolicy');
    assert.deepEqual(np.spec.policyTypes, ['Ingress']);
    assert.deepEqual(np.spec.ingress, [{ ports: [{ port: 8080, protocol: 'TCP' }] }]);

    const monitored = synth({ serviceMonitor: true, networkPolicy: false });
    const sm = one(monitored, 'ServiceMonitor');
    assert.equal(sm.apiVersion, 'monitoring.coreos.com/v1');
    assert.deepEqual(sm.spec.endpoints, [{ port: 'metrics', path: '/metrics', interval: '30s' }]);
    assert.equal(find(monitored, 'NetworkPolicy').length, 0);
  });

  test('refuses invalid props', () => {
    assert.throws(() => synth({ replicas: 0 }), /replicas must be a whole number of at least 1, got 0/);
    assert.throws(() => InstallMode.namespaced(), /name at least one namespace/);
    assert.throws(() => InstallMode.namespaced('a', 'a'), /namespace "a" is listed twice/);
  });

  test('image and resources are configurable', () => {
    const objs = synth({ image: 'registry.local/kb:dev', logLevel: 'debug' });
    const [c] = one(objs, 'Deployment').spec.template.spec.containers;
    assert.equal(c.image, 'registry.local/kb:dev');
    assert.ok(c.args.includes('--log-level=debug'));
  });

  test('OperatorRunner.jobs(): Job runner flags the operator parses, the template in a mounted ConfigMap', () => {
    const podTemplate = {
      spec: {
        nodeSelector: { pool: 'batch' },
        containers: [{ name: 'run', resources: { limits: { memory: '1Gi' } } }],
      },
    };
    const objs = synth({
      image: 'registry.local/kb:dev',
      runner: OperatorRunner.jobs({ serviceAccountName: 'backup-runs', podTemplate }),
    });
    const pod = one(objs, 'Deployment').spec.template.spec;
    const [command, ...args] = pod.containers[0].args as string[];
    assert.equal(command, 'operator');
    assert.ok(args.includes('--job-template=/etc/kafka-backup/job-template.yaml'));
    // The ConfigMap's file where the Pod would see it, read by the operator's own flag parser.
    const dir = mkdtempSync(join(tmpdir(), 'job-template-'));
    const file = join(dir, 'job-template.yaml');
    writeFileSync(
      file,
      one(objs, 'ConfigMap', 'kafka-backup-operator-job-template').data['job-template.yaml'],
    );
    const flags = parseOperatorFlags(
      args.map((a) => (a.startsWith('--job-template=') ? `--job-template=${file}` : a)),
      { POD_NAMESPACE: 'kafka-backup-system' },
    );
    rmSync(dir, { recursive: true });
    assert.equal(flags.runner.mode, 'job');
    if (flags.runner.mode === 'job') {
      assert.equal(flags.runner.job.image, 'registry.local/kb:dev', "the operator's own image by default");
      assert.equal(flags.runner.job.serviceAccountName, 'backup-runs');
      assert.deepEqual(flags.runner.job.template?.spec, { nodeSelector: { pool: 'batch' } });
      assert.deepEqual(flags.runner.job.template?.container, { resources: { limits: { memory: '1Gi' } } });
    }
    const mount = pod.containers[0].volumeMounts.find(
      (m: { mountPath: string }) => m.mountPath === '/etc/kafka-backup',
    );
    assert.ok(mount?.readOnly);
    const volume = pod.volumes.find((v: { name: string }) => v.name === mount.name);
    assert.equal(volume.configMap.name, 'kafka-backup-operator-job-template');

    const inProcess = synth();
    assert.equal(find(inProcess, 'ConfigMap').length, 0);
    const plain = one(inProcess, 'Deployment').spec.template.spec.containers[0].args as string[];
    assert.ok(!plain.some((a) => a.startsWith('--runner') || a.startsWith('--job-')));
  });
});
