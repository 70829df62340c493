/**
 * Every field of every CRD can be written through the constructs, except the few listed below with
 * the reason. When a CRD gains a field, this test names it until a construct prop writes it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type App, type Chart, Duration, Size, Testing } from 'cdk8s';
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
  KafkaSasl,
  OffsetResetStrategy,
  ProduceAcks,
  RepartitionStrategy,
  Schedule,
} from '../../../lib/index.ts';
import { loadCrds, type SchemaNode } from '../../../lib/validation/index.ts';

/** CRD fields the constructs deliberately do not write, and why. */
const NOT_EXPOSED: Record<string, string> = {
  'pitr.startTimestamp':
    'the constructs take Dates and write pitr.startTime; epoch ms is for YAML of the previous operator',
  'pitr.endTimestamp': 'as pitr.startTimestamp',
};

const leaf = (path: string) => path.replace(/^spec\./, '');

function schemaLeaves(node: SchemaNode, path: string, out: Set<string>): Set<string> {
  const children = Object.entries(node.properties ?? {});
  const map = typeof node.additionalProperties === 'object' ? node.additionalProperties : undefined;
  if (children.length === 0 && !node.items && !map) out.add(path);
  for (const [name, child] of children) schemaLeaves(child, `${path}.${name}`, out);
  if (node.items) schemaLeaves(node.items, `${path}[]`, out);
  if (map) schemaLeaves(map, `${path}{}`, out);
  return out;
}

function valueLeaves(
  value: unknown,
  path: string,
  schema: SchemaNode | undefined,
  out: Set<string>,
): Set<string> {
  if (Array.isArray(value)) {
    for (const item of value) valueLeaves(item, `${path}[]`, schema?.items, out);
    if (value.length === 0) out.add(`${path}[]`);
  } else if (typeof value === 'object' && value !== null) {
    const map = typeof schema?.additionalProperties === 'object' ? schema.additionalProperties : undefined;
    for (const [k, v] of Object.entries(value)) {
      if (schema?.properties?.[k]) valueLeaves(v, `${path}.${k}`, schema.properties[k], out);
      else valueLeaves(v, `${path}{}`, map, out);
    }
  } else {
    out.add(path);
  }
  return out;
}

const tuned = new KafkaClusterConnection({
  bootstrapServers: ['kafka:9093'],
  tls: { secret: 'tls', caKey: 'ca', certKey: 'crt', keyKey: 'key', caSecret: 'ca', caSecretKey: 'ca.pem' },
  sasl: KafkaSasl.scramSha256({ secret: 'sasl', usernameKey: 'u', passwordKey: 'p' }),
  clientId: 'kb',
  connection: {
    tcpKeepalive: true,
    keepaliveTime: Duration.seconds(30),
    tcpNoDelay: true,
    connectionsPerBroker: 2,
    connectTimeout: Duration.seconds(5),
    requestTimeout: Duration.seconds(30),
  },
});
const storages = [
  BackupStorage.s3({
    bucket: 'b-1',
    region: 'r',
    endpoint: 'http://minio:9000',
    pathStyle: true,
    allowHttp: true,
    prefix: 'p',
    credentialsSecret: 's3',
    accessKeyIdKey: 'a',
    secretAccessKeyKey: 's',
  }),
  BackupStorage.gcs({
    bucket: 'b-1',
    prefix: 'p',
    endpoint: 'http://gcs:4443',
    credentialsSecret: 'g',
    serviceAccountJsonKey: 'k',
  }),
  BackupStorage.volume({
    claimName: 'c',
    subPath: 's',
    create: { storageClassName: 'fast', size: Size.gibibytes(10), accessModes: ['ReadWriteOnce'] },
  }),
  ...[
    AzureBlobAuth.accountKey('k', 'key'),
    AzureBlobAuth.sasToken('s', 'tok'),
    AzureBlobAuth.servicePrincipal('sp', { clientIdKey: 'c', tenantIdKey: 't', clientSecretKey: 's' }),
    AzureBlobAuth.workloadIdentity(),
  ].map((auth) =>
    BackupStorage.azureBlob({
      container: 'abc',
      accountName: 'acct',
      prefix: 'p',
      endpoint: 'https://a',
      auth,
    }),
  ),
];
const encryption = Encryption.aes256Gcm({ keySecret: 'enc', key: 'k' });

