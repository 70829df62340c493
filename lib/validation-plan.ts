import type { ApiObjectMetadata, Duration } from 'cdk8s';
import { Lazy } from 'cdk8s';
import type { Construct } from 'constructs';
import {
  KafkaBackupValidation,
  type KafkaBackupValidationSpec,
} from '../imports/kafkabackupvalidation-kafka.oso.sh.ts';
import type { ConcurrencyPolicy } from './backup-schedule.ts';
import type { BackupSource } from './backup-source.ts';
import { compact, type RunOptions, wholeSeconds } from './common.ts';
import type { Encryption } from './encryption.ts';
import type { KafkaClusterConnection } from './kafka-cluster.ts';
import { KafkaResource } from './resource.ts';
import type { Schedule } from './schedule.ts';
import { type SecretReference, secretName } from './secret-reference.ts';
import type { BackupStorage } from './storage.ts';

/** A custom check: the validation POSTs its context to the URL and reads the verdict. */
export interface ValidationWebhook {
  /** Name of the check in the report. */
  readonly name: string;
  /** `http://` or `https://` URL. */
  readonly url: string;
  /**
   * How long to wait for the answer (whole seconds).
   * @default Duration.seconds(120)
   */
  readonly timeout?: Duration;
  /**
   * The status code that means the request was handled.
   * @default 200
   */
  readonly expectedStatusCode?: number;
}

/** Which checks run. */
export interface ValidationChecks {
  /**
   * Compare record counts per partition with the backup; `failThreshold` is the allowed difference.
   * @default - on, exact
   */
  readonly messageCount?: boolean | { readonly failThreshold?: number; readonly topics?: string[] };
  /**
   * Check that the target holds the backup's offset ranges.
   * @default true
   */
  readonly offsetRange?: boolean;
  /**
   * Check that consumer groups' offsets can be read (optionally only these groups).
   * @default true
   */
  readonly consumerGroupOffsets?: boolean | { readonly consumerGroups: string[] };
  /**
   * Check that every object of the backup is present (quick mode: existence and size). With
   * `{ deep: true }`, download every segment, verify its checksum and decode its records, so counts and
   * offset continuity are checked record by record (reads the whole backup).
   * @default false
   */
  readonly integrity?: boolean | { readonly deep?: boolean };
  /**
   * Restore check: restore sampled segments of every partition into a scratch topic of `cluster`, read
   * them back and compare them byte for byte; the scratch topic is deleted afterwards. Needs `cluster`.
   * @default false
   */
  readonly restoreSample?: boolean | RestoreSampleCheck;
}

/** How much of the backup the restore check restores, and where. */
export interface RestoreSampleCheck {
  /**
   * Segments restored per partition (spread over the partition), or `'all'` for the whole backup.
   * @default 1
   */
  readonly segmentsPerPartition?: number | 'all';
  /**
   * Prefix of the scratch topic (the backup id and a random suffix are appended).
   * @default 'kafka-backup-validation'
   */
  readonly scratchTopicPrefix?: string;
}

/** Evidence report settings. */
export interface EvidenceOptions {
  /**
   * Report formats: `json` (signed and verified; required) and `html` (a rendering for people,
   * covered by the signature through its hash). PDF is not produced: print the HTML.
   * @default ['json']
   */
  readonly formats?: Array<'json' | 'html'>;
  /**
   * Sign reports with the private key in this Secret (keys `signing-key.pem` / `signing-key-pub.pem`).
   * @default - unsigned
   */
  readonly signingKeySecret?: SecretReference;
  /**
   * Key names of the PEM keys in `signingKeySecret`.
   * @default - privateKeyKey 'signing-key.pem', publicKeyKey 'signing-key-pub.pem'
   */
  readonly signingKeys?: { readonly privateKeyKey?: string; readonly publicKeyKey?: string };
  /**
   * Where reports are written.
   * @default - the backup's storage
   */
  readonly storage?: BackupStorage;
  /**
   * How long reports are kept (whole days).
   * @default Duration.days(90)
   */
  readonly retention?: Duration;
}

