/**
 * Two replicas of the operator (the flags lib/operator.ts synthesizes, the ServiceAccount's token
 * and RBAC) against the real kube-apiserver, Kafka and MinIO. The leader is killed with SIGKILL in
 * the middle of a KafkaBackup run: the standby takes the Lease, finds the run marked Running, and
 * resumes it; the backup then restores every record exactly once, nothing lost, nothing twice.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { restore } from '../../../runtime/app/restore.ts';
import { need, uniqueName } from '../../env/fixture.ts';
import { createTopic, deleteTopic } from '../../env/kafka-client.ts';
import { createS3Bucket, deleteS3Bucket, s3Client } from '../../env/storage-clients.ts';
import { content, fidelityRecords, produceAll, readTopic, testConnection } from '../engine/helpers.ts';
import {
  eventually,
  installOperator,
  LEASE_NAME,
  minioPorts,
  minioSecret,
  minioStorage,
} from './operator-env.ts';
import { type OperatorReplica, startReplica } from './operator-replica.ts';

const SECRET = 'minio-creds';
const RECORDS = 24_000;
const RECORDS_PER_SEC = 1500;

interface BackupStatus {
  phase?: string;
  recordsProcessed?: number;
  storedRecords?: number;
  lastRunId?: string;
  message?: string;
}

test('two replicas: the leader is SIGKILLed mid-backup, the standby takes the Lease and the run completes, every record exactly once', {
  timeout: 240_000,
}, async (t) => {
  const kafka = need('kafka');
  const s3 = need('s3');
  const { admin, operatorNamespace, watched, kubeconfig } = await installOperator(t, {
    secretNames: [SECRET],
  });
  const source = testConnection('source');
  const target = testConnection('target');
  const topic = uniqueName('ha');
  await createTopic(source, topic, { partitions: 3 });
  const bucket = await createS3Bucket(s3Client(s3), 'op-ha');
  t.after(async () => {
    await deleteTopic(source, topic).catch(() => {});
    await deleteTopic(target, topic).catch(() => {});
    await deleteS3Bucket(s3Client(s3), bucket).catch(() => {});
  });
  const produced = fidelityRecords(RECORDS, 3, 11);
  await produceAll(source, topic, produced);

  const storage = minioStorage(s3, bucket, SECRET, 'ha');
  await admin.apply([minioSecret(s3, SECRET)], watched);

  const leaseDurationMs = 4000;
  const args = [
    '--leader-elect=true',
    `--leader-election-id=${LEASE_NAME}`,
    `--leader-election-namespace=${operatorNamespace}`,
    `--leader-elect-lease-duration=${leaseDurationMs / 1000}s`,
    '--leader-elect-renew-deadline=3s',
    '--leader-elect-retry-period=500ms',
  ];
  const replicas: OperatorReplica[] = ['op-a', 'op-b'].map((name) =>
    startReplica(name, { kubeconfig, watched, args }),
  );
  t.after(async () => {
    for (const r of replicas) r.child.kill('SIGKILL');
    await Promise.all(replicas.map((r) => r.exit));
  });
  const holder = async () =>
    (
      await admin
        .getJson<{ spec: { holderIdentity?: string } }>(['-n', operatorNamespace, 'lease', LEASE_NAME])
        .catch(() => ({ spec: {} as { holderIdentity?: string } }))
    ).spec.holderIdentity;
  const status = async () =>
    ((await admin.getJson(['-n', watched, 'kafkabackups.kafka.oso.sh', 'orders-ha'])).status ??
      {}) as BackupStatus;

  await eventually('a replica holds the Lease', async () => /^op-[ab]_/.test((await holder()) ?? ''), 60_000);
  const leaderName = ((await holder()) ?? '').split('_')[0];
  const leader = replicas.find((r) => r.name === leaderName) as OperatorReplica;
  const standby = replicas.find((r) => r.name !== leaderName) as OperatorReplica;

  // A one-shot backup slowed down by its rate limit, so that the kill lands in the middle of it.
  await admin.apply(
    [
      {
        apiVersion: 'kafka.oso.sh/v1alpha1',
        kind: 'KafkaBackup',
        metadata: { name: 'orders-ha' },
        spec: {
          kafkaCluster: { bootstrapServers: [kafka.source.bootstrap] },
          topics: [topic],
          storage,
          stopAtCurrentOffsets: true,
          checkpoint: { intervalSecs: 1 },
          rateLimiting: { recordsPerSec: RECORDS_PER_SEC },
        },
      },
    ],
    watched,
  );
  await eventually(
    'the leader has checkpointed part of the run',
    async () => {
      const s = await status();
      return s.phase === 'Running' && (s.recordsProcessed ?? 0) > 0;
    },
    60_000,
  );
  const before = (await status()).recordsProcessed ?? 0;
  assert.ok(before < RECORDS, `the run is still going (${before} of ${RECORDS} records)`);

  leader.child.kill('SIGKILL');
  await leader.exit;
  await eventually(
    'the standby holds the Lease',
    async () => (await holder())?.startsWith(`${standby.name}_`) ?? false,
    30_000,
  );
  await eventually(
    'the standby resumed the run and completed it',
    async () => (await status()).phase === 'Completed',
    120_000,
  );
  // The resumed run stored what the killed one had not committed; together, every record once.
  await eventually('status lists what storage holds', async () => (await status()).storedRecords === RECORDS);
  assert.ok(
    standby.logs.some((l) => l.reason === 'Started' && /resumed/.test(String(l.msg))),
    'the standby logs that it resumed the run',
  );
  const events = await admin.getJson<{
    items: Array<{ reason: string; note?: string; regarding?: { name: string } }>;
  }>(['-n', watched, 'events.events.k8s.io']);
  const notes = events.items
    .filter((e) => e.regarding?.name === 'orders-ha')
    .map((e) => `${e.reason}: ${e.note ?? ''}`);
  assert.ok(
    notes.some((n) => /^Started: .*resumed/.test(n)),
    notes.join('\n'),
  );
  assert.ok(
    notes.some((n) => n.startsWith('Completed')),
    notes.join('\n'),
  );

  // Exactly once: the backup restores into the target cluster as the source holds it.
  const result = await restore(
    {
      kafkaCluster: { bootstrapServers: [kafka.target.bootstrap] },
      backupRef: { storage, backupId: 'orders-ha' },
      createTopics: true,
    },
    minioPorts(s3, SECRET),
    { context: { source: 'test', name: 'ha-restore' } },
  );
  assert.equal(result.outcome, 'complete');
  const expected = await readTopic(source, topic);
  const restored = await readTopic(target, topic);
  assert.equal(
    restored.reduce((n, p) => n + p.length, 0),
    RECORDS,
  );
  for (let p = 0; p < expected.length; p++) {
    assert.deepEqual(
      restored[p]?.map((r) => content(r)),
      expected[p]?.map((r) => content(r)),
      `partition ${p}`,
    );
  }
});
