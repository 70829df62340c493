/**
 * The install path for real, on the test environment's node: `helm install` of the chart with the
 * image built from this checkout (imported into the node's containerd, never pulled). The operator
 * Pod starts and takes the Lease; the README's quick-start
 * KafkaBackup, applied with kubectl, runs; a scheduled backup runs and its leader Pod is deleted in
 * the middle of a run: the Deployment's next Pod takes the Lease and completes it, every record
 * exactly once; a KafkaRestore by backupRef.name restores into the target cluster; status, Events,
 * /metrics (scraped through the metrics Service) and the Argo CD health checks show it; `helm uninstall` leaves the custom
 * resources and the backups in storage.
 *
 * The node has no kube-proxy and no cluster DNS, so the release uses `hostNetwork: true` (Kafka and
 * MinIO are on loopback) and points the in-cluster client at the API server's loopback address with
 * `extraEnv`. One node with host networking fits one replica (two would bind the same ports); the
 * two-replica Lease handover is proven with two operator processes in
 * test/integration/operator/high-availability.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { stringify } from 'yaml';
import { cacheDir } from '../../env/cache.ts';
import { ensureNode, need, uniqueName } from '../../env/fixture.ts';
import { loadIntoNode, operatorImage } from '../../env/images.ts';
import { createTopic, deleteTopic, endOffsets } from '../../env/kafka-client.ts';
import { KubeClient } from '../../env/kube-client.ts';
import { metricsPath, nodeJobTemplate, nodeReleaseValues } from '../../env/node-release.ts';
import { createS3Bucket, deleteS3Bucket, listS3Keys, s3Client } from '../../env/storage-clients.ts';
import { CHART_DIR } from '../../unit/chart/helm-chart.ts';
import { health } from '../../unit/gitops/argo-lua.ts';
import { installCrds } from '../api/crd-install.ts';
import { content, fidelityRecords, produceAll, readTopic, testConnection } from '../engine/helpers.ts';
import { eventually, minioSecret, minioStorage } from '../operator/operator-env.ts';

const SECRET = 's3-credentials';
const RELEASE = 'kafka-backup-operator';
const RECORDS = 20_000;
const RECORDS_PER_SEC = 1_500;
/** helm's own --timeout is shorter: the process is only killed if helm itself hangs. */
const HELM = { timeoutMs: 300_000 };

interface Status {
  phase?: string;
  message?: string;
  recordsProcessed?: number;
  storedRecords?: number;
  storedRunCount?: number;
  lastRunId?: string;
  recordsRestored?: number;
  conditions?: Array<{ type: string; status: string; reason?: string }>;
}

/** The README's quick-start KafkaBackup, as written but for this environment's addresses. */
function quickStartBackup(topic: string, bucket: string, prefix: string) {
  return {
    apiVersion: 'kafka.oso.sh/v1alpha1',
    kind: 'KafkaBackup',
    metadata: { name: 'my-first-backup' },
    spec: {
      kafkaCluster: { bootstrapServers: [need('kafka').source.bootstrap] },
      topics: [topic],
      storage: minioStorage(need('s3'), bucket, SECRET, prefix),
      stopAtCurrentOffsets: true,
    },
  };
}

/** Waits until a resource reaches one of `phases` (failing at once on Failed), and returns its status. */
async function settled(
  admin: KubeClient,
  namespace: string,
  resource: string,
  phases: string[],
  timeoutMs: number,
) {
  let last: Status = {};
  await eventually(
    `${resource} reaches ${phases.join(' or ')}`,
    async () => {
      last = ((await admin.getJson(['-n', namespace, resource])).status ?? {}) as Status;
      if (last.phase === 'Failed') assert.fail(`${resource} failed: ${last.message}`);
      return phases.includes(last.phase ?? '');
    },
    timeoutMs,
  );
  return last;
}