/** Props of a KafkaBackupValidationPlan. */
export interface KafkaBackupValidationPlanProps extends RunOptions {
  /**
   * Metadata of the KafkaBackupValidation; set `name` for a readable, stable name in Git.
   * @default - a name generated from the construct path
   */
  readonly metadata?: ApiObjectMetadata;
  /** The backup to validate against. */
  readonly source: BackupSource;
  /**
   * The cluster holding the restored data. Needed unless every check that reads Kafka is off.
   * @default - none
   */
  readonly cluster?: KafkaClusterConnection;
  /**
   * Source topic to restored topic, when the restore renamed topics.
   * @default - same names
   */
  readonly topicMapping?: Record<string, string>;
  /**
   * Checks to run. More custom checks with `addWebhook()`.
   * @default - message count, offset range and consumer group offsets
   */
  readonly checks?: ValidationChecks;
  /**
   * Decryption settings when the backup was encrypted.
   * @default - none
   */
  readonly encryption?: Encryption;
  /**
   * Evidence reports.
   * @default - JSON reports, unsigned, kept 90 days
   */
  readonly evidence?: EvidenceOptions;
  /**
   * Slack webhook URL, read from a Secret key.
   * @default - no Slack notification
   */
  readonly slackWebhook?: { readonly secret: SecretReference; readonly key: string };
  /**
   * PagerDuty routing key, read from a Secret key.
   * @default - no PagerDuty notification
   */
  readonly pagerDuty?: {
    readonly secret: SecretReference;
    readonly key: string;
    /**
     * Severity of the incident.
     * @default 'critical'
     */
    readonly severity?: 'critical' | 'error' | 'warning' | 'info';
    /**
     * Events API v2 endpoint (PagerDuty's EU region, an egress proxy).
     * @default 'https://events.pagerduty.com/v2/enqueue'
     */
    readonly eventsUrl?: string;
  };
  /**
   * Validate repeatedly on a schedule.
   * @default - once
   */
  readonly schedule?: Schedule;
  /**
   * Pause the schedule.
   * @default false
   */
  readonly suspend?: boolean;
  /**
   * What to do when a scheduled validation is due while the previous one still runs.
   * @default ConcurrencyPolicy.FORBID
   */
  readonly concurrencyPolicy?: ConcurrencyPolicy;
  /**
   * Successful runs whose status is kept.
   * @default 3
   */
  readonly successfulRunsHistoryLimit?: number;
  /**
   * Failed runs whose status is kept.
   * @default 1
   */
  readonly failedRunsHistoryLimit?: number;
}

function restoreSampleSpec(value: boolean | RestoreSampleCheck | undefined) {
  if (value === undefined || typeof value === 'boolean')
    return value === undefined ? undefined : { enabled: value };
  const n = value.segmentsPerPartition;
  if (n !== undefined && n !== 'all' && (!Number.isInteger(n) || n < 1 || n > 10000)) {
    throw new Error(
      `KafkaBackupValidationPlan: checks.restoreSample.segmentsPerPartition must be a whole number from 1 to 10000, or 'all', got ${n}`,
    );
  }
  return {
    enabled: true,
    ...(n === 'all' ? { all: true } : { segmentsPerPartition: n }),
    scratchTopicPrefix: value.scratchTopicPrefix,
  };
}

/** A `KafkaBackupValidation`: checks a (restored) cluster against a backup and produces evidence. */
export class KafkaBackupValidationPlan extends KafkaResource {
  public readonly resourceType = 'kafkabackupvalidations';
  protected readonly apiObject: KafkaBackupValidation;
  private readonly webhooks: ValidationWebhook[] = [];

