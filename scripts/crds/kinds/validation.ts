import { AGE_COLUMN, immutableOnceStarted, type KindDefinition, PHASE_COLUMN, READY_COLUMN } from '../crd.ts';
import { array, boolean, integer, map, object, type Schema, string } from '../schema.ts';
import {
  activeDeadlineSeconds,
  backupRef,
  commonStatus,
  consumerGroupList,
  counter,
  decryption,
  kafkaCluster,
  MAX_TOPICS,
  runHistory,
  scheduleFields,
  scheduleRules,
  secretRef,
  storage,
  timestamp,
  topicKeysRule,
  topicName,
} from '../shared.ts';

const enabled = (what: string, dflt: boolean) => boolean(`Run the ${what} check.`, { default: dflt });

const checks: Schema = object(
  'Which checks to run. At least one must be enabled. messageCount, offsetRange and consumerGroupOffsets compare a cluster (kafkaCluster) with the backup; integrity reads the backup only; restoreSample restores part of the backup into a scratch topic of kafkaCluster.',
  {
    messageCount: object('Records per partition in the cluster equal those in the backup.', {
      enabled: enabled('message count', true),
      failThreshold: integer('Allowed difference per partition; 0 means exact.', { minimum: 0, default: 0 }),
      topics: array('Topics to check (backup names). Empty means all.', topicName('A topic.'), {
        maxItems: MAX_TOPICS,
      }),
    }),
    offsetRange: object("The cluster's high watermark covers the backup's last offset per partition.", {
      enabled: enabled('offset range', true),
    }),
    consumerGroupOffsets: object('Consumer group offsets are readable and within the restored ranges.', {
      enabled: enabled('consumer group offset', true),
      consumerGroups: consumerGroupList('Groups to check. Empty means all.'),
    }),
    integrity: object(
      'Every object of the backup set is present and matches the checksum in its manifest (reads the whole backup set).',
      {
        enabled: enabled('integrity', false),
        deep: boolean(
          "Deep mode: download every segment, verify its checksum and decode its records, so record counts and offset continuity are checked record by record (quick mode only checks each object's presence and size). Reads the whole backup. Same as 'kafka-backup validate --deep'.",
          { default: false },
        ),
      },
      {
        rules: [
          {
            rule: '!(has(self.deep) && self.deep) || (has(self.enabled) && self.enabled)',
            fieldPath: '.deep',
            message:
              'integrity.deep is set but the integrity check is disabled: set checks.integrity.enabled to true, or remove deep',
          },
        ],
      },
    ),
    restoreSample: object(
      "Restore check: restores sampled segments of every partition into a scratch topic of kafkaCluster (created with CreateTime, deleted afterwards), reads them back and compares key, value, headers and timestamp byte for byte. Same as 'kafka-backup validate --restore-sample'.",
      {
        enabled: enabled('restore-sample', false),
        // No schema default: a defaulted value would collide with all (rule below).
        segmentsPerPartition: integer(
          'Segments restored per partition, spread over the partition. Defaults to 1 unless all is true.',
          { minimum: 1, maximum: 10000, format: 'int32' },
        ),
        all: boolean('Restore every segment of the backup instead of a sample (slow for large backups).', {
          default: false,
        }),
        scratchTopicPrefix: string(
          'Prefix of the scratch topic; the backup id and a random suffix are appended. Needs create and delete rights on such topics.',
          { minLength: 1, maxLength: 80, pattern: '^[a-zA-Z0-9._-]+$', default: 'kafka-backup-validation' },
        ),
      },
      {
        rules: [
          {
            rule: '!(has(self.all) && self.all && has(self.segmentsPerPartition))',
            fieldPath: '.segmentsPerPartition',
            message:
              'restoreSample.all restores every segment, so segmentsPerPartition has no effect: remove one of them',
          },
        ],
      },
    ),
    customWebhooks: array(
      'Your own checks: each webhook receives a JSON POST describing the backup and the cluster, and passes when it answers with expectedStatusCode.',
      object(
        'One webhook check.',
        {
          name: string('Check name, shown in status.checkResults.', { minLength: 1, maxLength: 63 }),
          url: string('http(s) URL to POST to.', {
            minLength: 1,
            maxLength: 2048,
            rules: [
              {
                rule: "self.matches('^https?://[^ ]+$')",
                message: "url must be an http:// or https:// URL, e.g. 'https://checks.example.com/kafka'",
              },
            ],
          }),
          timeoutSecs: integer('Seconds to wait for the answer; a timeout fails the check.', {
            minimum: 1,
            maximum: 3600,
            default: 120,
          }),
          expectedStatusCode: integer('HTTP status that means pass.', {
            minimum: 100,
            maximum: 599,
            default: 200,
            format: 'int32',
          }),
        },
        { required: ['name', 'url'] },
      ),
      { maxItems: 32, listType: 'map', mapKeys: ['name'] },
    ),
  },
);

