/**
 * The KafkaBackup controller end to end: `kafka-backup operator` as a process, authenticated with
 * exactly the RBAC lib/operator.ts synthesizes, against the real kube-apiserver, the source Kafka
 * cluster and MinIO. A schedule in the seconds-first form runs at its seconds, status, Events and
 * metrics say so, the second run is incremental, the bucket holds every record; a missing Secret
 * ends Stalled with what to create; no Secret value shows anywhere.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { test } from 'node:test';
import { BackupRepository } from '../../../runtime/format/repository.ts';
import { need, uniqueName } from '../../env/fixture.ts';
import { createTopic, deleteTopic } from '../../env/kafka-client.ts';
import { createS3Bucket, deleteS3Bucket, s3Client } from '../../env/storage-clients.ts';
import { fidelityRecords, produceAll, testConnection } from '../engine/helpers.ts';
import { eventually, installOperator, minioSecret, minioStorage, openMinioStore } from './operator-env.ts';
import { freePort, startReplica } from './operator-replica.ts';

interface BackupStatus {
  phase?: string;
  message?: string;
  lastScheduleTime?: string;
  startTime?: string;
  nextScheduleTime?: string;
  lastSuccessfulTime?: string;
  lastRunId?: string;
  observedRerun?: string;
  storedRunCount?: number;
  retentionError?: string;
  retentionInspectedBackups?: number;
  retentionDeletedBackups?: number;
  recordsProcessed?: number;
  lastCheckpointTime?: string;
  observedGeneration?: number;
  conditions?: Array<{ type: string; status: string; reason: string; message?: string }>;
  history?: Array<{ id: string; phase: string; startTime: string }>;
  storedRuns?: Array<{ id: string; records: number }>;
  storedRecords?: number;
  firstRecoverabilityPoint?: string;
  lastRecoverabilityPoint?: string;
}

test('KafkaBackup: scheduled runs at their second, incremental, status from storage; a missing Secret stalls', {
  timeout: 300_000,
}, async (t) => {
  const kafka = need('kafka');
  const s3 = need('s3');
  const { admin, watched, kubeconfig } = await installOperator(t, {
    secretNames: ['minio-creds', 'absent-creds'],
  });
  const source = testConnection('source');
  const topic = uniqueName('kb-op');
  await createTopic(source, topic, { partitions: 3 });
  t.after(() => deleteTopic(source, topic).catch(() => {}));
  const bucketClient = s3Client(s3);
  const bucket = await createS3Bucket(bucketClient, 'kb-op');
  t.after(() => deleteS3Bucket(bucketClient, bucket).catch(() => {}));
  await admin.apply([minioSecret(s3, 'minio-creds')], watched);
  await produceAll(source, topic, fidelityRecords(3000, 3, 5));

  const metricsPort = await freePort();
  const operator = startReplica('op-backup', {
    kubeconfig,
    watched,
    args: [`--metrics-bind-address=127.0.0.1:${metricsPort}`, '--log-level=debug'],
  });
  t.after(async () => {
    await operator.stop();
    // The operator's log, for a failure's diagnosis (it holds no Secret value: asserted below).
    if (process.env.KB_OPERATOR_LOG) await writeFile(process.env.KB_OPERATOR_LOG, operator.output());
  });

  const s3Storage = (secret: string) => minioStorage(s3, bucket, secret, 'kb');
  const backupSpec = (secret: string, extra: Record<string, unknown> = {}) => ({
    kafkaCluster: { bootstrapServers: [kafka.source.bootstrap] },
    topics: [topic],
    storage: s3Storage(secret),
    stopAtCurrentOffsets: true,
    ...extra,
  });
  const status = async (name: string) =>
    ((await admin.getJson(['-n', watched, 'kafkabackups.kafka.oso.sh', name])).status ?? {}) as BackupStatus;

  // Every 5 seconds, seconds first (the previous operator's form).
  await admin.apply(
    [
      {
        apiVersion: 'kafka.oso.sh/v1alpha1',
        kind: 'KafkaBackup',
        metadata: { name: 'every5s' },
        spec: backupSpec('minio-creds', {
          schedule: '*/5 * * * * *',
          successfulRunsHistoryLimit: 5,
          retention: { enabled: true, keepLast: 100 },
        }),
      },
    ],
    watched,
  );
  // Between two runs (every 5 s, the next may already be going): Ready, with the first run's result.
  let s: BackupStatus = {};
  await eventually(
    'the first scheduled run succeeded and the backup is Ready between runs',
    async () => {
      s = await status('every5s');
      return (
        s.history?.[0]?.phase === 'Succeeded' &&
        (s.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false)
      );
    },
    90_000,
  );
  // Later ticks may already have run with nothing new: the first stored run holds the records.
  assert.equal(s.storedRuns?.[0]?.records, 3000);
  assert.equal(s.storedRecords, 3000, 'status lists what storage holds');
  assert.ok(s.firstRecoverabilityPoint && s.lastRecoverabilityPoint);
  assert.ok(s.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));

  // A second run continues from the first: only the new records.
  await produceAll(source, topic, fidelityRecords(600, 3, 9));
  await eventually(
    'a later run stored the new records',
    async () => (await status('every5s')).storedRecords === 3600,
    60_000,
  );
  // Once warm (the first run may wait for the operator's start), a run starts at its second.
  await eventually(
    'a run has ended after a tick',
    async () => {
      const now = await status('every5s');
      s = now;
      return (
        now.phase === 'Ready' &&
        now.history?.[0]?.startTime !== undefined &&
        now.history[0].startTime >= (now.lastScheduleTime ?? '')
      );
    },
    30_000,
  );
  const tick = new Date(s.lastScheduleTime ?? '');
  assert.equal(
    tick.getUTCSeconds() % 5,
    0,
    `a run is scheduled on a 5-second mark, not ${s.lastScheduleTime}`,
  );
  assert.equal(tick.getUTCMilliseconds(), 0);
  // The run serves its tick: started at or after it, before the next one (how soon after depends
  // on the machine's load, which a test must not assert).
  const started = new Date(s.history?.[0]?.startTime ?? '');
  const late = started.getTime() - tick.getTime();
  assert.ok(late >= 0 && late < 5000, `started ${started.toISOString()} for the tick ${s.lastScheduleTime}`);
  const runs = s.storedRuns ?? [];
  assert.ok(runs.length >= 2);
  assert.equal(runs[0]?.records, 3000);
  assert.equal(
    runs.slice(1).reduce((sum, r) => sum + r.records, 0),
    600,
    'later runs are incremental: they store only what the first did not',
  );
  assert.ok(new Date(s.nextScheduleTime ?? '').getUTCSeconds() % 5 === 0);
  assert.ok(['Ready', 'Running'].includes(s.phase ?? ''), `phase ${s.phase}`);
  // Stop further runs before reading the bucket.
  await admin.kubectl([
    '-n',
    watched,
    'patch',
    'kafkabackups.kafka.oso.sh',
    'every5s',
    '--type=merge',
    '-p',
    '{"spec":{"suspend":true}}',
  ]);
  await eventually('suspended', async () => (await status('every5s')).phase === 'Suspended', 60_000);
  // A rerun requested by annotation runs even while suspended, once per new value.
  const runsBefore = (await status('every5s')).storedRunCount ?? 0;
  await admin.kubectl([
    '-n',
    watched,
    'annotate',
    '--overwrite',
    'kafkabackups.kafka.oso.sh',
    'every5s',
    'kafka.oso.sh/rerun=1',
  ]);
  await eventually(
    'the rerun ran',
    async () => {
      const now = await status('every5s');
      return (
        now.observedRerun === '1' && now.phase === 'Suspended' && (now.storedRunCount ?? 0) === runsBefore + 1
      );
    },
    60_000,
  );
  // Retention ran after every run; keepLast 100 keeps them all.
  const afterRerun = await status('every5s');
  assert.equal(afterRerun.retentionError, undefined);
  assert.equal(afterRerun.retentionInspectedBackups, afterRerun.storedRunCount);
  assert.equal(afterRerun.retentionDeletedBackups, 0);

  // The bucket holds every record.
  const store = await openMinioStore(s3, bucket, 'minio-creds', 'kb');
  const manifest = await (await new BackupRepository(store).open('every5s')).manifest();
  const stored = manifest.topics.flatMap((tp) => tp.partitions).reduce((sum, p) => sum + p.recordCount, 0);
  assert.equal(stored, 3600);

  // Events for each transition, metrics for the runs.
  const events = await admin.getJson<{
    items: Array<{ reason: string; note?: string; regarding?: { name: string } }>;
  }>(['-n', watched, 'events.events.k8s.io']);
  const reasons = new Set(events.items.filter((e) => e.regarding?.name === 'every5s').map((e) => e.reason));
  for (const reason of ['Scheduled', 'Started', 'Completed', 'Suspended'])
    assert.ok(reasons.has(reason), `Event ${reason}`);
  const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const succeeded = Number(
    /kafka_backup_runs_total\{kind="KafkaBackup",result="succeeded"\} (\d+)/.exec(metrics)?.[1],
  );
  assert.ok(succeeded >= 2, `runs_total succeeded ${succeeded}`);
  assert.match(
    metrics,
    /kafka_backup_last_success_timestamp_seconds\{kind="KafkaBackup",namespace="[^"]+",name="every5s"\} \d/,
  );
  // By kind: every5s is the only KafkaBackup that stored records in this operator.
  assert.match(metrics, /^kafka_backup_run_records_total\{kind="KafkaBackup"\} 3600$/m);
  // The live figures, the same families the CLI serves: every record read once over all runs.
  const live = (name: string) =>
    Number(
      new RegExp(`^${name}\\{kind="KafkaBackup",namespace="${watched}",name="every5s"\\} (\\S+)$`, 'm').exec(
        metrics,
      )?.[1],
    );
  assert.equal(live('kafka_backup_records_total'), 3600);
  assert.equal(live('kafka_backup_lag_records'), 0);
  assert.equal(live('kafka_backup_run_in_progress'), 0);
  assert.ok(live('kafka_backup_commits_total') >= 2);
  assert.match(
    metrics,
    /^kafka_backup_run_duration_seconds_count\{kind="KafkaBackup",result="succeeded"\} \d+$/m,
  );

  // Disaster recovery: the resource is gone (a fresh cluster), the same one is applied from Git;
  // before any run, its status lists what the bucket already holds.
  const storedBefore = (await status('every5s')).storedRuns?.map((r) => r.id);
  await admin.kubectl(['-n', watched, 'delete', 'kafkabackups.kafka.oso.sh', 'every5s', '--wait=true']);
  // Its per-resource series goes with it (none of a deleted resource stays on /metrics).
  await eventually('the deleted backup has no series', async () => {
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    return !/^kafka_backup_\w+\{[^}]*name="every5s"[^}]*\}/m.test(text);
  });
  await admin.apply(
    [
      {
        apiVersion: 'kafka.oso.sh/v1alpha1',
        kind: 'KafkaBackup',
        metadata: { name: 'every5s' },
        spec: backupSpec('minio-creds', { schedule: '*/5 * * * * *', suspend: true }),
      },
    ],
    watched,
  );
  await eventually(
    'the re-applied backup lists the stored runs',
    async () => (await status('every5s')).storedRecords === 3600,
    60_000,
  );
  const recovered = await status('every5s');
  assert.equal(recovered.lastRunId, undefined, 'nothing ran: the runs listed come from storage');
  assert.deepEqual(
    recovered.storedRuns?.map((r) => r.id),
    storedBefore,
  );

  // A Secret that does not exist: Stalled, saying what to create, retried (not a hot loop).
  await admin.apply(
    [
      {
        apiVersion: 'kafka.oso.sh/v1alpha1',
        kind: 'KafkaBackup',
        metadata: { name: 'no-secret' },
        spec: backupSpec('absent-creds'),
      },
    ],
    watched,
  );
  await eventually(
    'the backup without its Secret is Stalled',
    async () =>
      (await status('no-secret')).conditions?.some((c) => c.type === 'Stalled' && c.status === 'True') ??
      false,
    60_000,
  );
  const stalled = await status('no-secret');
  const condition = stalled.conditions?.find((c) => c.type === 'Stalled');
  assert.equal(stalled.phase, 'Failed');
  assert.match(condition?.message ?? '', /absent-creds/);
  assert.match(condition?.message ?? '', /does not exist|create/i);

  // A schedule the API server admits but that cannot run (a range written backwards): Stalled,
  // saying what to fix, until the spec changes.
  await admin.apply(
    [
      {
        apiVersion: 'kafka.oso.sh/v1alpha1',
        kind: 'KafkaBackup',
        metadata: { name: 'backwards' },
        spec: backupSpec('minio-creds', { schedule: '0 0 0 * * 6-2' }),
      },
    ],
    watched,
  );
  await eventually(
    'the backup with an impossible schedule is Stalled',
    async () =>
      (await status('backwards')).conditions?.some(
        (c) => c.type === 'Stalled' && c.status === 'True' && c.reason === 'InvalidSchedule',
      ) ?? false,
    30_000,
  );
  assert.match((await status('backwards')).message ?? '', /6-2.*fix spec.schedule/s);

  // Continuous: one long run, with its progress and checkpoints in status while it goes.
  await admin.apply(
    [
      {
        apiVersion: 'kafka.oso.sh/v1alpha1',
        kind: 'KafkaBackup',
        metadata: { name: 'stream' },
        spec: backupSpec('minio-creds', {
          continuous: true,
          stopAtCurrentOffsets: false,
          checkpoint: { intervalSecs: 1 },
          segmentMaxIntervalMs: 1000,
        }),
      },
    ],
    watched,
  );
  await eventually(
    'the continuous backup reports its progress',
    async () => {
      const now = await status('stream');
      return (
        now.phase === 'Running' &&
        now.recordsProcessed === 3600 &&
        now.lastCheckpointTime !== undefined &&
        now.storedRecords === 3600
      );
    },
    60_000,
  );
  assert.ok(
    (await status('stream')).conditions?.some((c) => c.type === 'Reconciling' && c.status === 'True'),
  );

  // No Secret value in status, Events or the operator's log.
  const everything = [
    JSON.stringify(await status('every5s')),
    JSON.stringify(stalled),
    JSON.stringify(await status('stream')),
    JSON.stringify(await admin.getJson(['-n', watched, 'events.events.k8s.io'])),
    operator.output(),
  ].join('\n');
  assert.ok(operator.output().length > 0, 'the operator logged');
  assert.equal(everything.includes(s3.secretAccessKey), false, 'the secret access key leaked');
});
