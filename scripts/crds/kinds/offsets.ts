/** KafkaOffsetReset and KafkaOffsetRollback: the two kinds that commit consumer group offsets. */
import { AGE_COLUMN, immutableOnceStarted, type KindDefinition, PHASE_COLUMN, READY_COLUMN } from '../crd.ts';
import { array, boolean, integer, object, type Schema, string } from '../schema.ts';
import {
  activeDeadlineSeconds,
  approval,
  commonStatus,
  consumerGroupList,
  counter,
  k8sName,
  kafkaCluster,
  MAX_GROUPS,
  MAX_TOPICS,
  storage,
  timestamp,
  topicName,
} from '../shared.ts';

export const RESET_STRATEGIES = [
  'to-earliest',
  'to-latest',
  'to-timestamp',
  'to-offset',
  'shift-by',
  'from-mapping',
  'from-snapshot',
] as const;

const groupResults: Schema = array(
  'Outcome per consumer group.',
  object('One group.', {
    groupId: string('Consumer group id.', { maxLength: 255 }),
    success: boolean('Whether the group was handled.'),
    error: string('Why it failed.', { maxLength: 4096 }),
    message: string('Detail, e.g. already at target (no-op).', { maxLength: 4096 }),
    partitionsReset: counter('Partitions whose offset was committed.'),
  }),
  { maxItems: MAX_GROUPS },
);

const offsetMappingRef: Schema = object(
  'Where the offset mapping for from-mapping comes from. Resolution order: pvcName (+ path), path, restoreName. If offsetMappingRef is omitted, the mapping of the most recently completed KafkaRestore in this namespace that produced one is used.',
  {
    restoreName: string('Name of a KafkaRestore in this namespace; its status.offsetMappingPath is used.', {
      maxLength: 253,
    }),
    path: string('Path of the mapping file (inside pvcName when given, else in the backup storage).', {
      maxLength: 4096,
    }),
    pvcName: k8sName(
      'PersistentVolumeClaim holding the mapping file (default file name offset-mapping.json).',
    ),
  },
  {
    rules: [
      {
        rule: 'has(self.restoreName) || has(self.path) || has(self.pvcName)',
        message:
          'offsetMappingRef is empty: set restoreName (a KafkaRestore), or path (and pvcName) of a mapping file',
      },
    ],
  },
);

/** The same reference in KafkaOffsetRollback and (for from-snapshot) KafkaOffsetReset, read the same way by the CLI. */
const snapshotReference = (purpose: string): Schema =>
  object(
    `${purpose}. It is a snapshot taken by a KafkaOffsetReset (snapshotBeforeReset), a KafkaRestore (rollback.snapshotBeforeRestore) or 'kafka-backup offsets snapshot', or a snapshot file.`,
    {
      name: string(
        'Snapshot id (status.snapshotId of a KafkaOffsetReset, status.rollback.snapshotId of a KafkaRestore), or a label when path is given.',
        { minLength: 1, maxLength: 253 },
      ),
      path: string('Path of a snapshot file (inside pvcName when given, else in storage).', {
        maxLength: 4096,
      }),
      pvcName: k8sName('PersistentVolumeClaim holding the snapshot file.'),
      restoreRef: string('Name of a KafkaRestore in this namespace whose pre-restore snapshot to use.', {
        maxLength: 253,
      }),
      offsetResetRef: string(
        'Name of a KafkaOffsetReset in this namespace whose pre-reset snapshot to use.',
        {
          maxLength: 253,
        },
      ),
      storage: storage('Storage holding the snapshot, when it is not that of the referenced resource.'),
    },
    {
      required: ['name'],
      rules: [
        {
          rule: '!(has(self.restoreRef) && has(self.offsetResetRef))',
          fieldPath: '.offsetResetRef',
          message:
            'snapshotRef.restoreRef and snapshotRef.offsetResetRef exclude each other: keep the one that took the snapshot',
        },
      ],
    },
  );