const restoreSampleOn =
  'has(self.checks) && has(self.checks.restoreSample) && has(self.checks.restoreSample.enabled) && self.checks.restoreSample.enabled';

const anyCheck = [
  '(!has(self.checks.messageCount) || !has(self.checks.messageCount.enabled) || self.checks.messageCount.enabled)',
  '(!has(self.checks.offsetRange) || !has(self.checks.offsetRange.enabled) || self.checks.offsetRange.enabled)',
  '(!has(self.checks.consumerGroupOffsets) || !has(self.checks.consumerGroupOffsets.enabled) || self.checks.consumerGroupOffsets.enabled)',
];

const evidence: Schema = object(
  'Evidence report of each validation run, e.g. for SOX, CMMC or GDPR audits.',
  {
    formats: array(
      "Report formats: json (the report that is signed and verified; always written) and html (a rendering for people, its SHA-256 inside the signed JSON). The previous operator's pdf is not produced: print the HTML rendering to PDF where a PDF is required.",
      string('A format.', { enum: ['json', 'html'] }),
      {
        minItems: 1,
        maxItems: 2,
        listType: 'set',
        default: ['json'],
        rules: [
          {
            rule: "'json' in self",
            message:
              "evidence.formats must include json: it is the report that is signed and verified (add 'html' for a readable rendering)",
          },
        ],
      },
    ),
    signing: object(
      'Sign the report (ECDSA P-256, SHA-256) with a key from a Secret.',
      {
        enabled: boolean('Sign reports.', { default: false }),
        keySecret: secretRef('Secret with the PEM signing key pair.', {
          privateKeyKey: { description: 'Key of the PEM private key.', default: 'signing-key.pem' },
          publicKeyKey: { description: 'Key of the PEM public key.', default: 'signing-key-pub.pem' },
        }),
      },
      {
        rules: [
          {
            rule: '!(has(self.enabled) && self.enabled) || has(self.keySecret)',
            fieldPath: '.keySecret',
            reason: 'FieldValueRequired',
            message:
              'signing is enabled without a key: set evidence.signing.keySecret.name to a Secret with the PEM key pair',
          },
        ],
      },
    ),
    storage: storage('Where reports are written. Defaults to the storage of the backup.'),
    retentionDays: integer(
      "Keep reports this many days: after each run, this backup's reports older than that (by the time in their report id) are deleted from the evidence storage.",
      {
        minimum: 1,
        maximum: 36500,
        default: 90,
        format: 'int32',
      },
    ),
  },
);

const notifications: Schema = object(
  'Where to send the result of each run (outcome, failed checks, report location; never the report details).',
  {
    slack: object(
      'Slack incoming webhook.',
      {
        webhookSecret: secretRef(
          'Secret with the webhook URL.',
          { key: { description: 'Key of the URL.' } },
          {
            requiredKeys: ['key'],
          },
        ),
      },
      { required: ['webhookSecret'] },
    ),
    pagerduty: object(
      'PagerDuty Events v2 (sent when a check fails).',
      {
        routingKeySecret: secretRef(
          'Secret with the routing key.',
          { key: { description: 'Key of the routing key.' } },
          {
            requiredKeys: ['key'],
          },
        ),
        severity: string('Event severity.', {
          enum: ['critical', 'error', 'warning', 'info'],
          default: 'critical',
        }),
        eventsUrl: string(
          "Events API v2 endpoint, for PagerDuty's EU service region or an egress proxy. A failing run triggers an incident, a passing run resolves it.",
          {
            maxLength: 2048,
            default: 'https://events.pagerduty.com/v2/enqueue',
            rules: [
              {
                rule: "self.matches('^https?://[^ ]+$')",
                message:
                  "eventsUrl must be an http:// or https:// URL, e.g. 'https://events.eu.pagerduty.com/v2/enqueue'",
              },
            ],
          },
        ),
      },
      { required: ['routingKeySecret'] },
    ),
  },
);