/** The chart installed on the test node with the image of this checkout, watching `appNs` only. */
async function installOnNode(t: TestContext, extraValues: Record<string, unknown> = {}) {
  const kube = need('kube');
  const node = await ensureNode();
  const image = await operatorImage(cacheDir());
  await loadIntoNode(node, image);
  const admin = KubeClient.admin();
  await installCrds(admin);
  const operatorNs = await admin.createNamespace('helm-op', t);
  const appNs = await admin.createNamespace('helm-app', t);
  // No `restricted` label here: host networking is outside every Pod Security level but privileged.
  // test/integration/chart/helm.test.ts proves the chart's Pod passes `restricted` admission.
  const work = mkdtempSync(join(tmpdir(), 'helm-e2e-'));
  t.after(async () => {
    await admin
      .helm(['uninstall', RELEASE, '-n', operatorNs, '--ignore-not-found', '--wait'], HELM)
      .catch(() => {});
    rmSync(work, { recursive: true, force: true });
  });
  const values = {
    crds: { install: false }, // the cluster's CRDs are shared with other tests (installCrds above)
    ...(await nodeReleaseValues(kube, node, image, { watchNamespaces: [appNs], secretNames: [SECRET] })),
    logLevel: 'debug',
    ...extraValues,
  };
  const valuesFile = join(work, 'values.yaml');
  writeFileSync(valuesFile, stringify(values));
  await admin.helm(
    ['install', RELEASE, CHART_DIR, '-n', operatorNs, '-f', valuesFile, '--wait', '--timeout', '180s'],
    HELM,
  );
  return { admin, node, operatorNs, appNs };
}

