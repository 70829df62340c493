import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import {
  CONTAINER_NAME,
  DEADLINE_GRACE_SECONDS,
  FAIL_JOB_EXIT_CODES,
  jobManifest,
  jobNameOf,
  REQUEST_ANNOTATION,
  RETRIED_EXIT_CODES,
  SECRETS_DIR,
  selectorOf,
} from '../../../../runtime/operator/runs/job-manifest.ts';
import { JobTemplateError, parseJobTemplate } from '../../../../runtime/operator/runs/job-template.ts';
import { type RunRequest, secretNamesIn, secretsOf } from '../../../../runtime/operator/runs/run-request.ts';

const owner = {
  apiVersion: 'kafka.oso.sh/v1alpha1',
  kind: 'KafkaBackup',
  namespace: 'team-a',
  name: 'orders',
  uid: '0b6c3f8e-1111-2222-3333-444455556666',
};
const spec = {
  kafkaCluster: { bootstrapServers: ['k:9092'], saslSecret: { name: 'kafka-sasl' } },
  storage: { storageType: 's3', s3: { bucket: 'b', credentialsSecret: { name: 'minio-creds' } } },
};
const request: RunRequest = {
  kind: 'backup',
  owner,
  runId: '2026-12-03T18:00:00.000Z',
  spec,
  secrets: secretsOf(spec, 'team-a'),
};

// biome-ignore lint/suspicious/noExplicitAny: the assertions read the manifest as loose JSON
type Json = Record<string, any>;
const podOf = (job: Json) => job.spec.template.spec as Json;
const containerOf = (job: Json) => podOf(job).containers[0] as Json;

