/**
 * Every field of the previous operator's API (shared/reference/oso-operator-crds-and-controllers.md
 * §1) is present under the same name, with the same default where it had one, so YAML written for
 * it applies unchanged and means the same; or, when it cannot work here, it is removed from the
 * CRDs and listed with its reason in runtime/config/removed-fields.ts (the API reference and the
 * CLI give that reason).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { REMOVED_FIELDS } from '../../../runtime/config/removed-fields.ts';
import { at, loadCrds, rootSchema, type SchemaNode } from './crd-schemas.ts';

const KAFKA_CLUSTER = [
  'bootstrapServers',
  'securityProtocol',
  'tlsSecret.name',
  'tlsSecret.caKey',
  'tlsSecret.certKey',
  'tlsSecret.keyKey',
  'caSecret.name',
  'caSecret.caKey',
  'saslSecret.name',
  'saslSecret.mechanism',
  'saslSecret.usernameKey',
  'saslSecret.passwordKey',
  'connection.tcpKeepalive',
  'connection.keepaliveTimeSecs',
  'connection.keepaliveIntervalSecs',
  'connection.tcpNodelay',
  'connection.connectionsPerBroker',
];

const STORAGE = [
  'storageType',
  'pvc.claimName',
  'pvc.subPath',
  'pvc.create.enabled',
  'pvc.create.storageClassName',
  'pvc.create.size',
  'pvc.create.accessModes',
  's3.bucket',
  's3.region',
  's3.endpoint',
  's3.pathStyle',
  's3.allowHttp',
  's3.prefix',
  's3.credentialsSecret.name',
  's3.credentialsSecret.accessKeyIdKey',
  's3.credentialsSecret.secretAccessKeyKey',
  'azure.container',
  'azure.accountName',
  'azure.prefix',
  'azure.endpoint',
  'azure.useWorkloadIdentity',
  'azure.credentialsSecret.name',
  'azure.credentialsSecret.accountKeyKey',
  'azure.sasTokenSecret.name',
  'azure.sasTokenSecret.sasTokenKey',
  'azure.servicePrincipalSecret.name',
  'azure.servicePrincipalSecret.clientIdKey',
  'azure.servicePrincipalSecret.tenantIdKey',
  'azure.servicePrincipalSecret.clientSecretKey',
  'gcs.bucket',
  'gcs.prefix',
  'gcs.credentialsSecret.name',
  'gcs.credentialsSecret.serviceAccountJsonKey',
];

const RATE_LIMITING = ['recordsPerSec', 'bytesPerSec', 'maxConcurrentPartitions'];
const CIRCUIT_BREAKER = [
  'enabled',
  'failureThreshold',
  'resetTimeoutSecs',
  'successThreshold',
  'operationTimeoutMs',
];

const under = (prefix: string, paths: string[]) => paths.map((p) => `${prefix}.${p}`);

const FIELDS: Record<string, string[]> = {
  KafkaBackup: [
    ...under('spec.kafkaCluster', KAFKA_CLUSTER),
    ...under('spec.storage', STORAGE),
    ...under('spec.rateLimiting', RATE_LIMITING),
    ...under('spec.circuitBreaker', CIRCUIT_BREAKER),
    ...under('spec', [
      'topics',
      'compression',
      'compressionLevel',
      'segmentMaxBytes',
      'segmentMaxIntervalMs',
      'continuous',
      'stopAtCurrentOffsets',
      'includeOffsetHeaders',
      'sourceClusterId',
      'pollIntervalMs',
      'consumerGroupSnapshot',
      'schedule',
      'checkpoint.enabled',
      'checkpoint.intervalSecs',
      'checkpoint.storage.pvcName',
      'checkpoint.storage.subPath',
      'retention.enabled',
      'retention.maxAgeDays',
      'retention.keepLast',
      'retention.dryRun',
      'suspend',
      'metrics.enabled',
      'metrics.port',
      'metrics.bindAddress',
      'metrics.path',
      'metrics.updateIntervalMs',
      'metrics.maxPartitionLabels',
    ]),
    ...under('status', [
      'phase',
      'message',
      'lastBackupTime',
      'lastScheduleTime',
      'nextScheduledBackup',
      'recordsProcessed',
      'bytesProcessed',
      'segmentsCompleted',
      'checkpointEnabled',
      'lastCheckpointTime',
      'resumable',
      'throughputRecordsPerSec',
      'throughputBytesPerSec',
      'backupId',
      'lastRetentionTime',
      'retentionInspectedBackups',
      'retentionEligibleBackups',
      'retentionDeletedBackups',
      'retentionReclaimedBytes',
      'retentionDryRun',
      'retentionError',
      'observedGeneration',
      'conditions',
    ]),
  ],
  KafkaRestore: [
    ...under('spec.kafkaCluster', KAFKA_CLUSTER),
    ...under('spec.backupRef.storage', STORAGE),
    ...under('spec.rateLimiting', RATE_LIMITING),
    ...under('spec.circuitBreaker', CIRCUIT_BREAKER),
    ...under('spec', [
      'backupRef.name',
      'backupRef.namespace',
      'backupRef.backupId',
      'topics',
      'pitr.startTimestamp',
      'pitr.endTimestamp',
      'pitr.startTime',
      'pitr.endTime',
      'topicMapping',
      'partitionMapping',
      'repartitioning{}.strategy',
      'repartitioning{}.targetPartitions',
      'offsetReset.enabled',
      'offsetReset.consumerGroups',
      'offsetReset.strategy',
      'rollback.snapshotBeforeRestore',
      'rollback.snapshotRetentionHours',
      'rollback.autoRollbackOnFailure',
      'rollback.snapshotStorage.pvcName',
      'rollback.snapshotStorage.subPath',
      'dryRun',
      'produceBatchSize',
      'produceAcks',
      'produceTimeoutMs',
      'purgeTopics',
      'autoConsumerGroups',
      'createTopics',
      'defaultReplicationFactor',
    ]),
    ...under('status', [
      'phase',
      'message',
      'startTime',
      'completionTime',
      'recordsRestored',
      'bytesRestored',
      'segmentsProcessed',
      'offsetMappingPath',
      'observedGeneration',
      'conditions',
      'progressPercent',
      'currentTopic',
      'throughputRecordsPerSec',
      'etaMs',
      'rollback.snapshotId',
      'rollback.snapshotTime',
      'rollback.snapshotPath',
      'rollback.rollbackAvailable',
      'rollback.expiresAt',
    ]),
  ],
  KafkaOffsetReset: [
    ...under('spec.kafkaCluster', KAFKA_CLUSTER),
    ...under('spec', [
      'consumerGroups',
      'resetStrategy',
      'resetTimestamp',
      'resetOffset',
      'topics',
      'parallelism',
      'dryRun',
      'continueOnError',
      'offsetMappingRef.restoreName',
      'offsetMappingRef.path',
      'offsetMappingRef.pvcName',
      'snapshotBeforeReset',
    ]),
    ...under('status', [
      'phase',
      'message',
      'startTime',
      'completionTime',
      'groupsTotal',
      'groupsReset',
      'groupsFailed',
      'duration',
      'snapshotId',
      'snapshotPath',
      'groupResults[].groupId',
      'groupResults[].success',
      'groupResults[].error',
      'groupResults[].partitionsReset',
      'groupResults[].message',
      'observedGeneration',
      'conditions',
    ]),
  ],
  KafkaOffsetRollback: [
    ...under('spec.kafkaCluster', KAFKA_CLUSTER),
    ...under('spec', [
      'snapshotRef.name',
      'snapshotRef.path',
      'snapshotRef.pvcName',
      'snapshotRef.restoreRef',
      'snapshotRef.offsetResetRef',
      'consumerGroups',
      'dryRun',
      'verifyAfterRollback',
    ]),
    ...under('status', [
      'phase',
      'message',
      'groupsRolledBack',
      'observedGeneration',
      'conditions',
      'startTime',
      'completionTime',
      'groupsFailed',
      'duration',
      'verified',
      'verification.allMatched',
      'verification.totalGroups',
      'verification.matchedGroups',
      'verification.mismatchedGroups',
    ]),
  ],
  KafkaBackupValidation: [
    ...under('spec.kafkaCluster', KAFKA_CLUSTER),
    ...under('spec.backupRef.storage', STORAGE),
    ...under('spec.evidence.storage', STORAGE),
    ...under('spec', [
      'backupRef.name',
      'backupRef.namespace',
      'backupRef.backupId',
      'checks.messageCount.enabled',
      'checks.messageCount.failThreshold',
      'checks.messageCount.topics',
      'checks.offsetRange.enabled',
      'checks.consumerGroupOffsets.enabled',
      'checks.consumerGroupOffsets.consumerGroups',
      'checks.customWebhooks[].name',
      'checks.customWebhooks[].url',
      'checks.customWebhooks[].timeoutSecs',
      'checks.customWebhooks[].expectedStatusCode',
      'evidence.formats',
      'evidence.signing.enabled',
      'evidence.signing.keySecret.name',
      'evidence.signing.keySecret.privateKeyKey',
      'evidence.signing.keySecret.publicKeyKey',
      'evidence.retentionDays',
      'notifications.slack.webhookSecret.name',
      'notifications.slack.webhookSecret.key',
      'notifications.pagerduty.routingKeySecret.name',
      'notifications.pagerduty.routingKeySecret.key',
      'notifications.pagerduty.severity',
      'schedule',
      'suspend',
    ]),
    ...under('status', [
      'phase',
      'validationResult',
      'message',
      'startTime',
      'completionTime',
      'checksTotal',
      'checksPassed',
      'checksFailed',
      'checksWarned',
      'checksCompleted',
      'lastValidationTime',
      'observedGeneration',
      'checkResults[].checkName',
      'checkResults[].outcome',
      'checkResults[].message',
      'checkResults[].durationMs',
      'evidenceReportPath',
      'evidenceReportSigned',
      'nextScheduledValidation',
      'conditions',
    ]),
  ],
};

/** The previous operator's defaults (reference §1), which the API server applies the same way. */
const DEFAULTS: Record<string, Record<string, unknown>> = {
  KafkaBackup: {
    'spec.kafkaCluster.securityProtocol': 'PLAINTEXT',
    'spec.kafkaCluster.tlsSecret.caKey': 'ca.crt',
    'spec.kafkaCluster.caSecret.caKey': 'ca.crt',
    'spec.kafkaCluster.saslSecret.usernameKey': 'username',
    'spec.kafkaCluster.saslSecret.passwordKey': 'password',
    'spec.kafkaCluster.connection.tcpKeepalive': true,
    'spec.kafkaCluster.connection.keepaliveTimeSecs': 60,
    'spec.kafkaCluster.connection.keepaliveIntervalSecs': 20,
    'spec.kafkaCluster.connection.tcpNodelay': true,
    'spec.kafkaCluster.connection.connectionsPerBroker': 4,
    'spec.storage.storageType': 'pvc',
    'spec.storage.pvc.create.enabled': false,
    'spec.storage.pvc.create.size': '100Gi',
    'spec.storage.pvc.create.accessModes': ['ReadWriteOnce'],
    'spec.storage.s3.pathStyle': false,
    'spec.storage.s3.allowHttp': false,
    'spec.storage.s3.credentialsSecret.accessKeyIdKey': 'AWS_ACCESS_KEY_ID',
    'spec.storage.s3.credentialsSecret.secretAccessKeyKey': 'AWS_SECRET_ACCESS_KEY',
    'spec.storage.azure.useWorkloadIdentity': false,
    'spec.storage.azure.credentialsSecret.accountKeyKey': 'AZURE_STORAGE_KEY',
    'spec.storage.azure.sasTokenSecret.sasTokenKey': 'AZURE_SAS_TOKEN',
    'spec.storage.azure.servicePrincipalSecret.clientIdKey': 'AZURE_CLIENT_ID',
    'spec.storage.azure.servicePrincipalSecret.tenantIdKey': 'AZURE_TENANT_ID',
    'spec.storage.azure.servicePrincipalSecret.clientSecretKey': 'AZURE_CLIENT_SECRET',
    'spec.storage.gcs.credentialsSecret.serviceAccountJsonKey': 'SERVICE_ACCOUNT_JSON',
    'spec.rateLimiting.recordsPerSec': 0,
    'spec.rateLimiting.bytesPerSec': 0,
    'spec.rateLimiting.maxConcurrentPartitions': 4,
    'spec.circuitBreaker.enabled': true,
    'spec.circuitBreaker.failureThreshold': 5,
    'spec.circuitBreaker.resetTimeoutSecs': 60,
    'spec.circuitBreaker.successThreshold': 3,
    'spec.circuitBreaker.operationTimeoutMs': 30000,
    'spec.compression': 'zstd',
    'spec.compressionLevel': 3,
    'spec.segmentMaxBytes': 134217728,
    'spec.segmentMaxIntervalMs': 60000,
    'spec.continuous': false,
    'spec.stopAtCurrentOffsets': false,
    'spec.includeOffsetHeaders': true,
    'spec.pollIntervalMs': 100,
    'spec.consumerGroupSnapshot': false,
    'spec.checkpoint.enabled': true,
    'spec.checkpoint.intervalSecs': 30,
    'spec.retention.enabled': false,
    'spec.retention.dryRun': false,
    'spec.suspend': false,
    'spec.metrics.enabled': true,
    'spec.metrics.port': 9090,
    'spec.metrics.bindAddress': '0.0.0.0',
    'spec.metrics.path': '/metrics',
    'spec.metrics.updateIntervalMs': 500,
    'spec.metrics.maxPartitionLabels': 100,
  },
  KafkaRestore: {
    'spec.topics': [],
    'spec.topicMapping': {},
    'spec.partitionMapping': {},
    'spec.repartitioning{}.strategy': 'murmur2',
    'spec.offsetReset.enabled': false,
    'spec.offsetReset.strategy': 'manual',
    'spec.rollback.snapshotBeforeRestore': true,
    'spec.rollback.snapshotRetentionHours': 24,
    'spec.rollback.autoRollbackOnFailure': false,
    'spec.dryRun': false,
    'spec.produceBatchSize': 1000,
    'spec.produceAcks': -1,
    'spec.produceTimeoutMs': 30000,
    'spec.purgeTopics': false,
    'spec.autoConsumerGroups': false,
    'spec.createTopics': false,
  },
  KafkaOffsetReset: {
    'spec.topics': [],
    'spec.parallelism': 50,
    'spec.dryRun': false,
    'spec.continueOnError': false,
    'spec.snapshotBeforeReset': true,
  },
  KafkaOffsetRollback: { 'spec.dryRun': false, 'spec.verifyAfterRollback': true },
  KafkaBackupValidation: {
    'spec.checks.messageCount.enabled': true,
    'spec.checks.offsetRange.enabled': true,
    'spec.checks.consumerGroupOffsets.enabled': true,
    'spec.checks.customWebhooks[].timeoutSecs': 120,
    'spec.checks.customWebhooks[].expectedStatusCode': 200,
    'spec.evidence.formats': ['json'],
    'spec.evidence.signing.enabled': false,
    'spec.evidence.signing.keySecret.privateKeyKey': 'signing-key.pem',
    'spec.evidence.signing.keySecret.publicKeyKey': 'signing-key-pub.pem',
    'spec.evidence.retentionDays': 90,
    'spec.notifications.pagerduty.severity': 'critical',
    'spec.suspend': false,
  },
};

