// An hourly backup of two topics to S3, and a plan to restore them under new names.
import { App, Chart } from 'cdk8s';
import {
  BackupSource,
  BackupStorage,
  KafkaBackupSchedule,
  KafkaClusterConnection,
  KafkaRestorePlan,
  Schedule,
  synthesizeForGitOps,
} from '../lib/index.ts';

const chart = new Chart(new App(), 'kafka-backups');
const cluster = KafkaClusterConnection.plaintext('my-kafka.kafka.svc:9092');
const storage = BackupStorage.s3({
  bucket: 'kafka-backups',
  region: 'eu-west-1',
  credentialsSecret: 's3-credentials',
});

const backup = new KafkaBackupSchedule(chart, 'orders-backup', {
  cluster,
  storage,
  topics: ['orders', 'payments'],
  schedule: Schedule.hourly(),
});
new KafkaRestorePlan(chart, 'orders-restore', {
  cluster,
  source: BackupSource.fromBackup(backup),
  topicMapping: { orders: 'orders-restored', payments: 'payments-restored' },
});

// dist/: the CRDs, the two resources and a Kustomization; apply with `kubectl apply --server-side -f dist/`.
synthesizeForGitOps(chart.node.scope as App, { outdir: process.env.CDK8S_OUTDIR ?? 'dist' });