test('helm install on the real node: the operator Pod runs the quick start, a scheduled backup survives its leader Pod being deleted, a restore completes, and uninstall keeps resources and backups', {
  timeout: 900_000,
}, async (t) => {
  const kafka = need('kafka');
  const s3 = need('s3');
  const { admin, operatorNs, appNs } = await installOnNode(t);
  const source = testConnection('source');
  const target = testConnection('target');
  const quickTopic = uniqueName('helm-quick');
  const topic = uniqueName('helm-orders');
  await createTopic(source, quickTopic, { partitions: 1 });
  await createTopic(source, topic, { partitions: 3 });
  const bucket = await createS3Bucket(s3Client(s3), 'helm-e2e');
  t.after(async () => {
    for (const [connection, name] of [
      [source, quickTopic],
      [source, topic],
      [target, `${topic}-restored`],
    ] as const) {
      await deleteTopic(connection, name).catch(() => {});
    }
    await deleteS3Bucket(s3Client(s3), bucket).catch(() => {});
  });

  const pods = async () =>
    (
      await admin.getJson<{
        items: Array<{
          metadata: { name: string; deletionTimestamp?: string };
          status: { phase: string; conditions?: Array<{ type: string; status: string }> };
        }>;
      }>(['pods', '-n', operatorNs, '-l', 'app.kubernetes.io/name=kafka-backup-operator'])
    ).items;
  const holder = async () =>
    (
      await admin
        .getJson<{ spec: { holderIdentity?: string } }>(['lease', '-n', operatorNs, `${RELEASE}-leader`])
        .catch(() => ({ spec: {} as { holderIdentity?: string } }))
    ).spec.holderIdentity;
  const [first] = await pods();
  assert.ok(first, 'the Deployment has a Pod');
  assert.equal(first.status.phase, 'Running');
  // The holder identity is `<Pod name>_<uuid>`, as client-go's.
  const holds = async (pod: string) => (await holder())?.startsWith(`${pod}_`) === true;
  await eventually('the operator Pod holds the Lease', () => holds(first.metadata.name), 60_000);

  const status = async (resource: string) =>
    ((await admin.getJson(['-n', appNs, resource])).status ?? {}) as Status;
  // 1. The README's quick-start KafkaBackup, as written but for this environment's addresses.
  await produceAll(source, quickTopic, fidelityRecords(500, 1, 3));
  await admin.apply([minioSecret(s3, SECRET)], appNs);
  await admin.apply([quickStartBackup(quickTopic, bucket, 'quick')], appNs);
  const quick = await settled(admin, appNs, 'kafkabackup/my-first-backup', ['Completed'], 120_000);
  assert.equal(quick.storedRecords, 500);

  // 2. A scheduled backup, slowed down so that deleting the leader Pod lands in the middle of a run.
  const produced = fidelityRecords(RECORDS, 3, 17);
  await produceAll(source, topic, produced);
  await admin.apply(
    [
      {
        apiVersion: 'kafka.oso.sh/v1alpha1',
        kind: 'KafkaBackup',
        metadata: { name: 'orders-backup' },
        spec: {
          schedule: '*/20 * * * * *',
          kafkaCluster: { bootstrapServers: [kafka.source.bootstrap] },
          topics: [topic],
          storage: minioStorage(s3, bucket, SECRET, 'orders'),
          stopAtCurrentOffsets: true,
          rateLimiting: { recordsPerSec: RECORDS_PER_SEC },
        },
      },
    ],
    appNs,
  );
  await eventually(
    'the first scheduled run is under way',
    async () => {
      const s = await status('kafkabackup/orders-backup');
      return s.phase === 'Running' && (s.recordsProcessed ?? 0) > 0;
    },
    90_000,
  );
  const midRun = (await status('kafkabackup/orders-backup')).recordsProcessed ?? 0;
  assert.ok(midRun < RECORDS, `the run is still going (${midRun} of ${RECORDS} records)`);
  // A plain delete, as a node drain or `kubectl delete pod` does: SIGTERM, then a new Pod.
  await admin.kubectl(['delete', 'pod', '-n', operatorNs, first.metadata.name, '--wait=false']);
  let second = '';
  await eventually(
    'a new operator Pod holds the Lease',
    async () => {
      const current = (await pods()).find(
        (p) => !p.metadata.deletionTimestamp && p.metadata.name !== first.metadata.name,
      );
      second = current?.metadata.name ?? '';
      return second !== '' && (await holds(second));
    },
    120_000,
  );
  await eventually(
    'the interrupted run is completed by the new Pod',
    async () => (await status('kafkabackup/orders-backup')).storedRecords === RECORDS,
    180_000,
  );

  // 3. A KafkaRestore naming the backup, into the target cluster.
  await admin.apply(
    [
      {
        apiVersion: 'kafka.oso.sh/v1alpha1',
        kind: 'KafkaRestore',
        metadata: { name: 'orders-restore' },
        spec: {
          backupRef: { name: 'orders-backup' },
          kafkaCluster: { bootstrapServers: [kafka.target.bootstrap] },
          topicMapping: { [topic]: `${topic}-restored` },
          createTopics: true,
        },
      },
    ],
    appNs,
  );
  const restored = await settled(admin, appNs, 'kafkarestore/orders-restore', ['Completed'], 180_000);
  assert.equal(restored.recordsRestored, RECORDS);
  const ends = await endOffsets(target, `${topic}-restored`);
  assert.equal(
    ends.reduce((a, b) => a + Number(b), 0),
    RECORDS,
    'every record once: nothing lost, nothing twice',
  );
  const expected = await readTopic(source, topic);
  const actual = await readTopic(target, `${topic}-restored`);
  for (let p = 0; p < expected.length; p++) {
    assert.deepEqual(
      actual[p]?.map((r) => content(r)),
      expected[p]?.map((r) => content(r)),
      `partition ${p}`,
    );
  }

  // Argo CD's view of the same objects: the health checks of dist/argocd/, run on what the API serves.
  // (The scheduled backup may be mid-run now: Progressing; its states are covered in test/unit/gitops.)
  for (const resource of ['kafkabackup/my-first-backup', 'kafkarestore/orders-restore']) {
    const served = await admin.getJson<{ kind: string }>(['-n', appNs, resource]);
    assert.equal((await health(served)).status, 'Healthy', resource);
  }

  // Events on the resources, written by the Pods.
  const events = await admin.getJson<{ items: Array<{ reason: string; involvedObject: { name: string } }> }>([
    'events',
    '-n',
    appNs,
  ]);
  const reasons = (name: string) =>
    events.items.filter((e) => e.involvedObject.name === name).map((e) => e.reason);
  assert.ok(reasons('orders-backup').length > 0, 'the backup has Events');
  assert.ok(reasons('orders-restore').length > 0, 'the restore has Events');

  // /metrics through the metrics Service (the API server proxies to the Pod the Service selects).
  // The new Pod joins the Service's endpoints once its readiness probe passes.
  let metrics = '';
  await eventually(
    'the metrics Service answers',
    async () => {
      const r = await admin.tryKubectl(['get', '--raw', metricsPath(operatorNs, RELEASE)]);
      metrics = r.stdout;
      return r.code === 0;
    },
    90_000,
  );
  assert.match(metrics, /kafka_backup_runs_total\{[^}]*kind="KafkaRestore"[^}]*result="succeeded"[^}]*\} 1/);
  assert.match(metrics, /kafka_backup_runs_total\{[^}]*kind="KafkaBackup"[^}]*\} \d+/);

  // Secrets never reach status, Events or the Pod's log.
  const log = await admin.kubectl(['logs', '-n', operatorNs, second]);
  const everything = [
    log,
    JSON.stringify(events),
    JSON.stringify(await status('kafkarestore/orders-restore')),
  ].join('\n');
  assert.ok(!everything.includes(s3.secretAccessKey), 'the storage secret key never appears');

  // 4. helm uninstall: the operator goes, the resources and the backups stay.
  const keysBefore = await listS3Keys(s3Client(s3), bucket);
  await admin.helm(['uninstall', RELEASE, '-n', operatorNs, '--wait'], HELM);
  await eventually('the operator Pods are gone', async () => (await pods()).length === 0, 120_000);
  const left = await admin.getJson<{ items: Array<{ kind: string; metadata: { name: string } }> }>([
    'kafkabackups,kafkarestores',
    '-n',
    appNs,
  ]);
  assert.deepEqual(left.items.map((o) => `${o.kind}/${o.metadata.name}`).sort(), [
    'KafkaBackup/my-first-backup',
    'KafkaBackup/orders-backup',
    'KafkaRestore/orders-restore',
  ]);
  assert.deepEqual(await listS3Keys(s3Client(s3), bucket), keysBefore, 'the backups stay in storage');
});