  public constructor(
    scope: Construct,
    id: string,
    private readonly props: KafkaBackupValidationPlanProps,
  ) {
    super(scope, id, 'KafkaBackupValidation');
    if (props.slackWebhook) secretName(props.slackWebhook.secret, 'slackWebhook.secret');
    if (props.pagerDuty) secretName(props.pagerDuty.secret, 'pagerDuty.secret');
    if (props.evidence?.formats && !props.evidence.formats.includes('json')) {
      throw new Error(
        "KafkaBackupValidationPlan: evidence.formats must include 'json': it is the report that is signed and verified",
      );
    }
    restoreSampleSpec(props.checks?.restoreSample); // refuses a bad sample size here, not at synth
    if (props.checks?.restoreSample && !props.cluster) {
      throw new Error(
        'KafkaBackupValidationPlan: checks.restoreSample restores into a scratch topic of the cluster: set cluster, or turn restoreSample off',
      );
    }
    if (props.evidence?.signingKeySecret)
      secretName(props.evidence.signingKeySecret, 'evidence.signingKeySecret');
    this.apiObject = new KafkaBackupValidation(this, 'Resource', {
      metadata: props.metadata,
      spec: Lazy.any({ produce: () => this._toKube() }),
    });
  }

  /** Adds a custom webhook check. */
  public addWebhook(webhook: ValidationWebhook): void {
    if (this.webhooks.some((w) => w.name === webhook.name)) {
      throw new Error(`KafkaBackupValidationPlan: a webhook check named "${webhook.name}" already exists`);
    }
    this.webhooks.push(webhook);
  }

  /** @internal */
  public _toKube(): KafkaBackupValidationSpec {
    const p = this.props;
    const checks = p.checks ?? {};
    const toggle = (value: boolean | object | undefined) =>
      value === undefined
        ? undefined
        : { enabled: value !== false, ...(typeof value === 'object' ? value : {}) };
    const evidence = p.evidence;
    return compact({
      backupRef: p.source._toSpec(this.metadata.namespace),
      kafkaCluster: p.cluster?._toSpec(),
      topicMapping: p.topicMapping,
      checks:
        p.checks || this.webhooks.length > 0
          ? {
              messageCount: toggle(checks.messageCount),
              offsetRange: toggle(checks.offsetRange),
              consumerGroupOffsets: toggle(checks.consumerGroupOffsets),
              integrity: toggle(checks.integrity),
              restoreSample: restoreSampleSpec(checks.restoreSample),
              customWebhooks:
                this.webhooks.length > 0
                  ? this.webhooks.map((w) => ({
                      name: w.name,
                      url: w.url,
                      timeoutSecs: wholeSeconds(w.timeout, `webhook ${w.name} timeout`),
                      expectedStatusCode: w.expectedStatusCode,
                    }))
                  : undefined,
            }
          : undefined,
      encryption: p.encryption?._toSpec(),
      evidence: evidence
        ? {
            formats: evidence.formats,
            signing: evidence.signingKeySecret
              ? {
                  enabled: true,
                  keySecret: {
                    name: secretName(evidence.signingKeySecret, 'evidence.signingKeySecret'),
                    privateKeyKey: evidence.signingKeys?.privateKeyKey,
                    publicKeyKey: evidence.signingKeys?.publicKeyKey,
                  },
                }
              : undefined,
            storage: evidence.storage?._toSpec(),
            retentionDays: evidence.retention?.toDays(),
          }
        : undefined,
      notifications:
        p.slackWebhook || p.pagerDuty
          ? {
              slack: p.slackWebhook
                ? {
                    webhookSecret: {
                      name: secretName(p.slackWebhook.secret, 'slackWebhook.secret'),
                      key: p.slackWebhook.key,
                    },
                  }
                : undefined,
              pagerduty: p.pagerDuty
                ? {
                    routingKeySecret: {
                      name: secretName(p.pagerDuty.secret, 'pagerDuty.secret'),
                      key: p.pagerDuty.key,
                    },
                    severity: p.pagerDuty.severity,
                    eventsUrl: p.pagerDuty.eventsUrl,
                  }
                : undefined,
            }
          : undefined,
      schedule: p.schedule?.expressionString,
      timeZone: p.schedule?.timeZone,
      suspend: p.suspend,
      concurrencyPolicy: p.concurrencyPolicy,
      successfulRunsHistoryLimit: p.successfulRunsHistoryLimit,
      failedRunsHistoryLimit: p.failedRunsHistoryLimit,
      activeDeadlineSeconds: wholeSeconds(p.runDeadline, 'runDeadline'),
    }) as unknown as KafkaBackupValidationSpec;
  }
}
