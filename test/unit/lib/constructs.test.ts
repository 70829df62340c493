import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type App, Chart, Duration, Size, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-34';
import {
  AzureBlobAuth,
  BackupSource,
  BackupStorage,
  Compression,
  ConcurrencyPolicy,
  Encryption,
  KafkaBackupSchedule,
  KafkaBackupValidationPlan,
  KafkaClusterConnection,
  KafkaOffsetResetPlan,
  KafkaOffsetRollbackPlan,
  KafkaRestorePlan,
  OffsetResetStrategy,
  ProduceAcks,
  RepartitionStrategy,
  Schedule,
} from '../../../lib/index.ts';

type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  // biome-ignore lint/suspicious/noExplicitAny: synthesized manifests are free-form JSON
  [key: string]: any;
};

const cluster = KafkaClusterConnection.plaintext('kafka:9092');
const storage = BackupStorage.s3({
  bucket: 'kafka-backups',
  region: 'us-west-2',
  credentialsSecret: 's3-credentials',
});

function chart(): Chart {
  return new Chart(Testing.app(), 'test', { namespace: 'team-a' });
}
function synth(c: Chart): Manifest[] {
  return Testing.synth(c) as Manifest[];
}
function only(c: Chart, kind: string): Manifest {
  const found = synth(c).filter((m) => m.kind === kind);
  assert.equal(found.length, 1, kind);
  return found[0] as Manifest;
}
/** Runs the app's validation the way `cdk8s synth` does and returns the error text. */
function synthError(c: Chart): string {
  try {
    (c.node.scope as App).synthYaml();
  } catch (e) {
    return (e as Error).message;
  }
  return 'no error';
}

