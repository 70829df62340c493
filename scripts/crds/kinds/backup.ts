import { AGE_COLUMN, type KindDefinition, PHASE_COLUMN, READY_COLUMN } from '../crd.ts';
import { array, boolean, integer, object, type Schema, string } from '../schema.ts';
import {
  activeDeadlineSeconds,
  circuitBreaker,
  commonStatus,
  counter,
  encryption,
  kafkaCluster,
  MAX_TOPICS,
  rateLimiting,
  runHistory,
  runMetrics,
  scheduleFields,
  scheduleRules,
  storage,
  timestamp,
  topicPattern,
} from '../shared.ts';

export const COMPRESSIONS = ['none', 'lz4', 'zstd', 'gzip'] as const;

const retention: Schema = object(
  "Deletion of old runs of this backup after each successful run. A run (one scheduled or incremental run, listed in status.storedRuns) is deleted whole, never in part, and only the oldest runs go: what is kept of every partition is contiguous, so every kept run restores completely, and the newest minSuccessful finished runs that stored records are always kept, so the last good backup is never deleted. Runs that stored nothing (a quiet topic on a frequent schedule) add no restore point and are not counted by keepLast or minSuccessful. The deletion is recorded in the backup's manifest before any object is deleted, holding the backup's storage lease so that no run writes meanwhile; a failure never fails the run (status.retentionError, Event RetentionFailed) and the next pass finishes it.",
  {
    enabled: boolean('Turn retention on.', { default: false }),
    maxAgeDays: integer('Delete runs whose last commit is older than this many days.', {
      minimum: 1,
      maximum: 36500,
      format: 'int32',
    }),
    keepLast: integer(
      'Keep the newest N runs that stored records (finished or not), and the runs after the oldest of them; older runs are deleted.',
      {
        minimum: 1,
        maximum: 100000,
        format: 'int32',
      },
    ),
    minSuccessful: integer(
      'Never delete the newest N finished (successful) runs that stored records, nor any run after the oldest of them, whatever maxAgeDays and keepLast say. At least 1: the last good backup always survives.',
      { minimum: 1, maximum: 100000, default: 1, format: 'int32' },
    ),
    dryRun: boolean(
      'Only report what would be deleted (status.retentionEligibleBackups, Event RetentionDryRun); nothing is written or deleted.',
      {
        default: false,
      },
    ),
  },
  {
    rules: [
      {
        rule: '!(has(self.enabled) && self.enabled) || has(self.maxAgeDays) || has(self.keepLast)',
        fieldPath: '.enabled',
        message:
          'retention is enabled without a limit: set retention.maxAgeDays, retention.keepLast or both, or set enabled: false',
      },
    ],
  },
);

const checkpoint: Schema = object(
  'How often a run records its progress, so an interrupted run resumes without gaps or duplicates.',
  {
    enabled: boolean(
      'Record progress every intervalSecs. When false, progress is still recorded every 5 seconds. Does not imply continuous.',
      { default: true },
    ),
    intervalSecs: integer('Seconds between checkpoints.', { minimum: 1, maximum: 86400, default: 30 }),
  },
);

const metrics = runMetrics('backup', { partitionLabels: true });

