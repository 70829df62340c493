/**
 * Disaster recovery, as the issue defines it: storage is the source of truth. A first operator
 * (namespace, ServiceAccount, RBAC of its own) backs a topic up to MinIO in two runs and is gone;
 * a second, fresh operator in a fresh namespace gets the same KafkaBackup applied from Git. Before
 * any new run, its status lists the runs the bucket holds, and a KafkaRestore by backupRef.name
 * restores every record into the target cluster.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { need, uniqueName } from '../../env/fixture.ts';
import { createTopic, deleteTopic, endOffsets } from '../../env/kafka-client.ts';
import type { KubeClient } from '../../env/kube-client.ts';
import { createS3Bucket, deleteS3Bucket, s3Client } from '../../env/storage-clients.ts';
import { content, fidelityRecords, produceAll, readTopic, testConnection } from '../engine/helpers.ts';
import { eventually, installOperator, minioSecret, minioStorage } from './operator-env.ts';
import { startReplica } from './operator-replica.ts';

const SECRET = 's3-credentials';

interface Status {
  phase?: string;
  message?: string;
  lastRunId?: string;
  storedRunCount?: number;
  storedRecords?: number;
  storedRuns?: Array<{ id: string; records: number }>;
  firstRecoverabilityPoint?: string;
  recordsRestored?: number;
}

test('a fresh operator in a fresh namespace finds the backups in the bucket; a KafkaRestore by backupRef.name works before any new run', {
  timeout: 300_000,
}, async (t) => {
  const kafka = need('kafka');
  const s3 = need('s3');
  const source = testConnection('source');
  const target = testConnection('target');
  const topic = uniqueName('dr');
  await createTopic(source, topic, { partitions: 3 });
  const bucket = await createS3Bucket(s3Client(s3), 'op-dr');
  t.after(async () => {
    await deleteTopic(source, topic).catch(() => {});
    await deleteTopic(target, `${topic}-recovered`).catch(() => {});
    await deleteS3Bucket(s3Client(s3), bucket).catch(() => {});
  });

  // What Git holds: the Secret is created by the platform team per cluster, the rest is synced.
  const secret = minioSecret(s3, SECRET);
  const backupFromGit = {
    apiVersion: 'kafka.oso.sh/v1alpha1',
    kind: 'KafkaBackup',
    metadata: { name: 'orders-backup' },
    spec: {
      kafkaCluster: { bootstrapServers: [kafka.source.bootstrap] },
      topics: [topic],
      storage: minioStorage(s3, bucket, SECRET, 'prod'),
      // Nightly: no run is due while the test goes; runs are requested with the rerun annotation.
      schedule: '0 0 3 * * *',
      stopAtCurrentOffsets: true,
    },
  };
  const status = async (admin: KubeClient, namespace: string, resource: string) =>
    ((await admin.getJson(['-n', namespace, resource])).status ?? {}) as Status;

  // The first cluster: two runs, the second with the records written since the first.
  const first = await installOperator(t, { secretNames: [SECRET] });
  await first.admin.apply([secret, backupFromGit], first.watched);
  const operatorA = startReplica('op-first', { kubeconfig: first.kubeconfig, watched: first.watched });
  t.after(() => operatorA.stop());
  const produced = fidelityRecords(4000, 3, 21);
  for (const [run, records] of [produced.slice(0, 2500), produced.slice(2500)].entries()) {
    await produceAll(source, topic, records);
    await first.admin.kubectl([
      '-n',
      first.watched,
      'annotate',
      '--overwrite',
      'kafkabackups.kafka.oso.sh/orders-backup',
      `kafka.oso.sh/rerun=run-${run}`,
    ]);
    await eventually(
      `run ${run + 1} is stored`,
      async () =>
        (await status(first.admin, first.watched, 'kafkabackup/orders-backup')).storedRunCount === run + 1,
      60_000,
    );
  }
  const before = await status(first.admin, first.watched, 'kafkabackup/orders-backup');
  assert.equal(before.storedRecords, 4000);
  // The first cluster is lost.
  assert.equal(await operatorA.stop(), 0);

  // The second cluster: a fresh namespace and operator; Git applies the same resources.
  const second = await installOperator(t, { secretNames: [SECRET] });
  const operatorB = startReplica('op-second', { kubeconfig: second.kubeconfig, watched: second.watched });
  t.after(() => operatorB.stop());
  await second.admin.apply([secret, backupFromGit], second.watched);
  await eventually(
    'the re-applied KafkaBackup lists what the bucket holds',
    async () =>
      (await status(second.admin, second.watched, 'kafkabackup/orders-backup')).storedRecords === 4000,
    60_000,
  );
  const recovered = await status(second.admin, second.watched, 'kafkabackup/orders-backup');
  assert.deepEqual(recovered.storedRuns, before.storedRuns);
  assert.equal(recovered.firstRecoverabilityPoint, before.firstRecoverabilityPoint);

  await second.admin.apply(
    [
      {
        apiVersion: 'kafka.oso.sh/v1alpha1',
        kind: 'KafkaRestore',
        metadata: { name: 'recover-orders' },
        spec: {
          backupRef: { name: 'orders-backup' },
          kafkaCluster: { bootstrapServers: [kafka.target.bootstrap] },
          topicMapping: { [topic]: `${topic}-recovered` },
          createTopics: true,
        },
      },
    ],
    second.watched,
  );
  await eventually(
    'the restore completes',
    async () => {
      const s = await status(second.admin, second.watched, 'kafkarestore/recover-orders');
      if (s.phase === 'Failed') assert.fail(`the restore failed: ${s.message}`);
      return s.phase === 'Completed';
    },
    120_000,
  );
  const afterRestore = await status(second.admin, second.watched, 'kafkabackup/orders-backup');
  assert.equal(afterRestore.lastRunId, undefined, 'no backup ran in the second cluster');

  const ends = await endOffsets(target, `${topic}-recovered`);
  assert.equal(
    ends.reduce((a, b) => a + Number(b), 0),
    4000,
  );
  const expected = await readTopic(source, topic);
  const restored = await readTopic(target, `${topic}-recovered`);
  for (let p = 0; p < expected.length; p++) {
    assert.deepEqual(
      restored[p]?.map((r) => content(r)),
      expected[p]?.map((r) => content(r)),
      `partition ${p}`,
    );
  }
});
