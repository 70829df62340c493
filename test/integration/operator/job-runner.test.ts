/**
 * The Job runner on the real node: the operator (a real process, the ServiceAccount token and the
 * RBAC lib/operator.ts synthesizes) with --runner=job runs a KafkaBackup and a KafkaRestore each as a
 * Job of the operator image (built from this checkout and imported into the node's containerd).
 * The node has no kube-proxy and no cluster DNS: the run Pods use hostNetwork (--job-template) to
 * reach Kafka and MinIO on 127.0.0.1; they never talk to the API server.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { cacheDir } from '../../env/cache.ts';
import { ensureNode, need, uniqueName } from '../../env/fixture.ts';
import { loadIntoNode, operatorImage } from '../../env/images.ts';
import { createTopic, deleteTopic, endOffsets, kafkaConnection, produce } from '../../env/kafka-client.ts';
import { createS3Bucket, deleteS3Bucket, s3Client } from '../../env/storage-clients.ts';
import { eventually, installOperator, minioSecret, minioStorage } from './operator-env.ts';
import { type OperatorReplica, startReplica } from './operator-replica.ts';

const SECRET = 'minio-creds';
const RECORDS = 30;

// biome-ignore lint/suspicious/noExplicitAny: kubectl output read loosely
type Json = Record<string, any>;

test('--runner=job: a KafkaBackup and a KafkaRestore run as owned Jobs with mounted Secrets, exact status, adoption after an operator restart, and a configuration error that fails the Job at once', {
  timeout: 900_000,
}, async (t) => {
  const kafka = need('kafka');
  const s3 = need('s3');
  const node = await ensureNode();
  const image = await operatorImage(cacheDir());
  await loadIntoNode(node, image);

  const source = kafkaConnection(kafka, 'source');
  const target = kafkaConnection(kafka, 'target');
  const { admin, watched, kubeconfig } = await installOperator(t, { secretNames: [SECRET] });
  await admin.apply([minioSecret(s3, SECRET)], watched);
  const bucket = await createS3Bucket(s3Client(s3), 'op-jobs');
  const topic = uniqueName('jobs');
  t.after(async () => {
    await deleteTopic(source, topic).catch(() => {});
    await deleteTopic(target, topic).catch(() => {});
    await deleteS3Bucket(s3Client(s3), bucket).catch(() => {});
  });
  await createTopic(source, topic, { partitions: 2 });
  await produce(
    source,
    topic,
    Array.from({ length: RECORDS }, (_, i) => ({ partition: i % 2, key: `k${i}`, value: `v${i}` })),
  );

  const dir = mkdtempSync(join(tmpdir(), 'job-runner-'));
  const template = join(dir, 'job-template.yaml');
  // Host networking (no kube-proxy or DNS on the test node) and the node's taint, which only the
  // workloads meant for it tolerate.
  writeFileSync(
    template,
    stringify({
      spec: {
        hostNetwork: true,
        tolerations: [node.toleration],
        containers: [{ name: 'run', imagePullPolicy: 'Never' }],
      },
    }),
  );
  const replicas: OperatorReplica[] = [];
  const start = (name: string) => {
    const replica = startReplica(name, {
      kubeconfig,
      watched,
      args: ['--runner=job', `--job-image=${image.reference}`, `--job-template=${template}`],
    });
    replicas.push(replica);
    return replica;
  };
  t.after(async () => {
    for (const r of replicas) await r.stop();
  });

  const get = async (kind: string, name: string) => admin.getJson<Json>(['-n', watched, kind, name]);
  const jobsOf = async (uid: string) =>
    (await admin.getJson<Json>(['-n', watched, 'jobs', '-l', `kafka.oso.sh/owner-uid=${uid}`]))
      .items as Json[];
  const events = async (name: string) =>
    ((await admin.getJson<Json>(['-n', watched, 'events.events.k8s.io'])).items as Json[]).filter(
      (e) => e.regarding?.name === name,
    );

  // 1. A KafkaBackup: the operator is killed once its Job exists; the next one adopts the Job.
  const first = start('jobs-op-1');
  await admin.apply(
    [
      {
        apiVersion: 'kafka.oso.sh/v1alpha1',
        kind: 'KafkaBackup',
        metadata: { name: 'orders' },
        spec: {
          kafkaCluster: { bootstrapServers: [kafka.source.bootstrap] },
          topics: [topic],
          storage: minioStorage(s3, bucket, SECRET),
          stopAtCurrentOffsets: true,
        },
      },
    ],
    watched,
  );
  const backupUid = (await get('kafkabackups.kafka.oso.sh', 'orders')).metadata.uid as string;
  await eventually('the backup Job exists', async () => (await jobsOf(backupUid)).length === 1, 60_000);
  first.child.kill('SIGKILL');
  await first.exit;
  const [job] = await jobsOf(backupUid);
  assert.ok(job);
  // Owned by the resource, Secrets mounted (not copied), restricted, no API token.
  assert.deepEqual(
    job.metadata.ownerReferences.map((o: Json) => [
      o.kind,
      o.name,
      o.uid,
      o.controller,
      o.blockOwnerDeletion,
    ]),
    [['KafkaBackup', 'orders', backupUid, true, true]],
  );
  const pod = job.spec.template.spec;
  assert.deepEqual(
    pod.volumes.filter((v: Json) => v.secret).map((v: Json) => v.secret.secretName),
    [SECRET],
  );
  assert.equal(pod.automountServiceAccountToken, false);
  assert.equal(pod.containers[0].securityContext.readOnlyRootFilesystem, true);
  assert.deepEqual(
    ((await admin.getJson<Json>(['-n', watched, 'secrets'])).items as Json[])
      .map((s) => s.metadata.name)
      .sort(),
    [SECRET],
    'no Secret copied',
  );

  start('jobs-op-2');
  await eventually(
    'the backup completes',
    async () => (await get('kafkabackups.kafka.oso.sh', 'orders')).status?.phase === 'Completed',
    240_000,
  );
  const backup = (await get('kafkabackups.kafka.oso.sh', 'orders')).status as Json;
  assert.equal(backup.recordsProcessed, RECORDS, JSON.stringify(backup));
  assert.equal((await jobsOf(backupUid)).length, 1, 'the new leader adopted the Job: no second one');
  await eventually(
    'storage read',
    async () => (await get('kafkabackups.kafka.oso.sh', 'orders')).status?.storedRunCount !== undefined,
  );
  assert.equal(
    (await get('kafkabackups.kafka.oso.sh', 'orders')).status.storedRunCount,
    1,
    'one run, exactly once',
  );
  assert.equal((backup.history as Json[]).length, 1);
  const completed = (await events('orders')).filter((e) => e.reason === 'Completed');
  assert.equal(completed.length, 1);
  assert.match(completed[0]?.note, new RegExp(`stored ${RECORDS} records`));
  assert.match(
    (await events('orders')).find((e) => e.reason === 'Started')?.note ?? '',
    /Job .*\/kb-orders-/,
    'the start names the Job',
  );

  // 2. A KafkaRestore of that backup into the target cluster, as a Job of its own.
  await admin.apply(
    [
      {
        apiVersion: 'kafka.oso.sh/v1alpha1',
        kind: 'KafkaRestore',
        metadata: { name: 'orders-restore' },
        spec: {
          backupRef: { name: 'orders' },
          createTopics: true,
          kafkaCluster: { bootstrapServers: [kafka.target.bootstrap] },
        },
      },
    ],
    watched,
  );
  await eventually(
    'the restore completes',
    async () => {
      const status = (await get('kafkarestores.kafka.oso.sh', 'orders-restore')).status;
      const phase = status?.phase;
      assert.notEqual(phase, 'Failed', JSON.stringify(status));
      return phase === 'Completed';
    },
    240_000,
  );
  const restore = await get('kafkarestores.kafka.oso.sh', 'orders-restore');
  assert.equal(restore.status.recordsRestored, RECORDS, JSON.stringify(restore.status));
  assert.equal((await jobsOf(restore.metadata.uid)).length, 1);
  const restored = await endOffsets(target, topic);
  assert.equal(
    restored.reduce((a, b) => a + Number(b), 0),
    RECORDS,
  );

  // 3. A Secret that does not exist: the CLI exits 2, podFailurePolicy fails the Job at once (one Pod).
  await admin.apply(
    [
      {
        apiVersion: 'kafka.oso.sh/v1alpha1',
        kind: 'KafkaBackup',
        metadata: { name: 'broken' },
        spec: {
          kafkaCluster: { bootstrapServers: [kafka.source.bootstrap] },
          topics: [topic],
          storage: minioStorage(s3, bucket, 'no-such-secret'),
          stopAtCurrentOffsets: true,
        },
      },
    ],
    watched,
  );
  await eventually(
    'the broken backup fails',
    async () => (await get('kafkabackups.kafka.oso.sh', 'broken')).status?.phase === 'Failed',
    180_000,
  );
  const broken = await get('kafkabackups.kafka.oso.sh', 'broken');
  const stalled = (broken.status.conditions as Json[]).find((c) => c.type === 'Stalled');
  assert.equal(stalled?.status, 'True');
  assert.equal(stalled?.reason, 'InvalidConfig');
  assert.match(broken.status.message, /no-such-secret/);
  const [failedJob] = await jobsOf(broken.metadata.uid);
  assert.ok(failedJob);
  const failed = (failedJob.status.conditions as Json[]).find((c) => c.type === 'Failed');
  assert.equal(failed?.reason, 'PodFailurePolicy');
  assert.equal(failedJob.status.failed, 1, 'not retried');
});