const resetSpec: Schema = object(
  'Which consumer groups to move, and where to.',
  {
    kafkaCluster,
    consumerGroups: consumerGroupList('Consumer groups to reset, processed in order.', 1),
    resetStrategy: string(
      'to-earliest: log start; to-latest: end of the log; to-timestamp: first offset at or after resetTimestamp; to-offset: resetOffset on every partition; shift-by: the committed offset plus resetShift; from-mapping: translate the current offsets through the offset mapping of a restore; from-snapshot: the offsets stored in the snapshot named by snapshotRef.',
      { enum: RESET_STRATEGIES },
    ),
    resetTimestamp: integer('Epoch milliseconds, for to-timestamp.', { minimum: 0 }),
    resetOffset: integer('Absolute offset set on every partition, for to-offset.', { minimum: 0 }),
    resetShift: integer(
      "Records to move each committed offset by, for shift-by: positive skips records, negative re-reads them (e.g. -100). Partitions without a committed offset are skipped; a target outside the log is clamped to the partition's log start or end. Same as 'kafka-backup offsets reset --shift'.",
      {
        minimum: -1_000_000_000_000,
        maximum: 1_000_000_000_000,
        rules: [
          {
            rule: 'self != 0',
            message: 'resetShift 0 moves nothing: set a positive or negative number of records',
          },
        ],
      },
    ),
    snapshotRef: snapshotReference(
      "For from-snapshot: the offset snapshot whose offsets are committed (name is the snapshot id, as 'kafka-backup offsets reset --snapshot-id'); only its partitions of the selected groups and topics are committed",
    ),
    topics: array(
      'Only reset these topics. Empty means every topic the group has committed offsets for.',
      topicName('A topic name.'),
      { maxItems: MAX_TOPICS, default: [] },
    ),
    parallelism: integer('Consumer groups processed in parallel.', {
      minimum: 1,
      maximum: 1000,
      default: 50,
    }),
    dryRun: boolean('Compute and report the target offsets per group and partition, commit nothing.', {
      default: false,
    }),
    continueOnError: boolean(
      'Keep going with the other groups when one fails (phase PartiallyCompleted). Committed groups stay committed.',
      { default: false },
    ),
    offsetMappingRef,
    snapshotBeforeReset: boolean(
      'Save the current offsets of the groups before committing (status.snapshotId), so a KafkaOffsetRollback can undo the reset.',
      { default: true },
    ),
    approval: approval('committing consumer group offsets'),
    activeDeadlineSeconds,
  },
  {
    required: ['kafkaCluster', 'consumerGroups', 'resetStrategy'],
    rules: [
      {
        rule: "self.resetStrategy != 'to-timestamp' || has(self.resetTimestamp)",
        fieldPath: '.resetTimestamp',
        reason: 'FieldValueRequired',
        message:
          'resetStrategy to-timestamp needs resetTimestamp: set it to epoch milliseconds, e.g. 1733054400000',
      },
      {
        rule: "self.resetStrategy != 'to-offset' || has(self.resetOffset)",
        fieldPath: '.resetOffset',
        reason: 'FieldValueRequired',
        message:
          'resetStrategy to-offset needs resetOffset: set it to the offset to commit on every partition',
      },
      {
        rule: "!has(self.resetTimestamp) || self.resetStrategy == 'to-timestamp'",
        fieldPath: '.resetTimestamp',
        message:
          'resetTimestamp is only used by resetStrategy to-timestamp: remove it, or change resetStrategy',
      },
      {
        rule: "!has(self.resetOffset) || self.resetStrategy == 'to-offset'",
        fieldPath: '.resetOffset',
        message: 'resetOffset is only used by resetStrategy to-offset: remove it, or change resetStrategy',
      },
      {
        rule: "self.resetStrategy != 'shift-by' || has(self.resetShift)",
        fieldPath: '.resetShift',
        reason: 'FieldValueRequired',
        message:
          'resetStrategy shift-by needs resetShift: set it to the number of records to move, e.g. -100 to re-read the last 100',
      },
      {
        rule: "self.resetStrategy != 'from-snapshot' || has(self.snapshotRef)",
        fieldPath: '.snapshotRef',
        reason: 'FieldValueRequired',
        message:
          'resetStrategy from-snapshot needs snapshotRef: set snapshotRef.name to the snapshot id (kafka-backup offsets snapshot --list shows them)',
      },
      {
        rule: "!has(self.resetShift) || self.resetStrategy == 'shift-by'",
        fieldPath: '.resetShift',
        message: 'resetShift is only used by resetStrategy shift-by: remove it, or change resetStrategy',
      },
      {
        rule: "!has(self.snapshotRef) || self.resetStrategy == 'from-snapshot'",
        fieldPath: '.snapshotRef',
        message:
          'snapshotRef is only used by resetStrategy from-snapshot: remove it, or change resetStrategy',
      },
      {
        rule: "!has(self.offsetMappingRef) || self.resetStrategy == 'from-mapping'",
        fieldPath: '.offsetMappingRef',
        message:
          'offsetMappingRef is only used by resetStrategy from-mapping: remove it, or change resetStrategy',
      },
    ],
  },
);