const ENUMS: Record<string, [string, string, unknown[]]> = {
  'reset strategies': [
    'KafkaOffsetReset',
    'spec.resetStrategy',
    ['to-earliest', 'to-latest', 'to-timestamp', 'to-offset', 'from-mapping'],
  ],
  'security protocols': [
    'KafkaBackup',
    'spec.kafkaCluster.securityProtocol',
    ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'],
  ],
  'SASL mechanisms': [
    'KafkaBackup',
    'spec.kafkaCluster.saslSecret.mechanism',
    ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'],
  ],
  'storage types': ['KafkaBackup', 'spec.storage.storageType', ['pvc', 's3', 'azure', 'gcs']],
  'produce acks': ['KafkaRestore', 'spec.produceAcks', [-1, 0, 1]],
  'repartitioning strategies': ['KafkaRestore', 'spec.repartitioning{}.strategy', ['murmur2', 'automatic']],
};

const crds = new Map(loadCrds().map((crd) => [crd.spec.names.kind, rootSchema(crd)]));

function schemaOf(kind: string): SchemaNode {
  const root = crds.get(kind);
  assert.ok(root, `no CRD for ${kind}`);
  return root;
}

/** The removed field a path of `kind` is, or lies under. */
function removedAt(kind: string, path: string) {
  return Object.values(REMOVED_FIELDS).find(
    (f) => (f.kinds as readonly string[]).includes(kind) && `${path}.`.startsWith(`spec.${f.path}.`),
  );
}

