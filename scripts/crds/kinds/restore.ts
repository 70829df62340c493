import { AGE_COLUMN, immutableOnceStarted, type KindDefinition, PHASE_COLUMN, READY_COLUMN } from '../crd.ts';
import { array, boolean, integer, map, object, type Schema, string } from '../schema.ts';
import {
  activeDeadlineSeconds,
  approval,
  backupRef,
  circuitBreaker,
  commonStatus,
  consumerGroupList,
  counter,
  decryption,
  kafkaCluster,
  MAX_TOPICS,
  rateLimiting,
  runMetrics,
  timestamp,
  topicKeysRule,
  topicName,
  topicPattern,
} from '../shared.ts';

/** Accepted spellings of the previous operator, which matched them case-insensitively. */
export const RESTORE_OFFSET_STRATEGIES = [
  'manual',
  'dry-run',
  'dry_run',
  'header-based',
  'auto',
  'timestamp',
  'timestamp-based',
  'timestamp_based',
  'cluster-scan',
  'cluster_scan',
] as const;

const pitr: Schema = object(
  'Point-in-time window: only records with timestamps inside it are restored. Give the bounds as RFC 3339 times (startTime/endTime) or as epoch milliseconds (startTimestamp/endTimestamp), not both for the same bound. Omit a bound for an open window.',
  {
    startTime: timestamp("Restore records at or after this time, e.g. '2024-12-01T00:00:00Z'."),
    endTime: timestamp("Restore records up to this time, e.g. '2024-12-01T12:00:00Z'."),
    startTimestamp: integer('Same as startTime, in epoch milliseconds.', { minimum: 0 }),
    endTimestamp: integer('Same as endTime, in epoch milliseconds.', { minimum: 0 }),
  },
  {
    minProperties: 1,
    rules: [
      {
        rule: '!has(self.startTime) || !has(self.endTime) || self.startTime < self.endTime',
        fieldPath: '.startTime',
        message:
          'pitr.startTime must be before pitr.endTime: swap them, or widen the window (the window is start <= record time <= end)',
      },
      {
        rule: '!has(self.startTimestamp) || !has(self.endTimestamp) || self.startTimestamp < self.endTimestamp',
        fieldPath: '.startTimestamp',
        message: 'pitr.startTimestamp must be before pitr.endTimestamp (both epoch milliseconds): swap them',
      },
      {
        rule: '!(has(self.startTime) && has(self.startTimestamp)) && !(has(self.endTime) && has(self.endTimestamp))',
        message:
          'pitr gives the same bound twice: use startTime/endTime (RFC 3339) or startTimestamp/endTimestamp (epoch ms) for each bound, not both',
      },
    ],
  },
);

const repartitioning: Schema = map(
  'Per target topic: restore into a different number of partitions. Keys are target topic names (after topicMapping).',
  object(
    'How to spread records over the new partitions.',
    {
      strategy: string(
        "murmur2 places keyed records like Kafka's default partitioner (records without a key round-robin); automatic (alias round-robin) spreads every record round-robin.",
        { enum: ['murmur2', 'automatic', 'round-robin'], default: 'murmur2' },
      ),
      targetPartitions: integer('Partition count of the target topic.', {
        minimum: 1,
        maximum: 100000,
        format: 'int32',
      }),
    },
    { required: ['targetPartitions'] },
  ),
  { maxProperties: MAX_TOPICS, rules: [topicKeysRule('repartitioning', 'target topic names')] },
);

const offsetReset: Schema = object(
  'Consumer group offsets after the restore, computed from the original offsets recorded in the backup.',
  {
    enabled: boolean('Turn post-restore offset handling on.', { default: false }),
    consumerGroups: consumerGroupList('Consumer groups to handle.', 1),
    strategy: string(
      'manual: write an offset mapping only (status.offsetMappingPath) for a later KafkaOffsetReset; dry-run: report the mapping without committing; header-based (alias auto): commit offsets translated through the mapping; timestamp: commit offsets found by record timestamp; cluster-scan: commit offsets found by scanning the target. Underscore spellings are accepted as aliases.',
      { enum: RESTORE_OFFSET_STRATEGIES, default: 'manual' },
    ),
  },
  { required: ['consumerGroups'] },
);