describe('KafkaBackupSchedule', () => {
  test('writes the seed hourly backup exactly', () => {
    const c = chart();
    new KafkaBackupSchedule(c, 'Hourly', {
      metadata: { name: 'hourly-backup' },
      cluster,
      storage,
      topics: ['orders', 'payments'],
      schedule: Schedule.cron('0 0 * * * * *'),
    });
    const kb = only(c, 'KafkaBackup');
    assert.equal(kb.apiVersion, 'kafka.oso.sh/v1alpha1');
    assert.deepEqual(kb.metadata, { name: 'hourly-backup', namespace: 'team-a' });
    assert.deepEqual(kb.spec, {
      kafkaCluster: { bootstrapServers: ['kafka:9092'] },
      topics: ['orders', 'payments'],
      storage: {
        storageType: 's3',
        s3: { bucket: 'kafka-backups', region: 'us-west-2', credentialsSecret: { name: 's3-credentials' } },
      },
      stopAtCurrentOffsets: true,
      schedule: '0 0 * * * * *',
    });
  });

  test('maps every option to its field', () => {
    const c = chart();
    const backup = new KafkaBackupSchedule(c, 'Full', {
      cluster,
      storage: BackupStorage.azureBlob({
        container: 'backups',
        accountName: 'acct1',
        auth: AzureBlobAuth.sasToken('sas'),
      }),
      topics: ['orders-*'],
      excludeTopics: ['orders-debug'],
      schedule: Schedule.dailyAt(1, 15, { timeZone: 'Europe/Berlin' }),
      suspend: true,
      concurrencyPolicy: ConcurrencyPolicy.REPLACE,
      successfulRunsHistoryLimit: 5,
      failedRunsHistoryLimit: 2,
      compression: Compression.gzip(9),
      encryption: Encryption.aes256Gcm({ keySecret: 'enc', key: 'k' }),
      consumerGroupSnapshot: true,
      retention: { maxAge: Duration.days(7), keepLast: 10, minSuccessful: 2, dryRun: true },
      checkpointInterval: Duration.seconds(15),
      rateLimit: { recordsPerSecond: 1000, bytesPerSecond: 1_000_000, maxConcurrentPartitions: 8 },
      circuitBreaker: {
        failureThreshold: 3,
        resetTimeout: Duration.seconds(30),
        operationTimeout: Duration.seconds(10),
      },
      segmentMaxSize: Size.mebibytes(64),
      segmentMaxInterval: Duration.seconds(30),
      sourceClusterId: 'prod-eu',
      runDeadline: Duration.hours(2),
      includeInternalTopics: true,
    });
    backup.addTopics('payments');
    backup.excludeTopics('orders-tmp-*');
    const spec = only(c, 'KafkaBackup').spec;
    assert.deepEqual(spec.topics, ['orders-*', 'payments']);
    assert.deepEqual(spec.excludeTopics, ['orders-debug', 'orders-tmp-*']);
    assert.equal(spec.schedule, '0 15 1 * * *');
    assert.equal(spec.timeZone, 'Europe/Berlin');
    assert.equal(spec.suspend, true);
    assert.equal(spec.concurrencyPolicy, 'Replace');
    assert.equal(spec.successfulRunsHistoryLimit, 5);
    assert.equal(spec.failedRunsHistoryLimit, 2);
    assert.equal(spec.compression, 'gzip');
    assert.equal(spec.compressionLevel, 9);
    assert.deepEqual(spec.encryption, { algorithm: 'AES-256-GCM', keySecret: { name: 'enc', key: 'k' } });
    assert.equal(spec.consumerGroupSnapshot, true);
    assert.deepEqual(spec.retention, {
      enabled: true,
      maxAgeDays: 7,
      keepLast: 10,
      minSuccessful: 2,
      dryRun: true,
    });
    assert.deepEqual(spec.checkpoint, { enabled: true, intervalSecs: 15 });
    assert.deepEqual(spec.rateLimiting, {
      recordsPerSec: 1000,
      bytesPerSec: 1_000_000,
      maxConcurrentPartitions: 8,
    });
    assert.deepEqual(spec.circuitBreaker, {
      enabled: true,
      failureThreshold: 3,
      resetTimeoutSecs: 30,
      operationTimeoutMs: 10000,
    });
    assert.equal(spec.segmentMaxBytes, 64 * 1024 * 1024);
    assert.equal(spec.segmentMaxIntervalMs, 30000);
    assert.equal(spec.sourceClusterId, 'prod-eu');
    assert.equal(spec.activeDeadlineSeconds, 7200);
    assert.equal(spec.includeInternalTopics, true);
    assert.deepEqual(spec.storage.azure.sasTokenSecret, { name: 'sas' });
    assert.deepEqual(backup.secretNames, ['enc', 'sas']);
  });

  test('includeOffsetHeaders: false is refused at synth (offsets are always recorded)', () => {
    assert.throws(
      () =>
        new KafkaBackupSchedule(chart(), 'X', {
          cluster,
          storage,
          topics: ['t'],
          includeOffsetHeaders: false,
        }),
      /includeOffsetHeaders: false is not supported: every backup records the original offsets/,
    );
  });

  test('continuous backups neither stop at current offsets nor take a schedule', () => {
    const c = chart();
    new KafkaBackupSchedule(c, 'Stream', { cluster, storage, topics: ['t'], continuous: true });
    const spec = only(c, 'KafkaBackup').spec;
    assert.equal(spec.continuous, true);
    assert.equal(spec.stopAtCurrentOffsets, undefined);
    const base = { cluster, storage, topics: ['t'], continuous: true };
    assert.throws(
      () => new KafkaBackupSchedule(chart(), 'X', { ...base, schedule: Schedule.hourly() }),
      /a continuous backup never ends, so it cannot also have a schedule/,
    );
    assert.throws(
      () => new KafkaBackupSchedule(chart(), 'X', { ...base, stopAtCurrentOffsets: true }),
      /continuous and stopAtCurrentOffsets exclude each other/,
    );
    assert.throws(
      () => new KafkaBackupSchedule(chart(), 'X', { ...base, runDeadline: Duration.hours(1) }),
      /runDeadline would always stop it/,
    );
  });

  test('refuses retention without a limit, and reports CRD violations at synth with the field', () => {
    assert.throws(
      () =>
        new KafkaBackupSchedule(chart(), 'X', {
          cluster,
          storage,
          topics: ['t'],
          retention: { dryRun: true },
        }),
      /retention needs maxAge, keepLast or both/,
    );
    const c = chart();
    new KafkaBackupSchedule(c, 'NoTopics', { cluster, storage });
    new KafkaBackupSchedule(c, 'BadTopic', {
      cluster,
      storage,
      topics: ['orders!'],
      compression: Compression.zstd(20),
    });
    const message = synthError(c);
    assert.match(
      message,
      /\[test\/NoTopics\] spec.topics: Invalid value: 0: spec.topics in body should have at least 1 items/,
    );
    assert.match(
      message,
      /\[test\/BadTopic\] spec.topics\[0\]: Invalid value: "orders!": a topic pattern may contain only/,
    );
  });

  test('grantTrigger and grantRead make a Role on this one object and bind it', () => {
    const c = chart();
    const backup = new KafkaBackupSchedule(c, 'B', {
      metadata: { name: 'orders' },
      cluster,
      storage,
      topics: ['t'],
    });
    const sa = kplus.ServiceAccount.fromServiceAccountName(c, 'Ci', 'ci-bot');
    const binding = backup.grantTrigger(sa);
    backup.grantRead(kplus.User.fromName(c, 'Alice', 'alice'));
    const objects = synth(c);
    const roles = objects.filter((o) => o.kind === 'Role');
    assert.deepEqual(
      roles.map((r) => [r.metadata.namespace, r.rules]),
      [
        [
          'team-a',
          [
            {
              apiGroups: ['kafka.oso.sh'],
              resources: ['kafkabackups'],
              resourceNames: ['orders'],
              verbs: ['get', 'patch'],
            },
          ],
        ],
        [
          'team-a',
          [
            {
              apiGroups: ['kafka.oso.sh'],
              resources: ['kafkabackups'],
              resourceNames: ['orders'],
              verbs: ['get', 'list', 'watch'],
            },
          ],
        ],
      ],
    );
    const bindings = objects.filter((o) => o.kind === 'RoleBinding');
    assert.equal(bindings.length, 2);
    assert.equal(bindings[0]?.roleRef.name, roles[0]?.metadata.name);
    assert.deepEqual(
      bindings.map((b) => b.subjects.map((s: Manifest) => `${s.kind}/${s.name}`)),
      [['ServiceAccount/ci-bot'], ['User/alice']],
    );
    assert.match(binding.name, /^orders-trigger-[0-9a-f]{8}$/);
  });
});

