/**
 * The KafkaRestore, KafkaOffsetReset and KafkaOffsetRollback controllers in a real operator process
 * (the ServiceAccount token and exactly the RBAC lib/operator.ts synthesizes) against the real
 * kube-apiserver, both Kafka clusters and MinIO. The backup is written into MinIO by the backup use
 * case directly (the KafkaBackup controller is not needed): a KafkaBackup resource named as in the
 * seed (`production-backup`) only tells the restore where that backup lives.
 *
 * The seed's examples are applied as written; the only changes are the addresses (the seed's
 * `kafka:9092` is the test's target cluster) and metadata.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { backup } from '../../../runtime/app/backup.ts';
import { productionPorts } from '../../../runtime/app/ports.ts';
import { PlatformaticKafka } from '../../../runtime/kafka/platformatic-adapter.ts';
import { silentLogger } from '../../../runtime/log.ts';
import { need, uniqueName } from '../../env/fixture.ts';
import { createTopic, deleteTopic, endOffsets, kafkaConnection, produce } from '../../env/kafka-client.ts';
import type { KubeClient } from '../../env/kube-client.ts';
import { createS3Bucket, deleteS3Bucket, listS3Keys, s3Client } from '../../env/storage-clients.ts';
import { mapSecrets } from '../../unit/app/memory-ports.ts';
import { eventually, installOperator, minioSecret, minioStorage } from './operator-env.ts';
import { startReplica } from './operator-replica.ts';

const SECRET = 'minio-creds';
const GROUP = 'order-processor';
/** The seed PITR example's endTime. */
const END = Date.parse('2024-12-01T12:00:00Z');
const KEEP = { 'retention.ms': '-1' };

interface Status {
  phase?: string;
  message?: string;
  conditions?: Array<{
    type: string;
    status: string;
    reason: string;
    observedGeneration?: number;
    lastTransitionTime: string;
  }>;
  [field: string]: unknown;
}