function maximal(chart: Chart): void {
  storages.forEach((storage, i) => {
    new KafkaBackupSchedule(chart, `Backup${i}`, {
      cluster: tuned,
      storage,
      topics: ['t'],
      excludeTopics: ['x'],
      includeInternalTopics: true,
      schedule: Schedule.hourly({ timeZone: 'UTC' }),
      stopAtCurrentOffsets: true,
      suspend: true,
      concurrencyPolicy: ConcurrencyPolicy.FORBID,
      successfulRunsHistoryLimit: 1,
      failedRunsHistoryLimit: 1,
      compression: Compression.zstd(3),
      encryption,
      consumerGroupSnapshot: true,
      includeOffsetHeaders: true,
      retention: { maxAge: Duration.days(1), keepLast: 1, minSuccessful: 1, dryRun: true },
      checkpointInterval: Duration.seconds(10),
      rateLimit: { recordsPerSecond: 1, bytesPerSecond: 1, maxConcurrentPartitions: 1 },
      circuitBreaker: {
        failureThreshold: 1,
        resetTimeout: Duration.seconds(1),
        successThreshold: 1,
        operationTimeout: Duration.seconds(1),
      },
      segmentMaxSize: Size.mebibytes(1),
      segmentMaxInterval: Duration.seconds(1),
      sourceClusterId: 'c',
      runDeadline: Duration.hours(1),
      metrics: {
        enabled: true,
        port: 9100,
        bindAddress: '127.0.0.1',
        path: '/m',
        updateInterval: Duration.seconds(1),
        maxPartitionLabels: 10,
      },
    });
    new KafkaRestorePlan(chart, `Restore${i}`, {
      cluster: tuned,
      source: BackupSource.fromStorage(storage, 'id'),
    });
    new KafkaBackupValidationPlan(chart, `Validation${i}`, {
      cluster: tuned,
      source: BackupSource.fromStorage(storage, 'id'),
      evidence: { storage },
    });
    new KafkaOffsetRollbackPlan(chart, `Rollback${i}`, { cluster: tuned, snapshot: { name: 's', storage } });
    new KafkaOffsetResetPlan(chart, `ResetFromSnapshot${i}`, {
      cluster: tuned,
      consumerGroups: ['g'],
      strategy: OffsetResetStrategy.fromSnapshot({ name: 's', storage }),
    });
  });
  new KafkaBackupSchedule(chart, 'Continuous', {
    cluster: tuned,
    storage: storages[0] as BackupStorage,
    topics: ['t'],
    continuous: true,
    pollInterval: Duration.millis(100),
  });
  new KafkaRestorePlan(chart, 'Restore', {
    cluster: tuned,
    source: BackupSource.fromBackupName('b', { namespace: 'n', backupId: 'id' }),
    topics: ['t'],
    excludeTopics: ['x'],
    topicMapping: { t: 'u' },
    topicConfigs: { u: { 'retention.ms': '1' } },
    partitionMapping: { 0: 1 },
    pointInTime: { start: new Date(0), end: new Date(1000) },
    repartitioning: { u: { targetPartitions: 2, strategy: RepartitionStrategy.ROUND_ROBIN } },
    offsetReset: { consumerGroups: ['g'], strategy: 'header-based' },
    autoConsumerGroups: true,
    purgeTopics: true,
    createTopics: true,
    defaultReplicationFactor: 1,
    produceAcks: ProduceAcks.ALL,
    produceBatchSize: 1,
    produceTimeout: Duration.seconds(1),
    dryRun: true,
    encryption,
    rateLimit: { recordsPerSecond: 1, bytesPerSecond: 1, maxConcurrentPartitions: 1 },
    circuitBreaker: {
      failureThreshold: 1,
      resetTimeout: Duration.seconds(1),
      successThreshold: 1,
      operationTimeout: Duration.seconds(1),
    },
    rollback: {
      snapshotBeforeRestore: true,
      snapshotRetention: Duration.hours(1),
      autoRollbackOnFailure: true,
    },
    requireApproval: true,
    approved: true,
    runDeadline: Duration.hours(1),
    metrics: {
      enabled: true,
      port: 9100,
      bindAddress: '127.0.0.1',
      path: '/m',
      updateInterval: Duration.seconds(1),
    },
  });
  new KafkaBackupValidationPlan(chart, 'ValidationByName', {
    cluster: tuned,
    checks: { restoreSample: { segmentsPerPartition: 'all' } },
    source: BackupSource.fromBackupName('b', { namespace: 'n', backupId: 'id' }),
  });
  for (const [i, strategy] of [
    OffsetResetStrategy.toTimestamp(new Date(0)),
    OffsetResetStrategy.toOffset(1),
    OffsetResetStrategy.fromMappingFile('p', 'v'),
    OffsetResetStrategy.fromRestore('r'),
    OffsetResetStrategy.shiftBy(-1),
    OffsetResetStrategy.fromSnapshot({
      name: 's',
      path: 'p',
      pvcName: 'v',
      restore: 'r',
      storage: storages[0] as BackupStorage,
    }),
    OffsetResetStrategy.fromSnapshot({ name: 's', offsetReset: 'o' }),
  ].entries()) {
    new KafkaOffsetResetPlan(chart, `Reset${i}`, {
      cluster: tuned,
      consumerGroups: ['g'],
      strategy,
      topics: ['t'],
      parallelism: 1,
      continueOnError: true,
      snapshotBeforeReset: true,
      dryRun: true,
      requireApproval: true,
      approved: true,
      runDeadline: Duration.hours(1),
    });
  }
  new KafkaOffsetRollbackPlan(chart, 'Rollback', {
    cluster: tuned,
    snapshot: { name: 's', path: 'p', pvcName: 'v', restore: 'r' },
    consumerGroups: ['g'],
    verifyAfterRollback: true,
    dryRun: true,
    requireApproval: true,
    approved: true,
    runDeadline: Duration.hours(1),
  });
  new KafkaOffsetRollbackPlan(chart, 'RollbackOfReset', {
    cluster: tuned,
    snapshot: { name: 's', offsetReset: 'o' },
  });
  const validation = new KafkaBackupValidationPlan(chart, 'Validation', {
    cluster: tuned,
    source: BackupSource.fromBackupName('b'),
    topicMapping: { t: 'u' },
    checks: {
      messageCount: { failThreshold: 1, topics: ['t'] },
      offsetRange: true,
      consumerGroupOffsets: { consumerGroups: ['g'] },
      integrity: { deep: true },
      restoreSample: { segmentsPerPartition: 2, scratchTopicPrefix: 'scratch' },
    },
    encryption,
    evidence: {
      formats: ['json'],
      signingKeySecret: 'sig',
      signingKeys: { privateKeyKey: 'priv', publicKeyKey: 'pub' },
      retention: Duration.days(1),
    },
    slackWebhook: { secret: 'slack', key: 'url' },
    pagerDuty: {
      secret: 'pd',
      key: 'k',
      severity: 'info',
      eventsUrl: 'https://events.eu.pagerduty.com/v2/enqueue',
    },
    schedule: Schedule.hourly({ timeZone: 'UTC' }),
    suspend: true,
    concurrencyPolicy: ConcurrencyPolicy.FORBID,
    successfulRunsHistoryLimit: 1,
    failedRunsHistoryLimit: 1,
    runDeadline: Duration.hours(1),
  });
  validation.addWebhook({
    name: 'w',
    url: 'https://w',
    timeout: Duration.seconds(1),
    expectedStatusCode: 204,
  });
}

test('every CRD field can be written through a construct (or is listed as deliberately not exposed)', () => {
  const chart = Testing.chart();
  maximal(chart);
  // ...and every one of those maximal specs is valid for the API server.
  assert.doesNotThrow(() => (chart.node.scope as App).synthYaml());
  const manifests = Testing.synth(chart) as Array<{ kind: string; spec: unknown }>;
  const missing: string[] = [];
  for (const crd of loadCrds().values()) {
    const specSchema = crd.schema.properties?.spec as SchemaNode;
    const written = new Set<string>();
    for (const m of manifests.filter((m) => m.kind === crd.kind))
      valueLeaves(m.spec, 'spec', specSchema, written);
    for (const path of schemaLeaves(specSchema, 'spec', new Set())) {
      const field = leaf(path);
      if (
        !written.has(path) &&
        !Object.keys(NOT_EXPOSED).some((n) => field === n || field.endsWith(`.${n}`))
      ) {
        missing.push(`${crd.kind}: ${field}`);
      }
    }
  }
  assert.deepEqual(missing, []);
});