const rollback: Schema = object(
  'Consumer offset snapshot taken before the restore commits offsets, for a later rollback.',
  {
    snapshotBeforeRestore: boolean('Snapshot the offsets of the affected groups before committing.', {
      default: true,
    }),
    snapshotRetentionHours: integer('Keep the snapshot this many hours.', {
      minimum: 1,
      maximum: 87600,
      default: 24,
      format: 'int32',
    }),
    autoRollbackOnFailure: boolean('Roll the offsets back to the snapshot when the restore fails.', {
      default: false,
    }),
  },
);

const spec: Schema = object(
  'What to restore, from which backup, into which cluster.',
  {
    backupRef: backupRef('The backup to restore from: a KafkaBackup resource, or storage read directly.'),
    kafkaCluster: { ...kafkaCluster, description: `Target cluster. ${kafkaCluster.description}` },
    topics: array(
      'Source topics to restore. Empty means every topic in the backup.',
      topicName('A source topic name.'),
      { maxItems: MAX_TOPICS, default: [] },
    ),
    excludeTopics: array(
      "Source topics to leave out, as names or patterns with '*' and '?', e.g. 'events-debug-*'.",
      topicPattern('A topic name or pattern.'),
      { maxItems: MAX_TOPICS },
    ),
    pitr,
    topicMapping: map(
      'Source topic -> target topic, e.g. {orders: orders-restored}. Unmapped topics keep their names.',
      topicName('Target topic name.'),
      {
        maxProperties: MAX_TOPICS,
        default: {},
        rules: [topicKeysRule('topicMapping', 'source topic names')],
      },
    ),
    partitionMapping: map(
      'Source partition -> target partition, e.g. {"0": 3}. Keys are source partition numbers written as strings; unmapped partitions keep their number.',
      integer('Target partition.', { minimum: 0, maximum: 100000, format: 'int32' }),
      {
        maxProperties: 10000,
        default: {},
        rules: [
          {
            rule: "self.all(k, k.matches('^[0-9]{1,6}$'))",
            message: 'partitionMapping keys are source partition numbers written as strings, e.g. "0": 3',
          },
        ],
      },
    ),
    repartitioning,
    offsetReset,
    rollback,
    rateLimiting,
    circuitBreaker,
    encryption: decryption,
    dryRun: boolean(
      'Check everything (backup readable and complete for the window, checksums, target reachable, topics and permissions) and report the plan, without writing to the target.',
      { default: false },
    ),
    produceBatchSize: integer('Records per produce request.', {
      minimum: 1,
      maximum: 100_000,
      default: 1000,
    }),
    produceAcks: integer(
      'Producer acks: -1 (all in-sync replicas, idempotent: up to four stored batches of a partition in flight), ' +
        '0 (none) or 1 (leader). 0 and 1 write without idempotence, one request of a partition at a time, ' +
        'and a retried write may be duplicated.',
      {
        enum: [-1, 0, 1],
        default: -1,
        format: 'int32',
      },
    ),
    produceTimeoutMs: integer('Broker-side produce timeout in milliseconds.', {
      minimum: 1,
      maximum: 3_600_000,
      default: 30000,
      format: 'int32',
    }),
    purgeTopics: boolean(
      'Delete all existing records of the target topics before restoring (DeleteRecords). Destructive: combine with approval.policy: Manual to review first.',
      { default: false },
    ),
    autoConsumerGroups: boolean(
      'Restore the consumer groups saved by the backup (KafkaBackup.consumerGroupSnapshot), translated to the restored offsets.',
      { default: false },
    ),
    createTopics: boolean(
      'Create missing target topics with the partition count and configs recorded in the backup.',
      { default: false },
    ),
    topicConfigs: map(
      "Per target topic: topic configs for topics created by createTopics, overriding those recorded in the backup, e.g. {orders-restored: {retention.ms: '604800000'}}.",
      map('Topic config name -> value.', string('Config value.', { maxLength: 4096 }), {
        maxProperties: 64,
        rules: [
          {
            rule: "self.all(k, size(k) <= 255 && k.matches('^[a-z0-9.]+$'))",
            message:
              "topic config names are lowercase Kafka config names, e.g. 'retention.ms' or 'cleanup.policy'",
          },
        ],
      }),
      { maxProperties: MAX_TOPICS, rules: [topicKeysRule('topicConfigs', 'target topic names')] },
    ),
    defaultReplicationFactor: integer(
      "Replication factor of topics created by createTopics. Defaults to the broker's default.replication.factor.",
      { minimum: 1, maximum: 32, format: 'int32' },
    ),
    approval: approval('purgeTopics, committing consumer offsets'),
    activeDeadlineSeconds,
    metrics: runMetrics('restore', { partitionLabels: false }),
  },
  {
    required: ['backupRef', 'kafkaCluster'],
    rules: [
      {
        rule: '!has(self.topicConfigs) || size(self.topicConfigs) == 0 || (has(self.createTopics) && self.createTopics)',
        fieldPath: '.topicConfigs',
        message:
          'topicConfigs only apply to topics the restore creates: set createTopics: true, or remove topicConfigs',
      },
      {
        rule: '!has(self.defaultReplicationFactor) || (has(self.createTopics) && self.createTopics)',
        fieldPath: '.defaultReplicationFactor',
        message:
          'defaultReplicationFactor only applies to topics the restore creates: set createTopics: true, or remove defaultReplicationFactor',
      },
    ],
  },
);