describe('KafkaRestorePlan', () => {
  test('writes the seed point-in-time restore exactly', () => {
    const c = chart();
    new KafkaRestorePlan(c, 'Pitr', {
      metadata: { name: 'pitr-restore' },
      source: BackupSource.fromBackupName('production-backup'),
      pointInTime: { end: new Date('2024-12-01T12:00:00Z') },
      cluster,
    });
    assert.deepEqual(only(c, 'KafkaRestore').spec, {
      backupRef: { name: 'production-backup' },
      pitr: { endTime: '2024-12-01T12:00:00Z' },
      kafkaCluster: { bootstrapServers: ['kafka:9092'] },
    });
  });

  test('maps every option, references a backup of the app, and takes mapTopic() calls', () => {
    const c = chart();
    const other = new Chart(c.node.scope as App, 'other', { namespace: 'team-b' });
    const backup = new KafkaBackupSchedule(other, 'B', {
      metadata: { name: 'nightly' },
      cluster,
      storage,
      topics: ['t'],
    });
    const plan = new KafkaRestorePlan(c, 'R', {
      source: BackupSource.fromBackup(backup, { backupId: 'nightly-20260101-020000' }),
      cluster,
      topics: ['orders'],
      excludeTopics: ['orders-debug'],
      topicConfigs: { 'orders-copy': { 'retention.ms': '-1' } },
      topicMapping: { orders: 'orders-copy' },
      partitionMapping: { 0: 3 },
      pointInTime: { start: new Date('2026-01-01T00:00:00.500Z'), end: new Date('2026-01-02T00:00:00Z') },
      repartitioning: { 'orders-copy': { targetPartitions: 12, strategy: RepartitionStrategy.MURMUR2 } },
      offsetReset: { consumerGroups: ['app'], strategy: 'header-based' },
      autoConsumerGroups: true,
      purgeTopics: true,
      createTopics: true,
      defaultReplicationFactor: 3,
      produceAcks: ProduceAcks.LEADER,
      produceBatchSize: 500,
      produceTimeout: Duration.seconds(10),
      dryRun: true,
      requireApproval: true,
      runDeadline: Duration.minutes(30),
    });
    plan.mapTopic('payments', 'payments-copy');
    const spec = only(c, 'KafkaRestore').spec;
    assert.deepEqual(spec.backupRef, {
      name: 'nightly',
      namespace: 'team-b',
      backupId: 'nightly-20260101-020000',
    });
    assert.deepEqual(spec.topicMapping, { orders: 'orders-copy', payments: 'payments-copy' });
    assert.deepEqual(spec.partitionMapping, { '0': 3 });
    assert.deepEqual(spec.excludeTopics, ['orders-debug']);
    assert.deepEqual(spec.topicConfigs, { 'orders-copy': { 'retention.ms': '-1' } });
    assert.deepEqual(spec.pitr, { startTime: '2026-01-01T00:00:00.500Z', endTime: '2026-01-02T00:00:00Z' });
    assert.deepEqual(spec.repartitioning, { 'orders-copy': { targetPartitions: 12, strategy: 'murmur2' } });
    assert.deepEqual(spec.offsetReset, { enabled: true, consumerGroups: ['app'], strategy: 'header-based' });
    assert.equal(spec.produceAcks, 1);
    assert.equal(spec.produceBatchSize, 500);
    assert.equal(spec.produceTimeoutMs, 10000);
    assert.deepEqual(spec.approval, { policy: 'Manual' });
    assert.equal(spec.activeDeadlineSeconds, 1800);
    for (const flag of ['autoConsumerGroups', 'purgeTopics', 'createTopics', 'dryRun'])
      assert.equal(spec[flag], true, flag);
    assert.throws(
      () => plan.mapTopic('orders', 'elsewhere'),
      /topic "orders" is already mapped to "orders-copy"/,
    );
  });

  test('reads directly from storage with a backup id', () => {
    const c = chart();
    new KafkaRestorePlan(c, 'R', { source: BackupSource.fromStorage(storage, 'set-1'), cluster });
    const ref = only(c, 'KafkaRestore').spec.backupRef;
    assert.equal(ref.name, '');
    assert.equal(ref.backupId, 'set-1');
    assert.equal(ref.storage.storageType, 's3');
  });

  test('refuses impossible combinations with the reason', () => {
    const end = new Date('2024-01-01T00:00:00Z');
    assert.throws(
      () =>
        new KafkaRestorePlan(chart(), 'R', {
          source: BackupSource.fromBackupName('b'),
          cluster,
          pointInTime: { start: end, end },
        }),
      /pointInTime.start \(2024-01-01T00:00:00.000Z\) must be before pointInTime.end/,
    );
    assert.throws(
      () =>
        new KafkaRestorePlan(chart(), 'R', {
          source: BackupSource.fromBackupName('b'),
          cluster,
          defaultReplicationFactor: 3,
        }),
      /defaultReplicationFactor only applies with createTopics: true/,
    );
    assert.throws(
      () =>
        new KafkaRestorePlan(chart(), 'R', {
          source: BackupSource.fromBackupName('b'),
          cluster,
          topicConfigs: { t: { 'retention.ms': '1' } },
        }),
      /topicConfigs only apply to topics the restore creates; set createTopics: true/,
    );
    assert.throws(() => BackupSource.fromBackupName('Prod'), /"Prod" is not a valid KafkaBackup name/);
    assert.throws(() => BackupSource.fromStorage(storage, ''), /name the backup set/);
  });
});