const resetStatus: Schema = object('State of the reset, written by the operator.', {
  ...commonStatus(['Pending', 'AwaitingApproval', 'Running', 'Completed', 'PartiallyCompleted', 'Failed']),
  startTime: timestamp('When the reset started acting; from then on the spec is immutable.'),
  completionTime: timestamp('When the reset ended.'),
  duration: string("How long it took, e.g. '1.23s'.", { maxLength: 64 }),
  groupsTotal: counter('Consumer groups in the spec.'),
  groupsReset: counter('Groups whose offsets were committed.'),
  groupsFailed: counter('Groups that failed.'),
  snapshotId: string('Id of the snapshot taken before the reset (snapshotBeforeReset).', { maxLength: 253 }),
  snapshotPath: string('Where that snapshot is stored; KafkaOffsetRollback reads it.', { maxLength: 4096 }),
  groupResults,
});

export const kafkaOffsetReset: KindDefinition = {
  kind: 'KafkaOffsetReset',
  plural: 'kafkaoffsetresets',
  shortNames: ['kor'],
  description:
    'KafkaOffsetReset moves the committed offsets of consumer groups (to earliest, latest, a timestamp, an offset, by a shift, through the offset mapping of a restore, or back to a stored offset snapshot). It runs once; its spec is immutable once started. Groups must have no active members.',
  spec: resetSpec,
  status: resetStatus,
  rules: [immutableOnceStarted(resetSpec, 'KafkaOffsetReset')],
  printerColumns: [
    READY_COLUMN,
    PHASE_COLUMN,
    { name: 'Strategy', type: 'string', jsonPath: '.spec.resetStrategy', description: 'Reset strategy.' },
    { name: 'Groups', type: 'integer', jsonPath: '.status.groupsReset', description: 'Groups reset.' },
    { name: 'Failed', type: 'integer', jsonPath: '.status.groupsFailed', description: 'Groups failed.' },
    { name: 'Started', type: 'date', jsonPath: '.status.startTime', description: 'When the reset started.' },
    AGE_COLUMN,
  ],
};

const rollbackSpec: Schema = object(
  'Which offset snapshot to restore, in which cluster.',
  {
    snapshotRef: snapshotReference('The offset snapshot to go back to'),
    kafkaCluster,
    consumerGroups: consumerGroupList(
      'Only roll back these groups. Empty means every group in the snapshot.',
    ),
    dryRun: boolean('Report the offsets that would be committed, commit nothing.', { default: false }),
    verifyAfterRollback: boolean(
      'Read the offsets back after committing and fail (status.verification) when they differ from the snapshot.',
      { default: true },
    ),
    approval: approval('committing consumer group offsets'),
    activeDeadlineSeconds,
  },
  { required: ['snapshotRef', 'kafkaCluster'] },
);

const rollbackStatus: Schema = object('State of the rollback, written by the operator.', {
  ...commonStatus(['Pending', 'AwaitingApproval', 'Running', 'Completed', 'PartiallyCompleted', 'Failed']),
  startTime: timestamp('When the rollback started acting; from then on the spec is immutable.'),
  completionTime: timestamp('When the rollback ended.'),
  duration: string("How long it took, e.g. '1.23s'.", { maxLength: 64 }),
  groupsRolledBack: counter('Groups whose offsets were restored.'),
  groupsFailed: counter('Groups that failed.'),
  verified: boolean('Whether verification passed.'),
  verification: object('Result of verifyAfterRollback.', {
    allMatched: boolean('Every group matches the snapshot.'),
    totalGroups: counter('Groups verified.'),
    matchedGroups: counter('Groups matching the snapshot.'),
    mismatchedGroups: array('Groups that do not match.', string('A group.', { maxLength: 255 }), {
      maxItems: MAX_GROUPS,
    }),
  }),
  groupResults,
});

export const kafkaOffsetRollback: KindDefinition = {
  kind: 'KafkaOffsetRollback',
  plural: 'kafkaoffsetrollbacks',
  shortNames: ['korb'],
  description:
    'KafkaOffsetRollback puts consumer group offsets back to a snapshot taken before a reset or restore. It runs once; its spec is immutable once started.',
  spec: rollbackSpec,
  status: rollbackStatus,
  rules: [immutableOnceStarted(rollbackSpec, 'KafkaOffsetRollback')],
  printerColumns: [
    READY_COLUMN,
    PHASE_COLUMN,
    {
      name: 'Groups',
      type: 'integer',
      jsonPath: '.status.groupsRolledBack',
      description: 'Groups rolled back.',
    },
    { name: 'Failed', type: 'integer', jsonPath: '.status.groupsFailed', description: 'Groups failed.' },
    {
      name: 'Started',
      type: 'date',
      jsonPath: '.status.startTime',
      description: 'When the rollback started.',
    },
    AGE_COLUMN,
  ],
};