test('seed examples: PITR KafkaRestore by backupRef.name, approval gate, from-mapping KafkaOffsetReset, KafkaOffsetRollback; Stalled, deadline, resume after an operator kill', {
  timeout: 300_000,
}, async (t) => {
  const kafka = need('kafka');
  const s3 = need('s3');
  const source = kafkaConnection(kafka, 'source');
  const target = kafkaConnection(kafka, 'target');
  const { admin, watched, kubeconfig } = await installOperator(t, { secretNames: [SECRET] });
  const bucket = await createS3Bucket(s3Client(s3), 'op-restore');
  const topic = uniqueName('orders');
  t.after(async () => {
    await deleteTopic(source, topic).catch(() => {});
    await deleteTopic(target, topic).catch(() => {});
    for (const suffix of ['approved', 'slow', 'deadline', 'groups']) {
      await deleteTopic(target, `${topic}-${suffix}`).catch(() => {});
    }
    await deleteS3Bucket(s3Client(s3), bucket).catch(() => {});
  });

  // Source: 12 records per partition before the PITR end, 5 after; the group has read 5 of partition 0.
  // Records from 2024: without retention.ms -1 the brokers' retention would delete them.
  await createTopic(source, topic, { partitions: 2, configs: KEEP });
  const records = [0, 1].flatMap((partition) =>
    Array.from({ length: 17 }, (_, i) => ({
      partition,
      key: `k${i}`,
      value: `p${partition}-${i}`,
      timestamp: BigInt(i < 12 ? END - 3_600_000 + i * 1000 : END + 3_600_000 + i * 1000),
    })),
  );
  await produce(source, topic, records, { idempotent: true });
  const sourceAdmin = new PlatformaticKafka({
    bootstrapServers: [kafka.source.bootstrap],
    securityProtocol: 'PLAINTEXT',
  });
  await sourceAdmin.commitOffsets(GROUP, [{ topic, partition: 0, offset: 5n }]);
  await sourceAdmin.close();

  // The backup, written into MinIO with the consumer group snapshot.
  const storage = minioStorage(s3, bucket, SECRET, 'backups');
  const backupSpec = {
    kafkaCluster: { bootstrapServers: [kafka.source.bootstrap] },
    topics: [topic],
    storage,
    consumerGroupSnapshot: true,
    stopAtCurrentOffsets: true,
  };
  const secrets = mapSecrets({
    [`${SECRET}/AWS_ACCESS_KEY_ID`]: s3.accessKeyId,
    [`${SECRET}/AWS_SECRET_ACCESS_KEY`]: s3.secretAccessKey,
  });
  const written = await backup(backupSpec, productionPorts({ log: silentLogger, secrets }), {
    context: { source: 'test', name: 'production-backup' },
  });
  assert.equal(written.backupId, 'production-backup');

  // The target topic exists with 3 records of its own: restored offsets are shifted by 3 on partition 0.
  await createTopic(target, topic, { partitions: 2, configs: KEEP });
  await produce(
    target,
    topic,
    [0, 1, 2].map((i) => ({ partition: 0, value: `old-${i}` })),
    { idempotent: true },
  );
  // A committed offset on the target before the reset, which the rollback must bring back.
  const targetAdmin = new PlatformaticKafka({
    bootstrapServers: [kafka.target.bootstrap],
    securityProtocol: 'PLAINTEXT',
  });
  t.after(() => targetAdmin.close());
  await targetAdmin.commitOffsets(GROUP, [{ topic, partition: 0, offset: 1n }]);

  await admin.apply(
    [
      minioSecret(s3, SECRET),
      {
        apiVersion: 'kafka.oso.sh/v1alpha1',
        kind: 'KafkaBackup',
        metadata: { name: 'production-backup' },
        spec: backupSpec,
      },
    ],
    watched,
  );

  let operator = startReplica('op-restore', { kubeconfig, watched });
  t.after(() => operator.child.kill('SIGKILL'));
  const targetBootstrap = kafka.target.bootstrap;

  // Approval Manual: the plan is published and nothing happens until approved.
  await admin.apply(
    [
      {
        apiVersion: 'kafka.oso.sh/v1alpha1',
        kind: 'KafkaRestore',
        metadata: { name: 'approved-restore' },
        spec: {
          backupRef: { name: 'production-backup' },
          kafkaCluster: { bootstrapServers: [targetBootstrap] },
          topicMapping: { [topic]: `${topic}-approved` },
          createTopics: true,
          approval: { policy: 'Manual' },
        },
      },
    ],
    watched,
  );
  const waiting = await waitForPhase(
    admin,
    watched,
    'kafkarestores',
    'approved-restore',
    ['AwaitingApproval', 'Failed'],
    () => operator.output(),
  );
  assert.equal(waiting.phase, 'AwaitingApproval', waiting.message);
  assert.equal(condition(waiting, 'Approved')?.status, 'False');
  assert.deepEqual((waiting.plan as { topics: string[] }).topics, [`${topic}-approved`]);
  assert.equal(waiting.startTime, undefined, 'not started');
  await sleep(2000);
  assert.equal(
    (await getStatus(admin, watched, 'kafkarestores', 'approved-restore')).phase,
    'AwaitingApproval',
  );
  await admin.kubectl([
    '-n',
    watched,
    'patch',
    'kafkarestores.kafka.oso.sh',
    'approved-restore',
    '--type=merge',
    '-p',
    '{"spec":{"approval":{"approved":true}}}',
  ]);
  const approved = await waitForPhase(
    admin,
    watched,
    'kafkarestores',
    'approved-restore',
    ['Completed', 'Failed'],
    () => operator.output(),
  );
  assert.equal(approved.phase, 'Completed', approved.message);
  assert.equal(condition(approved, 'Approved')?.status, 'True');
  assert.equal(approved.recordsRestored, 34, 'no window: every record');

  // The seed's PITR example; kafka:9092 is the target cluster here.
  await admin.apply(
    `apiVersion: kafka.oso.sh/v1alpha1
kind: KafkaRestore
metadata:
  name: pitr-restore
spec:
  backupRef:
    name: production-backup
  pitr:
    endTime: "2024-12-01T12:00:00Z"
  kafkaCluster:
    bootstrapServers:
    - ${targetBootstrap}
`,
    watched,
  );
  const restoreStatus = await waitForPhase(
    admin,
    watched,
    'kafkarestores',
    'pitr-restore',
    ['Completed', 'Failed'],
    () => operator.output(),
  );
  assert.equal(restoreStatus.phase, 'Completed', restoreStatus.message);
  assert.equal(condition(restoreStatus, 'Ready')?.status, 'True');
  assert.equal(condition(restoreStatus, 'Reconciling')?.status, 'False');
  assert.equal(condition(restoreStatus, 'Stalled')?.status, 'False');
  assert.equal(condition(restoreStatus, 'Ready')?.observedGeneration, 1);
  assert.equal(restoreStatus.recordsRestored, 24, 'the 12 records per partition inside the window');
  assert.equal(restoreStatus.progressPercent, 100);
  assert.equal(restoreStatus.segmentsProcessed, 2, 'one segment per partition was read');
  assert.equal(restoreStatus.backupId, 'production-backup');
  assert.ok(restoreStatus.startTime && restoreStatus.completionTime);
  assert.match(String(restoreStatus.offsetMappingPath), /^offset-mappings\//);
  assert.deepEqual((restoreStatus.plan as { topics: string[] }).topics, [topic]);
  assert.deepEqual(
    (await endOffsets(target, topic)).map(Number),
    [15, 12],
    'partition 0: 3 records of its own + 12 restored; partition 1: 12 restored',
  );
  const events = await admin.getJson<{ items: Array<{ reason: string; regarding: { name: string } }> }>([
    '-n',
    watched,
    'events.events.k8s.io',
  ]);
  const reasons = events.items.filter((e) => e.regarding.name === 'pitr-restore').map((e) => e.reason);
  assert.ok(reasons.includes('RestoreStarted') && reasons.includes('RestoreCompleted'), reasons.join(','));

  // The seed's from-mapping example, as written: without offsetMappingRef the mapping of the latest
  // completed restore (pitr-restore, into `topic`) is used.
  await admin.apply(
    `apiVersion: kafka.oso.sh/v1alpha1
kind: KafkaOffsetReset
metadata:
  name: reset-after-restore
spec:
  resetStrategy: from-mapping
  consumerGroups:
  - order-processor
  kafkaCluster:
    bootstrapServers:
    - ${targetBootstrap}
`,
    watched,
  );
  const reset = await waitForPhase(
    admin,
    watched,
    'kafkaoffsetresets',
    'reset-after-restore',
    ['Completed', 'Failed', 'PartiallyCompleted'],
    () => operator.output(),
  );
  assert.equal(reset.phase, 'Completed', reset.message);
  assert.equal(reset.groupsReset, 1);
  assert.ok(typeof reset.snapshotId === 'string', 'a snapshot was taken before the reset');
  const afterReset = await committed(targetAdmin, GROUP);
  // Source offset 5 of partition 0 is target offset 8: the target partition had 3 records before.
  assert.equal(afterReset.get(`${topic}/0`), 8n, String([...afterReset]));

  // The rollback, by the name of the reset that took the snapshot.
  await admin.apply(
    [
      {
        apiVersion: 'kafka.oso.sh/v1alpha1',
        kind: 'KafkaOffsetRollback',
        metadata: { name: 'undo-reset' },
        spec: {
          snapshotRef: { name: 'reset-after-restore', offsetResetRef: 'reset-after-restore' },
          kafkaCluster: { bootstrapServers: [targetBootstrap] },
        },
      },
    ],
    watched,
  );
  const rollback = await waitForPhase(
    admin,
    watched,
    'kafkaoffsetrollbacks',
    'undo-reset',
    ['Completed', 'Failed', 'PartiallyCompleted'],
    () => operator.output(),
  );
  assert.equal(rollback.phase, 'Completed', rollback.message);
  assert.equal(rollback.verified, true);
  const afterRollback = await committed(targetAdmin, GROUP);
  assert.equal(afterRollback.get(`${topic}/0`), 1n, 'the offset from before the reset');

  // A KafkaBackup that does not exist yet: Stalled with what to fix, then it runs once it exists.
  const restoreOf = (name: string, spec: Record<string, unknown>) => ({
    apiVersion: 'kafka.oso.sh/v1alpha1',
    kind: 'KafkaRestore',
    metadata: { name },
    spec: { kafkaCluster: { bootstrapServers: [targetBootstrap] }, ...spec },
  });
  await admin.apply(
    [
      restoreOf('waits-for-backup', {
        backupRef: { name: 'late-backup', backupId: 'production-backup' },
        dryRun: true,
      }),
    ],
    watched,
  );
  await eventually('waits-for-backup is Stalled', async () => {
    const s = await getStatus(admin, watched, 'kafkarestores', 'waits-for-backup');
    return condition(s, 'Stalled')?.status === 'True';
  });
  const stalled = await getStatus(admin, watched, 'kafkarestores', 'waits-for-backup');
  assert.equal(stalled.phase, 'Pending');
  assert.equal(condition(stalled, 'Stalled')?.reason, 'ReferenceNotFound');
  assert.match(stalled.message ?? '', /KafkaBackup \S+\/late-backup \(backupRef.name\) does not exist/);
  await admin.apply(
    [
      {
        apiVersion: 'kafka.oso.sh/v1alpha1',
        kind: 'KafkaBackup',
        metadata: { name: 'late-backup' },
        spec: backupSpec,
      },
    ],
    watched,
  );
  const dry = await waitForPhase(
    admin,
    watched,
    'kafkarestores',
    'waits-for-backup',
    ['Completed', 'Failed'],
    () => operator.output(),
  );
  assert.equal(dry.phase, 'Completed', dry.message);
  assert.match(dry.message ?? '', /^dry run: would restore up to 34 records/);

  // activeDeadlineSeconds: a run slowed to 1 record/s is stopped and fails.
  await admin.apply(
    [
      restoreOf('deadline-restore', {
        backupRef: { name: 'production-backup' },
        topicMapping: { [topic]: `${topic}-deadline` },
        createTopics: true,
        rateLimiting: { recordsPerSec: 1 },
        activeDeadlineSeconds: 3,
      }),
    ],
    watched,
  );
  const late = await waitForPhase(
    admin,
    watched,
    'kafkarestores',
    'deadline-restore',
    ['Completed', 'Failed'],
    () => operator.output(),
  );
  assert.equal(late.phase, 'Failed');
  assert.equal(condition(late, 'Ready')?.reason, 'DeadlineExceeded');

  // An operator killed while a restore runs: the next one resumes it, with no duplicate and no gap.
  await admin.apply(
    [
      restoreOf('slow-restore', {
        backupRef: { name: 'production-backup' },
        topicMapping: { [topic]: `${topic}-slow` },
        createTopics: true,
        rateLimiting: { recordsPerSec: 2 },
      }),
    ],
    watched,
  );
  await eventually(
    'slow-restore has written records',
    async () =>
      Number((await getStatus(admin, watched, 'kafkarestores', 'slow-restore')).recordsRestored ?? 0) > 0,
    60_000,
  );
  const firstLogs = operator.output();
  operator.child.kill('SIGKILL');
  await operator.exit;
  assert.equal((await getStatus(admin, watched, 'kafkarestores', 'slow-restore')).phase, 'Running');
  operator = startReplica('op-restore', { kubeconfig, watched });
  const resumed = await waitForPhase(
    admin,
    watched,
    'kafkarestores',
    'slow-restore',
    ['Completed', 'Failed'],
    () => operator.output(),
  );
  assert.equal(resumed.phase, 'Completed', resumed.message);
  assert.match(resumed.message ?? '', /resumed from a checkpoint/);
  const slowEnds = await endOffsets(target, `${topic}-slow`);
  assert.equal(
    slowEnds.reduce((a, b) => a + b, 0n),
    34n,
    'every record once',
  );
  const resumedEvents = await admin.getJson<{
    items: Array<{ reason: string; regarding: { name: string } }>;
  }>(['-n', watched, 'events.events.k8s.io']);
  assert.ok(
    resumedEvents.items.some((e) => e.regarding.name === 'slow-restore' && e.reason === 'RestoreResumed'),
  );

  // autoConsumerGroups: the group's offsets are translated and committed after the data, with a
  // snapshot first (rollback.snapshotBeforeRestore defaults to true) that expires per retention.
  await admin.apply(
    [
      restoreOf('groups-restore', {
        backupRef: { name: 'production-backup' },
        topicMapping: { [topic]: `${topic}-groups` },
        createTopics: true,
        autoConsumerGroups: true,
        rollback: { snapshotRetentionHours: 2 },
      }),
    ],
    watched,
  );
  const withGroups = await waitForPhase(
    admin,
    watched,
    'kafkarestores',
    'groups-restore',
    ['Completed', 'Failed'],
    () => operator.output(),
  );
  assert.equal(withGroups.phase, 'Completed', withGroups.message);
  const rollbackStatus = withGroups.rollback as {
    snapshotId: string;
    snapshotTime: string;
    expiresAt: string;
    rollbackAvailable: boolean;
  };
  assert.match(rollbackStatus.snapshotId, /^snap-/);
  assert.equal(rollbackStatus.rollbackAvailable, true);
  assert.equal(Date.parse(rollbackStatus.expiresAt) - Date.parse(rollbackStatus.snapshotTime), 2 * 3_600_000);
  assert.equal((await committed(targetAdmin, GROUP)).get(`${topic}-groups/0`), 5n);

  // While its snapshot can be rolled back to, the restore holds a finalizer; deleting the restore
  // deletes the snapshot from storage, then the resource goes.
  const snapshotKeys = async () =>
    (await listS3Keys(s3Client(s3), bucket)).filter((k) => k.includes(rollbackStatus.snapshotId));
  assert.equal((await snapshotKeys()).length, 1);
  await eventually('the restore holds its finalizer', async () => {
    const o = await admin.getJson<{ metadata: { finalizers?: string[] } }>([
      '-n',
      watched,
      'kafkarestores.kafka.oso.sh',
      'groups-restore',
    ]);
    return o.metadata.finalizers?.includes('kafka.oso.sh/offset-snapshot') ?? false;
  });
  await admin.kubectl([
    '-n',
    watched,
    'delete',
    'kafkarestores.kafka.oso.sh',
    'groups-restore',
    '--wait=true',
  ]);
  assert.deepEqual(await snapshotKeys(), [], 'the snapshot went with the restore');

  // Secrets never reach status, Events or logs.
  const everything = JSON.stringify([
    await admin.getJson([
      '-n',
      watched,
      'kafkarestores.kafka.oso.sh,kafkaoffsetresets.kafka.oso.sh,kafkaoffsetrollbacks.kafka.oso.sh',
    ]),
    await admin.getJson(['-n', watched, 'events.events.k8s.io']),
  ]);
  assert.ok(!everything.includes(s3.secretAccessKey), 'no secret in status or Events');
  assert.ok(!(firstLogs + operator.output()).includes(s3.secretAccessKey), 'no secret in the logs');
});

async function getStatus(
  admin: KubeClient,
  namespace: string,
  plural: string,
  name: string,
): Promise<Status> {
  const object = await admin.getJson<{ status?: Status }>(['-n', namespace, `${plural}.kafka.oso.sh`, name]);
  return object.status ?? {};
}

async function waitForPhase(
  admin: KubeClient,
  namespace: string,
  plural: string,
  name: string,
  phases: string[],
  output: () => string,
): Promise<Status> {
  let last: Status = {};
  try {
    await eventually(
      `${plural}/${name} reaches ${phases.join(' or ')}`,
      async () => {
        last = await getStatus(admin, namespace, plural, name);
        return phases.includes(last.phase ?? '');
      },
      120_000,
    );
  } catch (error) {
    throw new Error(
      `${(error as Error).message}; status: ${JSON.stringify(last)}; operator: ${output().slice(-4000)}`,
    );
  }
  return last;
}

function condition(status: Status, type: string) {
  return status.conditions?.find((c) => c.type === type);
}

async function committed(admin: PlatformaticKafka, group: string): Promise<Map<string, bigint>> {
  const offsets = await admin.committedOffsets(group);
  return new Map(offsets.map((o) => [`${o.topic}/${o.partition}`, o.offset]));
}
