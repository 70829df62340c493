/**
 * KafkaBackup retention end to end: the operator as a process (the synthesized RBAC) against the
 * real kube-apiserver, Kafka and MinIO. A backup scheduled every 5 seconds with `keepLast: 2` and
 * records produced between runs: after many runs storage holds exactly the newest two runs, status
 * and the RetentionPruned Event say so, and a restore brings back exactly those runs' records. A
 * dry run beside it deletes nothing and reports what it would.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { restore } from '../../../runtime/app/index.ts';
import { BackupRepository } from '../../../runtime/format/repository.ts';
import { need, uniqueName } from '../../env/fixture.ts';
import { createTopic, deleteTopic } from '../../env/kafka-client.ts';
import { createS3Bucket, deleteS3Bucket, s3Client } from '../../env/storage-clients.ts';
import { content, fidelityRecords, produceAll, readTopic, testConnection } from '../engine/helpers.ts';
import {
  eventually,
  installOperator,
  minioPorts,
  minioSecret,
  minioStorage,
  openMinioStore,
} from './operator-env.ts';
import { startReplica } from './operator-replica.ts';

interface Status {
  phase?: string;
  history?: Array<{ id: string; phase: string; startTime: string }>;
  storedRuns?: Array<{ id: string; records: number }>;
  storedRunCount?: number;
  storedRecords?: number;
  firstRecoverabilityPoint?: string;
  lastRetentionTime?: string;
  retentionInspectedBackups?: number;
  retentionEligibleBackups?: number;
  retentionDeletedBackups?: number;
  retentionReclaimedBytes?: number;
  retentionDryRun?: boolean;
  retentionError?: string;
}

test('KafkaBackup retention: a schedule of many runs keeps exactly keepLast runs; restorable; dry run deletes nothing', {
  timeout: 300_000,
}, async (t) => {
  const kafka = need('kafka');
  const s3 = need('s3');
  const { admin, watched, kubeconfig } = await installOperator(t, { secretNames: ['minio-creds'] });
  const source = testConnection('source');
  const topic = uniqueName('kb-ret');
  // Records keep their (old) timestamps: no broker retention on the source or the restored copy.
  await createTopic(source, topic, { partitions: 2, configs: { 'retention.ms': '-1' } });
  t.after(() => deleteTopic(source, topic).catch(() => {}));
  const targetTopic = `${topic}-restored`;
  t.after(() => deleteTopic(testConnection('target'), targetTopic).catch(() => {}));
  const bucketClient = s3Client(s3);
  const bucket = await createS3Bucket(bucketClient, 'kb-ret');
  t.after(() => deleteS3Bucket(bucketClient, bucket).catch(() => {}));
  await admin.apply([minioSecret(s3, 'minio-creds')], watched);
  const operator = startReplica('op-retention', { kubeconfig, watched });
  t.after(() => operator.stop());

  const storage = minioStorage(s3, bucket, 'minio-creds', 'kb');
  const backup = (name: string, retention: Record<string, unknown>) => ({
    apiVersion: 'kafka.oso.sh/v1alpha1',
    kind: 'KafkaBackup',
    metadata: { name },
    spec: {
      kafkaCluster: { bootstrapServers: [kafka.source.bootstrap] },
      topics: [topic],
      storage,
      stopAtCurrentOffsets: true,
      schedule: '*/5 * * * * *',
      successfulRunsHistoryLimit: 20,
      retention: { enabled: true, ...retention },
    },
  });
  const status = async (name: string) =>
    ((await admin.getJson(['-n', watched, 'kafkabackups.kafka.oso.sh', name])).status ?? {}) as Status;

  await admin.apply(
    [backup('keep2', { keepLast: 2 }), backup('dry', { keepLast: 1, dryRun: true })],
    watched,
  );
  // Four batches, each produced before a run that starts after it (empty runs may come between).
  for (let batch = 1; batch <= 4; batch++) {
    await produceAll(source, topic, fidelityRecords(200, 2, batch));
    const producedAt = new Date().toISOString();
    await eventually(
      `a run of keep2 started after batch ${batch} and succeeded`,
      async () => {
        const h = (await status('keep2')).history?.[0];
        return h?.phase === 'Succeeded' && h.startTime > producedAt;
      },
      90_000,
    );
  }
  for (const name of ['keep2', 'dry']) {
    await admin.kubectl([
      '-n',
      watched,
      'patch',
      'kafkabackups.kafka.oso.sh',
      name,
      '--type=merge',
      '-p',
      '{"spec":{"suspend":true}}',
    ]);
  }
  await eventually(
    'both suspended',
    async () => {
      const [a, b] = await Promise.all([status('keep2'), status('dry')]);
      return a.phase === 'Suspended' && b.phase === 'Suspended';
    },
    60_000,
  );

  // Exactly the newest two runs that stored records are kept, with the empty runs after the older
  // of them (a run between batches may store nothing); status and the Event say what retention did.
  const s = await status('keep2');
  const runs = s.history?.filter((h) => h.phase === 'Succeeded') ?? [];
  assert.ok(runs.length >= 4, `${runs.length} runs`);
  const stored = s.storedRuns ?? [];
  assert.equal(stored.filter((r) => r.records > 0).length, 2, JSON.stringify(stored));
  assert.ok((stored[0]?.records ?? 0) > 0, 'the oldest stored run holds records: empty runs before it went');
  assert.deepEqual(
    stored.map((r) => r.id),
    runs
      .slice(0, stored.length)
      .map((r) => r.id)
      .reverse(),
    'the kept runs are the newest ones',
  );
  assert.equal(s.retentionError, undefined);
  assert.equal(s.retentionDryRun, false);
  assert.equal(s.retentionDeletedBackups, s.retentionEligibleBackups);
  assert.ok((s.retentionReclaimedBytes ?? -1) >= 0 && s.lastRetentionTime);
  const events = await admin.getJson<{
    items: Array<{ reason: string; note?: string; type?: string; regarding?: { name: string } }>;
  }>(['-n', watched, 'events.events.k8s.io']);
  const pruned = events.items.filter((e) => e.regarding?.name === 'keep2' && e.reason === 'RetentionPruned');
  assert.ok(pruned.length > 0, 'a RetentionPruned Event');
  assert.match(
    pruned[0]?.note ?? '',
    /^retention pruned \d+ run\(s\) \(.+\), deleted \d+ object\(s\), reclaimed \d+ bytes; \d+ run\(s\) kept$/,
  );
  assert.equal(pruned[0]?.type, 'Normal');

  // Storage agrees, and a restore brings back exactly the kept runs' records.
  const ports = minioPorts(s3, 'minio-creds');
  const store = await openMinioStore(s3, bucket, 'minio-creds', 'kb');
  const manifest = await (await new BackupRepository(store).open('keep2')).manifest();
  assert.deepEqual(
    manifest.runs.map((r) => r.runId),
    s.storedRuns?.map((r) => r.id),
  );
  assert.equal(manifest.prunedRuns.length, runs.length - stored.length, 'every older run was pruned');
  const keptFrom = manifest.topics[0]?.partitions.map((p) => {
    const gone = p.gaps.filter((g) => g.reason === 'pruned').map((g) => g.end);
    return Number(gone.length > 0 ? gone[gone.length - 1] : (p.covered[0]?.start ?? 0n));
  });
  assert.equal(keptFrom?.length, 2);

  const restored = await restore(
    {
      kafkaCluster: { bootstrapServers: [kafka.target.bootstrap] },
      backupRef: { backupId: 'keep2', storage },
      topicMapping: { [topic]: targetTopic },
      createTopics: true,
    },
    ports,
  );
  assert.equal(restored.outcome, 'complete');
  assert.equal(restored.records, s.storedRecords);
  assert.ok(restored.records > 0, 'the kept runs hold records');
  const sourceRecords = await readTopic(source, topic);
  const targetRecords = await readTopic(testConnection('target'), targetTopic);
  for (const p of [0, 1]) {
    assert.deepEqual(
      targetRecords[p]?.map((r) => content(r)),
      sourceRecords[p]?.slice(keptFrom?.[p]).map((r) => content(r)),
      `partition ${p}: exactly the records from offset ${keptFrom?.[p]} on`,
    );
  }
  assert.ok(
    (keptFrom ?? []).some((from) => from > 0),
    'the pruned runs held records that were not restored',
  );

  // The dry run kept everything and said what it would delete.
  const d = await status('dry');
  assert.ok((d.storedRunCount ?? 0) >= 4, `${d.storedRunCount} runs stored`);
  assert.equal(d.retentionDryRun, true);
  assert.equal(d.retentionDeletedBackups, 0);
  // keepLast 1 would keep the newest run with records and any empty runs after it.
  const dryRuns = d.storedRuns ?? [];
  const newestWithRecords = dryRuns.map((r) => r.records > 0).lastIndexOf(true);
  assert.equal(d.retentionInspectedBackups, dryRuns.length);
  assert.equal(d.retentionEligibleBackups, newestWithRecords);
  assert.ok(
    events.items.some((e) => e.regarding?.name === 'dry' && e.reason === 'RetentionDryRun'),
    'a RetentionDryRun Event',
  );
  assert.equal(
    events.items.some((e) => e.regarding?.name === 'dry' && e.reason === 'RetentionPruned'),
    false,
  );
});