describe('job manifest', () => {
  test('the name is deterministic, a valid label value, and differs per run and per resource', () => {
    assert.equal(jobNameOf(request), jobNameOf({ ...request }));
    assert.match(jobNameOf(request), /^kb-orders-[0-9a-f]{10}$/);
    assert.notEqual(jobNameOf(request), jobNameOf({ ...request, runId: 'other' }));
    assert.notEqual(jobNameOf(request), jobNameOf({ ...request, owner: { ...owner, uid: 'new-object' } }));
    const long = jobNameOf({
      ...request,
      kind: 'offset-rollback',
      owner: { ...owner, name: `${'a.b-'.repeat(60)}x` },
    });
    assert.ok(long.length <= 63, long);
    assert.match(long, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
  });

  test('a backup or restore with a metrics block names its metrics port; none without one or when disabled', () => {
    assert.equal(containerOf(jobManifest(request, { image: 'img:1' }) as Json).ports, undefined);
    const withMetrics = (metrics: unknown, kind: RunRequest['kind'] = 'backup') =>
      containerOf(jobManifest({ ...request, kind, spec: { ...spec, metrics } }, { image: 'img:1' }) as Json)
        .ports;
    assert.deepEqual(withMetrics({ port: 9100 }), [
      { name: 'metrics', containerPort: 9100, protocol: 'TCP' },
    ]);
    assert.deepEqual(withMetrics({ enabled: true }, 'restore'), [
      { name: 'metrics', containerPort: 9090, protocol: 'TCP' },
    ]);
    assert.equal(withMetrics({ enabled: false, port: 9100 }), undefined);
    assert.equal(withMetrics({ port: 9100 }, 'validation'), undefined);
    const userPorts = jobManifest(
      { ...request, spec: { ...spec, metrics: {} } },
      { image: 'img:1', template: { container: { ports: [{ name: 'debug', containerPort: 9229 }] } } },
    ) as Json;
    assert.deepEqual(
      containerOf(userPorts).ports.map((p: Json) => p.name),
      ['debug', 'metrics'],
    );
  });

  test('owned by the resource, labelled for adoption, in its namespace', () => {
    const job = jobManifest(request, { image: 'img:1' }) as Json;
    assert.equal(job.metadata.namespace, 'team-a');
    assert.deepEqual(
      job.metadata.ownerReferences,
      [{ ...owner, namespace: undefined, controller: true, blockOwnerDeletion: true }].map(
        ({ namespace: _n, ...o }) => o,
      ),
    );
    for (const [k, v] of selectorOf(owner.uid)
      .split(',')
      .map((t) => t.split('='))) {
      assert.equal(job.metadata.labels[k as string], v);
      assert.equal(job.spec.template.metadata.labels[k as string], v);
    }
    assert.equal(job.spec.ttlSecondsAfterFinished, 86_400);
    assert.equal(job.spec.backoffLimit, 2);
    assert.equal(job.spec.activeDeadlineSeconds, undefined);
    const withDeadline = jobManifest({ ...request, activeDeadlineSeconds: 600 }, { image: 'img:1' }) as Json;
    assert.equal(withDeadline.spec.activeDeadlineSeconds, 600 + DEADLINE_GRACE_SECONDS);
  });

  test('Secrets mounted read-only where the CLI reads them, by name; the request projected from an annotation', () => {
    const job = jobManifest(request, { image: 'img:1' }) as Json;
    const pod = podOf(job);
    const container = containerOf(job);
    assert.deepEqual(
      pod.volumes.filter((v: Json) => v.secret).map((v: Json) => v.secret),
      [
        { secretName: 'kafka-sasl', optional: true },
        { secretName: 'minio-creds', optional: true },
      ],
    );
    const mounts = container.volumeMounts.filter((m: Json) => m.name.startsWith('secret-'));
    assert.deepEqual(
      mounts.map((m: Json) => [m.mountPath, m.readOnly]),
      [
        [`${SECRETS_DIR}/kafka-sasl`, true],
        [`${SECRETS_DIR}/minio-creds`, true],
      ],
    );
    assert.ok(
      container.env.some((e: Json) => e.name === 'KAFKA_BACKUP_SECRETS_DIR' && e.value === SECRETS_DIR),
    );
    assert.deepEqual(JSON.parse(job.spec.template.metadata.annotations[REQUEST_ANNOTATION]), request);
    const projected = pod.volumes.find((v: Json) => v.downwardAPI).downwardAPI.items[0];
    assert.equal(projected.fieldRef.fieldPath, `metadata.annotations['${REQUEST_ANNOTATION}']`);
    assert.deepEqual(container.args.slice(0, 3), ['run', '--request', '/etc/kafka-backup/run/request.json']);
    assert.equal(container.terminationMessagePolicy, 'File');
    assert.equal(container.terminationMessagePath, '/dev/termination-log');
  });

  test('podFailurePolicy: configuration, integrity and bugs fail the Job; Kafka, storage and signals are retried; disruptions ignored', () => {
    const job = jobManifest(request, { image: 'img:1' }) as Json;
    assert.equal(podOf(job).restartPolicy, 'Never');
    const rules = job.spec.podFailurePolicy.rules as Json[];
    assert.deepEqual(rules[0], {
      action: 'Ignore',
      onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }],
    });
    assert.deepEqual(rules[1]?.onExitCodes, {
      containerName: CONTAINER_NAME,
      operator: 'In',
      values: FAIL_JOB_EXIT_CODES,
    });
    assert.equal(rules[1]?.action, 'FailJob');
    assert.deepEqual(FAIL_JOB_EXIT_CODES, [1, 2, 3, 6, 7]);
    assert.equal(rules[2]?.action, 'Count');
    assert.deepEqual(RETRIED_EXIT_CODES, [4, 5, 130, 143]);
  });

  test('Pod Security restricted: non-root 65532, read-only root, /tmp emptyDir, drop ALL, RuntimeDefault, no API token', () => {
    const job = jobManifest(request, { image: 'img:1', serviceAccountName: 'runs' }) as Json;
    const pod = podOf(job);
    const c = containerOf(job);
    assert.deepEqual(pod.securityContext, {
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      fsGroup: 65532,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    assert.equal(c.securityContext.readOnlyRootFilesystem, true);
    assert.equal(c.securityContext.allowPrivilegeEscalation, false);
    assert.deepEqual(c.securityContext.capabilities, { drop: ['ALL'] });
    assert.ok(pod.volumes.some((v: Json) => v.name === 'tmp' && v.emptyDir));
    assert.ok(c.volumeMounts.some((m: Json) => m.name === 'tmp' && m.mountPath === '/tmp'));
    assert.equal(pod.serviceAccountName, 'runs');
    assert.equal(pod.automountServiceAccountToken, false);
    assert.equal(c.image, 'img:1');
  });

  test('the pod template fragment is merged: placement, hostNetwork, resources, env (ours win), labels', () => {
    const template = parseJobTemplate(
      `
metadata:
  labels: { team: data, app.kubernetes.io/managed-by: someone-else }
  annotations: { note: x }
spec:
  nodeSelector: { pool: batch }
  tolerations: [{ key: batch, operator: Exists }]
  hostNetwork: true
  dnsPolicy: ClusterFirstWithHostNet
  containers:
    - name: run
      imagePullPolicy: Never
      resources: { limits: { memory: 1Gi } }
      env: [{ name: KAFKA_BACKUP_SECRETS_DIR, value: /elsewhere }, { name: EXTRA, value: '1' }]
`,
      'test',
    );
    const job = jobManifest(request, { image: 'img:1', template }) as Json;
    const pod = podOf(job);
    const c = containerOf(job);
    assert.deepEqual(pod.nodeSelector, { pool: 'batch' });
    assert.deepEqual(pod.tolerations, [{ key: 'batch', operator: 'Exists' }]);
    assert.equal(pod.hostNetwork, true);
    assert.equal(pod.dnsPolicy, 'ClusterFirstWithHostNet');
    assert.equal(pod.restartPolicy, 'Never');
    assert.equal(c.imagePullPolicy, 'Never');
    assert.deepEqual(c.resources, { limits: { memory: '1Gi' } });
    assert.deepEqual(
      c.env.filter((e: Json) => e.name === 'KAFKA_BACKUP_SECRETS_DIR').map((e: Json) => e.value),
      [SECRETS_DIR],
    );
    assert.ok(c.env.some((e: Json) => e.name === 'EXTRA'));
    assert.equal(job.spec.template.metadata.labels.team, 'data');
    assert.equal(job.spec.template.metadata.labels['app.kubernetes.io/managed-by'], 'kafka-backup-operator');
    assert.equal(job.spec.template.metadata.annotations.note, 'x');
    assert.equal(c.name, 'run');
  });

  test('the template refuses what it would ignore or what is the operator’s', () => {
    for (const [yaml, expected] of [
      ['spec: { containers: [{ image: x }] }', /containers\[0\]\.image is not supported/],
      ['spec: { restartPolicy: Always }', /spec\.restartPolicy is not supported/],
      ['spec: { containers: [{ name: sidecar }] }', /must be run/],
      ['spec: { containers: [{}, {}] }', /one container/],
      ['kind: Pod', /kind is not supported/],
      ['spec: { hostNetwork: "yes" }', /hostNetwork must be true or false/],
      ['metadata: { labels: { a: 1 } }', /labels must map names to strings/],
      ['[1', /not YAML/],
    ] as const) {
      assert.throws(
        () => parseJobTemplate(yaml, 'f.yaml'),
        (e: Error) => e instanceof JobTemplateError && expected.test(e.message),
        yaml,
      );
    }
    assert.deepEqual(parseJobTemplate('', 'empty'), {});
  });
});

describe('run request Secrets', () => {
  test('every *Secret field of the CRDs is a {name} reference the walker finds', () => {
    const found = new Set<string>();
    const walk = (schema: Json, path: string) => {
      for (const [field, sub] of Object.entries((schema.properties ?? {}) as Record<string, Json>)) {
        if (field.endsWith('Secret')) {
          assert.ok(sub.properties?.name, `${path}.${field} has a name`);
          found.add(field);
        }
        walk(sub, `${path}.${field}`);
        if (sub.items) walk(sub.items, `${path}.${field}[]`);
      }
    };
    for (const file of readdirSync('crds')) {
      const crd = parse(readFileSync(`crds/${file}`, 'utf8')) as Json;
      walk(crd.spec.versions[0].schema.openAPIV3Schema.properties.spec, file);
    }
    assert.ok(found.size >= 9, [...found].join(','));
    for (const field of found)
      assert.deepEqual(secretNamesIn({ a: { [field]: { name: `s-${field}` } } }), [`s-${field}`]);
  });

  test('backup storage Secrets are read in the KafkaBackup namespace, the rest in the resource’s', () => {
    const concrete = {
      kafkaCluster: { tlsSecret: { name: 'tls' } },
      backupRef: { backupId: 'x', storage: { s3: { credentialsSecret: { name: 'creds' } } } },
      encryption: { keySecret: { name: 'key' } },
    };
    assert.deepEqual(secretsOf(concrete, 'own', 'backups'), [
      { namespace: 'own', name: 'key' },
      { namespace: 'own', name: 'tls' },
      { namespace: 'backups', name: 'creds' },
    ]);
  });
});