const spec: Schema = object(
  'What to back up, where to, and when.',
  {
    kafkaCluster,
    topics: array(
      "Topics to back up: names or patterns with '*' (any characters) and '?' (one character), e.g. 'orders' or 'events-*'. Patterns do not select internal topics (starting with '__') unless includeInternalTopics is true.",
      topicPattern('A topic name or pattern.'),
      { minItems: 1, maxItems: MAX_TOPICS },
    ),
    excludeTopics: array(
      "Topics to leave out even when topics selects them, as names or patterns, e.g. 'events-debug-*'.",
      topicPattern('A topic name or pattern.'),
      { maxItems: MAX_TOPICS },
    ),
    includeInternalTopics: boolean(
      "Let patterns in topics select topics whose names start with '__'. Kafka's own internal topics (__consumer_offsets, __transaction_state) are not backed up by this version: a backup that selects one fails before reading any record, naming it; leave them out with excludeTopics, and save consumer group offsets with consumerGroupSnapshot.",
      { default: false },
    ),
    storage: storage('Where backup sets are written.'),
    compression: string('Compression of backup segments: zstd, lz4, gzip or none.', {
      enum: COMPRESSIONS,
      default: 'zstd',
    }),
    compressionLevel: integer(
      'Compression level: 1-22 for zstd, 1-9 for gzip; ignored for lz4 and none. Higher is smaller and slower.',
      { minimum: 1, maximum: 22, default: 3, format: 'int32' },
    ),
    encryption,
    segmentMaxBytes: integer('Start a new segment object after this many bytes.', {
      minimum: 1,
      default: 134217728,
    }),
    segmentMaxIntervalMs: integer('Start a new segment object after this many milliseconds.', {
      minimum: 1,
      default: 60000,
    }),
    continuous: boolean(
      'Streaming mode: the backup runs until deleted or suspended, following new records. Excludes stopAtCurrentOffsets and schedule.',
      { default: false },
    ),
    stopAtCurrentOffsets: boolean(
      'Snapshot mode: each run stops at the end offsets captured when it started, so it finishes even while producers write. Recommended for scheduled backups.',
      { default: false },
    ),
    includeOffsetHeaders: boolean(
      "Record each record's original offset in the backup (in the backup format, never as a record header), so a restore can map consumer group offsets. Always on: incremental runs and resume need the offsets too, so false is refused when a run starts (the field stays for YAML written for the previous operator).",
      { default: true },
    ),
    sourceClusterId: string('Label for the source cluster, recorded in the backup manifest.', {
      maxLength: 253,
    }),
    pollIntervalMs: integer('Poll interval in continuous mode, in milliseconds.', {
      minimum: 1,
      maximum: 60000,
      default: 100,
    }),
    consumerGroupSnapshot: boolean(
      "Also save the consumer groups' committed offsets with each run, for KafkaRestore.autoConsumerGroups.",
      { default: false },
    ),
    ...scheduleFields('the backup'),
    checkpoint,
    retention,
    rateLimiting,
    circuitBreaker,
    activeDeadlineSeconds,
    metrics,
  },
  {
    required: ['kafkaCluster', 'topics', 'storage'],
    rules: [
      ...scheduleRules,
      {
        rule: '!(has(self.continuous) && self.continuous && has(self.stopAtCurrentOffsets) && self.stopAtCurrentOffsets)',
        fieldPath: '.stopAtCurrentOffsets',
        message:
          'continuous and stopAtCurrentOffsets exclude each other: continuous follows new records forever, stopAtCurrentOffsets stops at the offsets seen at start; keep one',
      },
      {
        rule: '!(has(self.continuous) && self.continuous && has(self.schedule))',
        fieldPath: '.schedule',
        message:
          'a continuous backup never ends, so it cannot be scheduled: remove schedule, or set continuous: false (with stopAtCurrentOffsets: true) for scheduled runs',
      },
      {
        rule: '!(has(self.continuous) && self.continuous && has(self.activeDeadlineSeconds))',
        fieldPath: '.activeDeadlineSeconds',
        message:
          'a continuous backup never ends, so a run deadline would always stop it: remove activeDeadlineSeconds, or set continuous: false',
      },
      {
        rule: "!has(self.compression) || self.compression != 'gzip' || !has(self.compressionLevel) || self.compressionLevel <= 9",
        fieldPath: '.compressionLevel',
        message:
          'gzip supports compressionLevel 1-9: lower compressionLevel, or use compression: zstd (1-22)',
      },
    ],
  },
);