describe('KafkaOffsetResetPlan', () => {
  test('writes the seed reset exactly', () => {
    const c = chart();
    new KafkaOffsetResetPlan(c, 'Reset', {
      metadata: { name: 'reset-after-restore' },
      strategy: OffsetResetStrategy.fromMapping(),
      consumerGroups: ['order-processor'],
      cluster,
    });
    assert.deepEqual(only(c, 'KafkaOffsetReset').spec, {
      resetStrategy: 'from-mapping',
      consumerGroups: ['order-processor'],
      kafkaCluster: { bootstrapServers: ['kafka:9092'] },
    });
  });

  test('each strategy writes its own fields', () => {
    const spec = (strategy: OffsetResetStrategy) => {
      const c = chart();
      new KafkaOffsetResetPlan(c, 'R', {
        strategy,
        consumerGroups: ['g'],
        cluster,
        topics: ['t'],
        dryRun: true,
      });
      return only(c, 'KafkaOffsetReset').spec;
    };
    assert.equal(spec(OffsetResetStrategy.toEarliest()).resetStrategy, 'to-earliest');
    assert.equal(spec(OffsetResetStrategy.toLatest()).resetStrategy, 'to-latest');
    assert.equal(
      spec(OffsetResetStrategy.toTimestamp(new Date('2024-12-01T12:00:00Z'))).resetTimestamp,
      1733054400000,
    );
    assert.equal(spec(OffsetResetStrategy.toOffset(42)).resetOffset, 42);
    assert.deepEqual(spec(OffsetResetStrategy.fromRestore('r1')).offsetMappingRef, { restoreName: 'r1' });
    assert.deepEqual(spec(OffsetResetStrategy.fromMappingFile('m.json', 'pvc')).offsetMappingRef, {
      path: 'm.json',
      pvcName: 'pvc',
    });
    const shifted = spec(OffsetResetStrategy.shiftBy(-100));
    assert.equal(shifted.resetStrategy, 'shift-by');
    assert.equal(shifted.resetShift, -100);
    const fromId = spec(OffsetResetStrategy.fromSnapshot('snap-1'));
    assert.equal(fromId.resetStrategy, 'from-snapshot');
    assert.deepEqual(fromId.snapshotRef, { name: 'snap-1' });
    assert.deepEqual(
      spec(OffsetResetStrategy.fromSnapshot({ name: 'snap-2', restore: { name: 'pitr' } })).snapshotRef,
      { name: 'snap-2', restoreRef: 'pitr' },
    );
    const full = spec(OffsetResetStrategy.toLatest());
    assert.deepEqual(full.topics, ['t']);
    assert.equal(full.dryRun, true);
  });

  test('refuses empty or duplicate groups and bad strategy arguments', () => {
    const base = { strategy: OffsetResetStrategy.toLatest(), cluster };
    assert.throws(
      () => new KafkaOffsetResetPlan(chart(), 'R', { ...base, consumerGroups: [] }),
      /at least one consumer group/,
    );
    assert.throws(
      () => new KafkaOffsetResetPlan(chart(), 'R', { ...base, consumerGroups: ['a', 'a'] }),
      /"a" is listed twice/,
    );
    assert.throws(() => OffsetResetStrategy.toOffset(-1), /the offset must be a whole number, 0 or more/);
    assert.throws(() => OffsetResetStrategy.toTimestamp(new Date('nope')), /the Date is invalid/);
    assert.throws(() => OffsetResetStrategy.shiftBy(0), /whole number other than 0/);
    assert.throws(() => OffsetResetStrategy.shiftBy(1.5), /whole number other than 0/);
    assert.throws(() => OffsetResetStrategy.shiftBy(-2e12), /between -1000000000000 and 1000000000000/);
    assert.throws(() => OffsetResetStrategy.fromSnapshot(''), /snapshot name \(its id\) is empty/);
    assert.throws(
      () => OffsetResetStrategy.fromSnapshot({ name: 's', restore: 'r', offsetReset: 'o' }),
      /snapshot.restore and snapshot.offsetReset exclude each other/,
    );
  });
});