const status: Schema = object('State of the restore, written by the operator.', {
  ...commonStatus(['Pending', 'AwaitingApproval', 'Running', 'Completed', 'Failed', 'RolledBack']),
  backupId: string('The backup set being restored.', { maxLength: 253 }),
  startTime: timestamp('When the restore started acting; from then on the spec is immutable.'),
  completionTime: timestamp('When the restore ended.'),
  progressPercent: integer('Progress of the restore, 0-100.', { minimum: 0, maximum: 100, format: 'int32' }),
  currentTopic: string('Target topic being written while the restore runs.', {
    maxLength: 249,
  }),
  recordsRestored: counter('Records written to the target.'),
  bytesRestored: counter('Bytes written to the target.'),
  segmentsProcessed: counter('Backup segments read.'),
  throughputRecordsPerSec: counter('Records per second.'),
  etaMs: counter('Estimated milliseconds until the restore ends.'),
  offsetMappingPath: string(
    'Where the offset mapping of this restore was written (for KafkaOffsetReset from-mapping).',
    {
      maxLength: 4096,
    },
  ),
  plan: object(
    'What the restore will do, published before it acts (and awaits approval, with policy Manual).',
    {
      topics: array('Target topics to be written.', string('A topic.', { maxLength: 249 }), {
        maxItems: MAX_TOPICS,
      }),
      purgeTopics: array(
        'Target topics whose records will be deleted first.',
        string('A topic.', { maxLength: 249 }),
        {
          maxItems: MAX_TOPICS,
        },
      ),
      consumerGroups: array(
        'Consumer groups whose offsets will be committed.',
        string('A group.', { maxLength: 255 }),
        {
          maxItems: 1000,
        },
      ),
      records: counter('Records to restore (from the backup manifest).'),
    },
  ),
  rollback: object('Offset snapshot taken before the restore committed offsets.', {
    snapshotId: string('Snapshot id, usable in KafkaOffsetRollback.spec.snapshotRef.name.', {
      maxLength: 253,
    }),
    snapshotTime: timestamp('When the snapshot was taken.'),
    snapshotPath: string('Where the snapshot is stored.', { maxLength: 4096 }),
    rollbackAvailable: boolean('Whether the snapshot can still be rolled back to.'),
    expiresAt: timestamp('When the snapshot is deleted (rollback.snapshotRetentionHours).'),
  }),
});

export const kafkaRestore: KindDefinition = {
  kind: 'KafkaRestore',
  plural: 'kafkarestores',
  shortNames: ['kr'],
  description:
    'KafkaRestore writes a backup (or a point-in-time window of it) into a Kafka cluster, optionally renaming topics, repartitioning and restoring consumer group offsets. It runs once; its spec is immutable once started.',
  spec,
  status,
  rules: [immutableOnceStarted(spec, 'KafkaRestore')],
  printerColumns: [
    READY_COLUMN,
    PHASE_COLUMN,
    { name: 'Progress', type: 'integer', jsonPath: '.status.progressPercent', description: 'Percent done.' },
    {
      name: 'Records',
      type: 'integer',
      jsonPath: '.status.recordsRestored',
      description: 'Records restored.',
    },
    {
      name: 'Started',
      type: 'date',
      jsonPath: '.status.startTime',
      description: 'When the restore started.',
    },
    {
      name: 'Backup',
      type: 'string',
      jsonPath: '.spec.backupRef.name',
      description: 'Source KafkaBackup.',
      priority: 1,
    },
    AGE_COLUMN,
  ],
};