const spec: Schema = object(
  'Which backup to validate, against which cluster, with which checks.',
  {
    backupRef: backupRef('The backup to validate: a KafkaBackup resource, or storage read directly.'),
    kafkaCluster: {
      ...kafkaCluster,
      description: `Cluster compared with the backup (typically the restored one). Required unless only the integrity check and webhooks run. ${kafkaCluster.description}`,
    },
    topicMapping: map(
      'Backup topic -> cluster topic, for validating a restore that renamed topics (KafkaRestore.spec.topicMapping).',
      topicName('Topic name in the cluster.'),
      { maxProperties: MAX_TOPICS, rules: [topicKeysRule('topicMapping', 'topic names in the backup')] },
    ),
    checks,
    encryption: decryption,
    evidence,
    notifications,
    ...scheduleFields('the validation'),
    activeDeadlineSeconds,
  },
  {
    required: ['backupRef'],
    rules: [
      ...scheduleRules,
      {
        rule: `has(self.kafkaCluster) || (has(self.checks) && !(${anyCheck.join(' || ')}))`,
        fieldPath: '.kafkaCluster',
        reason: 'FieldValueRequired',
        message:
          'kafkaCluster is required for the messageCount, offsetRange and consumerGroupOffsets checks (enabled by default): set kafkaCluster, or disable those checks and keep integrity or customWebhooks',
      },
      {
        rule: `has(self.kafkaCluster) || !(${restoreSampleOn})`,
        fieldPath: '.kafkaCluster',
        reason: 'FieldValueRequired',
        message:
          'checks.restoreSample restores into a scratch topic of kafkaCluster: set kafkaCluster, or disable restoreSample',
      },
      {
        rule: `!has(self.checks) || ${anyCheck.join(' || ')} || (has(self.checks.integrity) && has(self.checks.integrity.enabled) && self.checks.integrity.enabled) || (${restoreSampleOn}) || (has(self.checks.customWebhooks) && size(self.checks.customWebhooks) > 0)`,
        fieldPath: '.checks',
        message:
          'every check is disabled: enable at least one of messageCount, offsetRange, consumerGroupOffsets, integrity, restoreSample, or add a customWebhooks entry',
      },
    ],
  },
);

const status: Schema = object('State of the validation, written by the operator.', {
  ...commonStatus(['Pending', 'Ready', 'Running', 'Completed', 'Failed', 'Suspended']),
  validationResult: string('Pass, Fail or Warn: the outcome of the checks of the last run.', {
    maxLength: 16,
  }),
  backupId: string('The backup set validated.', { maxLength: 253 }),
  startTime: timestamp('When the current or last run started.'),
  completionTime: timestamp('When the last run ended.'),
  lastValidationTime: timestamp('When the last run ended.'),
  lastScheduleTime: timestamp('When a run was last started.'),
  lastSuccessfulTime: timestamp('When the last run that passed ended.'),
  nextScheduleTime: timestamp('When the next scheduled run starts.'),
  nextScheduledValidation: timestamp(
    'Same as nextScheduleTime; kept for tools written for the previous operator.',
  ),
  checksTotal: counter('Checks run.'),
  checksCompleted: counter('Checks finished.'),
  checksPassed: counter('Checks passed.'),
  checksFailed: counter('Checks failed.'),
  checksWarned: counter('Checks with warnings.'),
  checkResults: array(
    'Outcome per check.',
    object('One check.', {
      checkName: string('Check name.', { maxLength: 63 }),
      outcome: string('Passed, Failed, Skipped or Warning.', { maxLength: 16 }),
      message: string('Detail.', { maxLength: 4096 }),
      durationMs: counter('Duration in milliseconds.'),
    }),
    { maxItems: 64 },
  ),
  evidenceReportPath: string('Where the evidence report of the last run was written.', { maxLength: 4096 }),
  evidenceReportSigned: boolean('Whether that report is signed.'),
  history: runHistory(),
});

export const kafkaBackupValidation: KindDefinition = {
  kind: 'KafkaBackupValidation',
  plural: 'kafkabackupvalidations',
  shortNames: ['kbv'],
  description:
    'KafkaBackupValidation checks a backup: its integrity, and that a cluster (typically a restored one) holds what the backup holds; it produces evidence reports. It runs once, or on a schedule; an unscheduled one has an immutable spec once started.',
  spec,
  status,
  rules: [immutableOnceStarted(spec, 'KafkaBackupValidation', 'has(oldSelf.spec.schedule)')],
  printerColumns: [
    READY_COLUMN,
    PHASE_COLUMN,
    {
      name: 'Result',
      type: 'string',
      jsonPath: '.status.validationResult',
      description: 'Pass, Fail or Warn.',
    },
    { name: 'Checks', type: 'integer', jsonPath: '.status.checksCompleted', description: 'Checks finished.' },
    {
      name: 'Last Run',
      type: 'date',
      jsonPath: '.status.lastValidationTime',
      description: 'When the last run ended.',
    },
    {
      name: 'Next Run',
      // A timestamp, not a date column: kubectl shows a date column as an age, and a time in the
      // future (every next run) as <invalid>.
      type: 'string',
      jsonPath: '.status.nextScheduleTime',
      description: 'When the next scheduled run starts (UTC).',
    },
    AGE_COLUMN,
  ],
};