describe('KafkaOffsetRollbackPlan', () => {
  test('references the snapshot and the plan that took it', () => {
    const c = chart();
    const reset = new KafkaOffsetResetPlan(c, 'Reset', {
      metadata: { name: 'translate' },
      strategy: OffsetResetStrategy.toLatest(),
      consumerGroups: ['g'],
      cluster,
    });
    new KafkaOffsetRollbackPlan(c, 'Rollback', {
      cluster,
      snapshot: { name: 'snap-1', offsetReset: reset },
      consumerGroups: ['g'],
      verifyAfterRollback: false,
      requireApproval: true,
    });
    assert.deepEqual(only(c, 'KafkaOffsetRollback').spec, {
      snapshotRef: { name: 'snap-1', offsetResetRef: 'translate' },
      kafkaCluster: { bootstrapServers: ['kafka:9092'] },
      consumerGroups: ['g'],
      verifyAfterRollback: false,
      approval: { policy: 'Manual' },
    });
    assert.throws(
      () =>
        new KafkaOffsetRollbackPlan(chart(), 'R', {
          cluster,
          snapshot: { name: 's', offsetReset: 'a', restore: 'b' },
        }),
      /snapshot.restore and snapshot.offsetReset exclude each other/,
    );
  });
});

describe('KafkaBackupValidationPlan', () => {
  test('maps checks, webhooks, evidence, notifications and schedule', () => {
    const c = chart();
    const plan = new KafkaBackupValidationPlan(c, 'V', {
      source: BackupSource.fromBackupName('nightly'),
      cluster,
      checks: {
        messageCount: { failThreshold: 5 },
        offsetRange: false,
        consumerGroupOffsets: { consumerGroups: ['g'] },
        integrity: true,
      },
      evidence: { formats: ['json', 'html'], signingKeySecret: 'signing', retention: Duration.days(365) },
      slackWebhook: { secret: 'slack', key: 'url' },
      pagerDuty: { secret: 'pd', key: 'routing', severity: 'warning' },
      schedule: Schedule.cron('0 6 * * 0', { timeZone: 'UTC' }),
      suspend: true,
    });
    plan.addWebhook({
      name: 'orders-ok',
      url: 'https://checks.example.com/orders',
      timeout: Duration.seconds(30),
    });
    const spec = only(c, 'KafkaBackupValidation').spec;
    assert.deepEqual(spec.checks, {
      messageCount: { enabled: true, failThreshold: 5 },
      offsetRange: { enabled: false },
      consumerGroupOffsets: { enabled: true, consumerGroups: ['g'] },
      integrity: { enabled: true },
      customWebhooks: [{ name: 'orders-ok', url: 'https://checks.example.com/orders', timeoutSecs: 30 }],
    });
    assert.deepEqual(spec.evidence, {
      formats: ['json', 'html'],
      signing: { enabled: true, keySecret: { name: 'signing' } },
      retentionDays: 365,
    });
    assert.deepEqual(spec.notifications, {
      slack: { webhookSecret: { name: 'slack', key: 'url' } },
      pagerduty: { routingKeySecret: { name: 'pd', key: 'routing' }, severity: 'warning' },
    });
    assert.equal(spec.schedule, '0 6 * * 0');
    assert.equal(spec.timeZone, 'UTC');
    assert.deepEqual(plan.secretNames, ['pd', 'signing', 'slack']);
    assert.throws(() => plan.addWebhook({ name: 'orders-ok', url: 'https://x' }), /already exists/);
  });

  test('deep integrity and the restore check', () => {
    const c = chart();
    new KafkaBackupValidationPlan(c, 'V', {
      source: BackupSource.fromBackupName('nightly'),
      cluster,
      checks: {
        integrity: { deep: true },
        restoreSample: { segmentsPerPartition: 3, scratchTopicPrefix: 'scratch' },
      },
    });
    new KafkaBackupValidationPlan(c, 'All', {
      source: BackupSource.fromBackupName('nightly'),
      cluster,
      checks: { restoreSample: { segmentsPerPartition: 'all' } },
    });
    const [v, all] = synth(c).filter((m) => m.kind === 'KafkaBackupValidation');
    assert.deepEqual(v?.spec.checks, {
      integrity: { enabled: true, deep: true },
      restoreSample: { enabled: true, segmentsPerPartition: 3, scratchTopicPrefix: 'scratch' },
    });
    assert.deepEqual(all?.spec.checks, { restoreSample: { enabled: true, all: true } });
    const source = BackupSource.fromBackupName('nightly');
    assert.throws(
      () => new KafkaBackupValidationPlan(chart(), 'V', { source, checks: { restoreSample: true } }),
      /checks.restoreSample restores into a scratch topic of the cluster: set cluster/,
    );
    assert.throws(
      () =>
        new KafkaBackupValidationPlan(chart(), 'V', {
          source,
          cluster,
          checks: { restoreSample: { segmentsPerPartition: 0 } },
        }),
      /segmentsPerPartition must be a whole number from 1 to 10000, or 'all', got 0/,
    );
    const bad = chart();
    new KafkaBackupValidationPlan(bad, 'V', {
      source,
      cluster,
      checks: { restoreSample: { scratchTopicPrefix: 'has space' } },
    });
    assert.match(synthError(bad), /spec\.checks\.restoreSample\.scratchTopicPrefix: .*should match/);
  });

  test('the CRD rule that a cluster is needed is enforced at synth', () => {
    const c = chart();
    new KafkaBackupValidationPlan(c, 'V', { source: BackupSource.fromBackupName('nightly') });
    assert.match(synthError(c), /\[test\/V\] spec\.kafkaCluster: /);
  });
});