describe('every field of the previous operator is present, or removed with its reason', () => {
  for (const [kind, paths] of Object.entries(FIELDS)) {
    test(`${kind}: ${paths.length} fields`, () => {
      const missing = paths.filter((p) => !at(schemaOf(kind), p) && !removedAt(kind, p));
      assert.deepEqual(missing, []);
    });
  }

  for (const [kind, defaults] of Object.entries(DEFAULTS)) {
    test(`${kind}: the previous defaults`, () => {
      for (const [path, value] of Object.entries(defaults)) {
        if (removedAt(kind, path)) continue;
        assert.deepEqual(at(schemaOf(kind), path)?.default, value, path);
      }
    });
  }

  test('a removed field is absent from the CRDs of its kinds, and was a field of the previous operator', () => {
    for (const field of Object.values(REMOVED_FIELDS)) {
      for (const kind of field.kinds) {
        assert.equal(at(schemaOf(kind), `spec.${field.path}`), undefined, `${kind} spec.${field.path}`);
        assert.ok(
          FIELDS[kind]?.some((p) => `${p}.`.startsWith(`spec.${field.path}.`)),
          `${kind} spec.${field.path} is not a field of the previous operator`,
        );
      }
      assert.ok(field.reason.length > 40, `${field.path}: say why, and what to use instead`);
    }
  });

  for (const [name, [kind, path, values]] of Object.entries(ENUMS)) {
    test(`${name} accept the previous values`, () => {
      const node = at(schemaOf(kind), path);
      for (const value of values) assert.ok(node?.enum?.includes(value), `${path}: ${String(value)}`);
    });
  }

  test('the restore offset strategies accept every spelling the previous operator matched', () => {
    const node = at(schemaOf('KafkaRestore'), 'spec.offsetReset.strategy');
    for (const value of [
      'manual',
      'dry-run',
      'dry_run',
      'timestamp',
      'timestamp-based',
      'timestamp_based',
      'cluster-scan',
      'cluster_scan',
      'header-based',
      'auto',
    ]) {
      assert.ok(node?.enum?.includes(value), value);
    }
  });
});