const status: Schema = object('State of the backup, written by the operator.', {
  ...commonStatus(['Pending', 'Ready', 'Running', 'Completed', 'Failed', 'Suspended']),
  backupId: string("Id of the last successful backup set, e.g. 'hourly-backup-20241201-120000'.", {
    maxLength: 253,
  }),
  startTime: timestamp('When the current or last run started.'),
  completionTime: timestamp('When the last run ended.'),
  lastBackupTime: timestamp('When the last successful run ended.'),
  lastScheduleTime: timestamp(
    'When a run was last started (scheduled, one-shot or requested by annotation).',
  ),
  lastSuccessfulTime: timestamp('When the last successful run ended.'),
  nextScheduleTime: timestamp('When the next scheduled run starts; absent when unscheduled or suspended.'),
  nextScheduledBackup: timestamp(
    'Same as nextScheduleTime; kept for tools written for the previous operator.',
  ),
  recordsProcessed: counter('Records written by the last run.'),
  bytesProcessed: counter('Bytes written by the last run.'),
  segmentsCompleted: counter('Segments written by the last run.'),
  checkpointEnabled: boolean('Whether the run records checkpoints.'),
  lastCheckpointTime: timestamp('When the running backup last recorded progress.'),
  resumable: boolean('Whether an interrupted run can resume from its last checkpoint.'),
  throughputRecordsPerSec: counter('Records per second of the current or last run.'),
  throughputBytesPerSec: counter('Bytes per second of the current or last run.'),
  lastRetentionTime: timestamp('When retention last ran.'),
  retentionInspectedBackups: counter('Runs the last retention pass looked at.'),
  retentionEligibleBackups: counter('Runs the last retention pass found eligible for deletion.'),
  retentionDeletedBackups: counter('Runs the last retention pass deleted (0 in a dry run).'),
  retentionReclaimedBytes: counter('Bytes of segment objects the last retention pass deleted.'),
  retentionDryRun: boolean('Whether the last retention pass was a dry run.'),
  retentionError: string('Why the last retention pass failed; cleared by the next successful one.', {
    maxLength: 32768,
  }),
  history: runHistory(),
  lastRunId: string('Id of the last finished run (a run of the backup set in backupId).', { maxLength: 253 }),
  lastRunDurationSeconds: counter('How long the last finished run took, in whole seconds.'),
  storedRuns: array(
    'The runs the backup set in storage holds, oldest first, as read from storage (not remembered): after a disaster the operator lists what the bucket has. At most the newest 50.',
    object('One run recorded in the backup manifest.', {
      id: string('Run id.', { maxLength: 253 }),
      startTime: timestamp('When the run started.'),
      lastCommitTime: timestamp('When the run last committed data.'),
      records: counter('Records the run stored.'),
      bytes: counter('Bytes the run stored.'),
      segments: counter('Segments the run stored.'),
    }),
    { maxItems: 50 },
  ),
  storedRunCount: counter('How many runs the backup set in storage holds.'),
  storedRecords: counter('Records the backup set in storage holds.'),
  storedBytes: counter('Bytes the backup set in storage holds.'),
  firstRecoverabilityPoint: timestamp(
    'Earliest record timestamp the backup set in storage holds: the earliest time a restore can go back to.',
  ),
  lastRecoverabilityPoint: timestamp(
    'Latest record timestamp the backup set in storage holds: the latest time a restore can reach.',
  ),
  storageReadTime: timestamp(
    'When the operator last read storedRuns and the recoverability points from storage.',
  ),
});

export const kafkaBackup: KindDefinition = {
  kind: 'KafkaBackup',
  plural: 'kafkabackups',
  shortNames: ['kb'],
  description:
    'KafkaBackup copies Kafka topics to object storage or a volume: once, continuously, or on a cron schedule, with retention.',
  spec,
  status,
  printerColumns: [
    READY_COLUMN,
    PHASE_COLUMN,
    {
      name: 'Schedule',
      type: 'string',
      jsonPath: '.spec.schedule',
      description: 'Cron schedule.',
      priority: 1,
    },
    {
      name: 'Last Run',
      type: 'date',
      jsonPath: '.status.lastScheduleTime',
      description: 'When a run last started.',
    },
    {
      name: 'Last Success',
      type: 'date',
      jsonPath: '.status.lastSuccessfulTime',
      description: 'When the last successful run ended.',
    },
    {
      name: 'Next Run',
      // A timestamp, not a date column: kubectl shows a date column as an age, and a time in the
      // future (every next run) as <invalid>.
      type: 'string',
      jsonPath: '.status.nextScheduleTime',
      description: 'When the next scheduled run starts (UTC).',
    },
    {
      name: 'Records',
      type: 'integer',
      jsonPath: '.status.recordsProcessed',
      description: 'Records written by the last run.',
      priority: 1,
    },
    AGE_COLUMN,
  ],
};
