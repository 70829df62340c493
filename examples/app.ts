/**
 * The example app: the seed's examples expressed as constructs, a tour of the rest of the API,
 * and the operator install. `npm run synth` writes it to dist/ (see scripts/synth.ts).
 */
import { pathToFileURL } from 'node:url';
import { App, Chart, Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-34';
import {
  AzureBlobAuth,
  BackupSource,
  BackupStorage,
  Compression,
  DayOfWeek,
  Encryption,
  InstallMode,
  KafkaBackupOperator,
  KafkaBackupSchedule,
  KafkaBackupValidationPlan,
  KafkaClusterConnection,
  KafkaOffsetResetPlan,
  KafkaOffsetRollbackPlan,
  KafkaRestorePlan,
  KafkaSasl,
  OffsetResetStrategy,
  Schedule,
  synthesizeForGitOps,
} from '../lib/index.ts';

/** The namespace of the seed's quick start (`helm install ... --namespace kafka-backup`). */
export const NAMESPACE = 'kafka-backup';

/** Options for tests that install the example side by side with others. */
export interface ExampleAppOptions {
  /**
   * Namespace of the operator and the example resources.
   * @default NAMESPACE
   */
  readonly namespace?: string;
}

export function createExampleApp(options: ExampleAppOptions = {}): App {
  const namespace = options.namespace ?? NAMESPACE;
  const app = new App();

  // The operator: namespace, RBAC, Deployment, metrics Service and NetworkPolicy. (Add
  // `serviceMonitor: true` where the Prometheus Operator's CRDs are installed.)
  const operatorChart = new Chart(app, 'operator');
  const operator = new KafkaBackupOperator(operatorChart, 'Operator', {
    namespace,
    installMode: InstallMode.clusterWide(),
  });

  // The seed's examples, unchanged in meaning (test/fixtures/seed/ holds the YAML they equal).
  const seed = new Chart(app, 'seed-examples', { namespace });
  const kafka = KafkaClusterConnection.plaintext('kafka:9092');
  const hourly = new KafkaBackupSchedule(seed, 'HourlyBackup', {
    metadata: { name: 'hourly-backup' },
    schedule: Schedule.cron('0 0 * * * * *'), // every hour; seconds first, year last
    cluster: kafka,
    topics: ['orders', 'payments'],
    storage: BackupStorage.s3({
      bucket: 'kafka-backups',
      region: 'us-west-2',
      credentialsSecret: 's3-credentials',
    }),
  });
  const firstBackup = new KafkaBackupSchedule(seed, 'MyFirstBackup', {
    metadata: { name: 'my-first-backup' },
    cluster: KafkaClusterConnection.plaintext('kafka.default.svc:9092'),
    topics: ['my-topic'],
    storage: BackupStorage.s3({
      bucket: 'my-kafka-backups',
      region: 'us-west-2',
      credentialsSecret: 's3-credentials',
    }),
  });
  const pitr = new KafkaRestorePlan(seed, 'PitrRestore', {
    metadata: { name: 'pitr-restore' },
    source: BackupSource.fromBackupName('production-backup'),
    pointInTime: { end: new Date('2024-12-01T12:00:00Z') },
    cluster: kafka,
  });
  const reset = new KafkaOffsetResetPlan(seed, 'ResetAfterRestore', {
    metadata: { name: 'reset-after-restore' },
    strategy: OffsetResetStrategy.fromMapping(),
    consumerGroups: ['order-processor'],
    cluster: kafka,
  });

  // The rest of the API: a secured cluster, encryption, retention, restore with approval,
  // offset translation and rollback, validation with evidence, and a narrowly scoped grant.
  const tour = new Chart(app, 'tour', { namespace });
  const secured = new KafkaClusterConnection({
    bootstrapServers: ['prod-kafka-bootstrap.kafka.svc:9093'],
    tls: { caSecret: 'prod-cluster-ca-cert' },
    sasl: KafkaSasl.scramSha512({ secret: 'kafka-backup-user' }),
    connection: { connectionsPerBroker: 8 },
  });
  const azure = BackupStorage.azureBlob({
    container: 'kafka-backups',
    accountName: 'prodbackups',
    prefix: 'prod',
    auth: AzureBlobAuth.workloadIdentity(),
  });
  const encryption = Encryption.aes256Gcm({ keySecret: 'kafka-backup-key' });
  const nightly = new KafkaBackupSchedule(tour, 'Nightly', {
    metadata: { name: 'prod-nightly' },
    cluster: secured,
    storage: azure,
    topics: ['orders-*', 'payments'],
    excludeTopics: ['orders-debug-*'],
    schedule: Schedule.dailyAt(2, 30, { timeZone: 'Europe/London' }),
    compression: Compression.zstd(6),
    encryption,
    consumerGroupSnapshot: true,
    retention: { maxAge: Duration.days(30), minSuccessful: 3 },
    runDeadline: Duration.hours(4),
  });
  const restore = new KafkaRestorePlan(tour, 'Restore', {
    metadata: { name: 'prod-restore-drill' },
    source: BackupSource.fromBackup(nightly),
    cluster: KafkaClusterConnection.plaintext('drill-kafka.kafka-drill.svc:9092'),
    topics: ['orders-eu', 'payments'],
    topicMapping: { 'orders-eu': 'orders-eu-restored', payments: 'payments-restored' },
    createTopics: true,
    autoConsumerGroups: true,
    encryption,
    requireApproval: true,
  });
  const translate = new KafkaOffsetResetPlan(tour, 'TranslateOffsets', {
    metadata: { name: 'prod-restore-drill-offsets' },
    cluster: KafkaClusterConnection.plaintext('drill-kafka.kafka-drill.svc:9092'),
    consumerGroups: ['order-processor', 'billing'],
    strategy: OffsetResetStrategy.fromRestore(restore),
    requireApproval: true,
  });
  const rollback = new KafkaOffsetRollbackPlan(tour, 'Rollback', {
    metadata: { name: 'prod-restore-drill-rollback' },
    cluster: KafkaClusterConnection.plaintext('drill-kafka.kafka-drill.svc:9092'),
    snapshot: { name: 'before-translate', offsetReset: translate },
    requireApproval: true,
  });
  const validation = new KafkaBackupValidationPlan(tour, 'Validation', {
    metadata: { name: 'prod-restore-drill-validation' },
    source: BackupSource.fromBackup(nightly),
    cluster: KafkaClusterConnection.plaintext('drill-kafka.kafka-drill.svc:9092'),
    topicMapping: { 'orders-eu': 'orders-eu-restored', payments: 'payments-restored' },
    checks: { messageCount: true, offsetRange: true, consumerGroupOffsets: true, integrity: true },
    encryption,
    evidence: { formats: ['json'], signingKeySecret: 'evidence-signing-key' },
    schedule: Schedule.weeklyOn(DayOfWeek.SUNDAY, 6),
  });
  // A CI job may start a drill run of the restore, and nothing else.
  const ci = kplus.ServiceAccount.fromServiceAccountName(tour, 'CiBot', 'ci-bot', {
    namespaceName: namespace,
  });
  restore.grantTrigger(ci);
  validation.grantRead(ci);

  operator.allowSecretsOf(
    hourly,
    firstBackup,
    pitr,
    reset,
    nightly,
    restore,
    translate,
    rollback,
    validation,
  );
  return app;
}

// `cdk8s synth` (cdk8s.yaml) and `node --import tsx examples/app.ts` write the same directory as `npm run synth`.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  synthesizeForGitOps(createExampleApp(), { outdir: process.env.CDK8S_OUTDIR ?? 'dist' });
}