test('helm install with runner.mode=job: the quick-start KafkaBackup runs as a Job owned by it, in its namespace, with its Secret mounted', {
  timeout: 600_000,
}, async (t) => {
  const s3 = need('s3');
  const node = await ensureNode();
  // The run Pods need what the operator Pod needs on this node: host networking and the toleration.
  const { admin, appNs } = await installOnNode(t, {
    runner: { mode: 'job', job: { podTemplate: nodeJobTemplate(node) } },
  });
  const source = testConnection('source');
  const topic = uniqueName('helm-job');
  await createTopic(source, topic, { partitions: 2 });
  const bucket = await createS3Bucket(s3Client(s3), 'helm-job');
  t.after(async () => {
    await deleteTopic(source, topic).catch(() => {});
    await deleteS3Bucket(s3Client(s3), bucket).catch(() => {});
  });
  await produceAll(source, topic, fidelityRecords(300, 2, 5));
  await admin.apply([minioSecret(s3, SECRET)], appNs);
  await admin.apply([quickStartBackup(topic, bucket, 'jobs')], appNs);
  const status = await settled(admin, appNs, 'kafkabackup/my-first-backup', ['Completed'], 180_000);
  assert.equal(status.storedRecords, 300);
  const jobs = await admin.getJson<{
    items: Array<{
      metadata: { ownerReferences?: Array<{ kind: string; name: string; controller?: boolean }> };
      spec: { template: { spec: { volumes?: Array<{ secret?: { secretName: string } }> } } };
      status: { succeeded?: number };
    }>;
  }>(['jobs', '-n', appNs]);
  assert.equal(jobs.items.length, 1, 'one Job for the one run');
  const [job] = jobs.items;
  assert.deepEqual(
    job?.metadata.ownerReferences?.map((o) => [o.kind, o.name, o.controller]),
    [['KafkaBackup', 'my-first-backup', true]],
  );
  assert.equal(job?.status.succeeded, 1);
  assert.ok(
    job?.spec.template.spec.volumes?.some((v) => v.secret?.secretName === SECRET),
    'the Secret is mounted, not copied',
  );
});
