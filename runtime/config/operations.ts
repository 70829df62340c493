import {
  type NotificationTargets,
  PAGERDUTY_EVENTS_URL,
  type PagerDutySeverity,
} from '../evidence/notifications.ts';
import type { EvidenceFormat } from '../evidence/store.ts';
import type { EncryptionKey } from '../format/types.ts';
import type { KafkaConnectionConfig } from '../kafka/connection.ts';
import type { CustomWebhook } from '../validation/custom-webhooks.ts';
import { readKafkaCluster, resolveKafkaCluster } from './kafka-cluster.ts';
import {
  backupConfigFromSpec,
  fail,
  readBackupRef,
  readEncryption,
  readRequiredKafka,
  resolveEncryption,
  restoreConfigFromSpec,
  type SpecContext,
} from './load.ts';
import { ConfigError, Reader } from './reader.ts';
import {
  resolveField,
  resolveSecretText,
  type SecretResolver,
  type SecretSource,
  secretRef,
} from './secrets.ts';
import { readStorage, type StorageSpec } from './storage.ts';

/**
 * Configuration of the offset and validation kinds from their spec objects (KafkaOffsetReset,
 * KafkaOffsetRollback, KafkaBackupValidation), refusing unknown fields like backup and restore do.
 * Fields that name other resources (snapshotRef.restoreRef, offsetMappingRef.restoreName,
 * backupRef.name) are accepted but not resolved: the operator resolves them before calling, and
 * passes the concrete form (storage, backup id, snapshot id).
 * `storage` (and `backupRef` on the offset kinds) are CLI additions: where snapshots and mappings live.
 */

/** What every operation needs to reach a cluster and a backup storage. */
export interface OperationTarget {
  readonly kafka?: KafkaConnectionConfig;
  readonly storage?: StorageSpec;
  readonly backupId?: string;
  readonly encryption?: EncryptionKey;
}

export interface OffsetResetConfig extends OperationTarget {
  readonly groups: readonly string[];
  /** Optional here: the CLI may give it as a flag; the use case requires it. */
  readonly strategy?: string;
  readonly timestamp?: bigint;
  readonly offset?: bigint;
  readonly shift?: bigint;
  /** snapshotRef.name: the snapshot id, for from-snapshot. */
  readonly snapshotId?: string;
  readonly topics: readonly string[];
  readonly parallelism?: number;
  readonly dryRun: boolean;
  /** snapshotBeforeReset (default true): store the offsets before committing, for a rollback. */
  readonly snapshotBeforeReset?: boolean;
  /** continueOnError (a spec's default false): keep going with other groups after one fails. */
  readonly continueOnError?: boolean;
}

export interface OffsetRollbackConfig extends OperationTarget {
  /** snapshotRef.name: the snapshot id. */
  readonly snapshotId?: string;
  readonly groups: readonly string[];
  readonly dryRun: boolean;
  readonly verify: boolean;
}

export interface ValidationConfig extends OperationTarget {
  /** checks.integrity.enabled: read every segment object. On when the spec has no `checks`. */
  readonly integrity: boolean;
  readonly deep: boolean;
  readonly customWebhooks: readonly CustomWebhook[];
  /** evidence.formats (json always; html when listed). Default json and html. */
  readonly evidenceFormats: readonly EvidenceFormat[];
  /** evidence.retentionDays: reports of this backup older than that are deleted. */
  readonly retentionDays?: number;
  /** Slack URL and PagerDuty routing key, read from their Secrets. */
  readonly notifications?: NotificationTargets;
  /** Segments per partition to restore into a scratch topic, or all; undefined: no restore sample. */
  readonly restoreSample?: number | 'all';
  readonly scratchTopicPrefix?: string;
  /** The PEM signing key (evidence.signing.keySecret), read through the resolver. */
  readonly signingKeyPem?: string;
  readonly evidenceStorage?: StorageSpec;
  readonly topicMapping: Readonly<Record<string, string>>;
  /** The file had a `checks` section: with kafkaCluster, the cluster checks run. */
  readonly hasChecks: boolean;
  readonly messageCount: false | { readonly failThreshold: number; readonly topics: readonly string[] };
  readonly offsetRange: boolean;
  readonly consumerGroupOffsets: false | { readonly groups: readonly string[] };
}

/** Storage from `backupRef.storage`, `snapshotRef.storage` or `storage`, and `backupRef.backupId`. */
function readTarget(r: Reader): { storage?: StorageSpec; backupId?: string; snapshotId?: string } {
  let { storage, backupId } = readBackupRef(r);
  let snapshotId: string | undefined;
  const snapshotRef = r.object('snapshotRef');
  if (snapshotRef) {
    snapshotId = snapshotRef.string('name');
    const s = snapshotRef.object('storage');
    if (s && !storage) storage = readStorage(s);
    snapshotRef.accept('path', 'pvcName', 'restoreRef', 'offsetResetRef');
    snapshotRef.finish();
  }
  const top = r.object('storage');
  if (top) {
    const s = readStorage(top);
    storage ??= s;
  }
  return {
    ...(storage ? { storage } : {}),
    ...(backupId ? { backupId } : {}),
    ...(snapshotId ? { snapshotId } : {}),
  };
}

export async function offsetResetConfigFromSpec(
  spec: unknown,
  secrets: SecretResolver,
  context: SpecContext,
): Promise<OffsetResetConfig> {
  const r = new Reader(spec);
  const kafkaSpec = readRequiredKafka(r);
  const target = readTarget(r);
  const groups = r.strings('consumerGroups');
  const strategy = r.string('resetStrategy');
  const timestamp = r.bigint('resetTimestamp');
  const offset = r.bigint('resetOffset');
  const shift = r.bigint('resetShift');
  const topics = r.strings('topics');
  const parallelism = r.integer('parallelism', { min: 1, max: 1000 });
  const dryRun = r.boolean('dryRun', false);
  const mappingRef = r.object('offsetMappingRef');
  mappingRef?.accept('restoreName', 'path', 'pvcName');
  mappingRef?.finish();
  const snapshotBeforeReset = r.boolean('snapshotBeforeReset', true);
  const continueOnError = r.boolean('continueOnError', false);
  // Acted on by the operator (approvals, deadlines).
  r.accept('approval', 'activeDeadlineSeconds');
  r.finish();
  const kafka = kafkaSpec ? await resolveKafkaCluster(kafkaSpec, secrets, r.problems) : undefined;
  fail(context, r.problems);
  return {
    ...(kafka ? { kafka } : {}),
    ...target,
    groups,
    ...(strategy ? { strategy } : {}),
    ...(timestamp !== undefined ? { timestamp } : {}),
    ...(offset !== undefined ? { offset } : {}),
    ...(shift !== undefined ? { shift } : {}),
    topics,
    ...(parallelism ? { parallelism } : {}),
    dryRun,
    snapshotBeforeReset,
    continueOnError,
  };
}

export async function offsetRollbackConfigFromSpec(
  spec: unknown,
  secrets: SecretResolver,
  context: SpecContext,
): Promise<OffsetRollbackConfig> {
  const r = new Reader(spec);
  const kafkaSpec = readRequiredKafka(r);
  const target = readTarget(r);
  const groups = r.strings('consumerGroups');
  const dryRun = r.boolean('dryRun', false);
  const verify = r.boolean('verifyAfterRollback', true);
  r.accept('approval', 'activeDeadlineSeconds');
  r.finish();
  const kafka = kafkaSpec ? await resolveKafkaCluster(kafkaSpec, secrets, r.problems) : undefined;
  fail(context, r.problems);
  return { ...(kafka ? { kafka } : {}), ...target, groups, dryRun, verify };
}

export async function validationConfigFromSpec(
  spec: unknown,
  secrets: SecretResolver,
  context: SpecContext,
): Promise<ValidationConfig> {
  const r = new Reader(spec);
  const k = r.object('kafkaCluster');
  const kafkaSpec = k ? readKafkaCluster(k) : undefined;
  const target = readTarget(r);
  if (!target.storage) {
    r.problem('backupRef', 'storage is required (backupRef.storage, or storage): the backup is read there');
  }
  const topicMapping = Object.fromEntries(
    r.map('topicMapping', (v, p) => {
      if (typeof v === 'string' && v.length > 0) return v;
      r.problems.push(`${p}: expected a topic name`);
      return undefined;
    }),
  );
  const checks = r.object('checks');
  const integrityReader = checks?.object('integrity');
  // Without a checks section (the CLI's usual form) the backup's own checks all run.
  const integrity = checks ? (integrityReader?.boolean('enabled', false) ?? false) : true;
  const deep = integrityReader?.boolean('deep', false) ?? false;
  if (deep && !integrity) {
    checks?.problem(
      'integrity.deep',
      'deep is set but the integrity check is disabled: set integrity.enabled to true',
    );
  }
  integrityReader?.finish();
  const sample = checks?.object('restoreSample');
  const sampleOn = sample?.boolean('enabled', false) ?? false;
  const all = sample?.boolean('all', false) ?? false;
  const perPartition = sample?.integer('segmentsPerPartition', { min: 1, max: 10000 });
  const scratchTopicPrefix = sample?.string('scratchTopicPrefix');
  sample?.finish();
  const enabled = (o: Reader | undefined) => o?.boolean('enabled', true) ?? true;
  const mc = checks?.object('messageCount');
  // Read even when disabled: the API server fills in their defaults.
  const failThreshold = mc?.integer('failThreshold', { min: 0 }) ?? 0;
  const countTopics = mc?.strings('topics') ?? [];
  const messageCount = enabled(mc) ? { failThreshold, topics: countTopics } : (false as const);
  mc?.finish();
  const or = checks?.object('offsetRange');
  const offsetRange = enabled(or);
  or?.finish();
  const cg = checks?.object('consumerGroupOffsets');
  const groups = cg?.strings('consumerGroups') ?? [];
  const consumerGroupOffsets = enabled(cg) ? { groups } : (false as const);
  cg?.finish();
  const customWebhooks = (checks?.objects('customWebhooks') ?? []).map((w): CustomWebhook => {
    const name = w.requiredString('name');
    const url = w.requiredString('url');
    if (url && !/^https?:\/\/[^ ]+$/.test(url)) w.problem('url', 'expected an http:// or https:// URL');
    const timeoutSecs = w.integer('timeoutSecs', { min: 1, max: 3600 });
    const expectedStatusCode = w.integer('expectedStatusCode', { min: 100, max: 599 });
    w.finish();
    return {
      name,
      url,
      ...(timeoutSecs !== undefined ? { timeoutSecs } : {}),
      ...(expectedStatusCode !== undefined ? { expectedStatusCode } : {}),
    };
  });
  const webhookNames = customWebhooks.map((w) => w.name);
  if (new Set(webhookNames).size !== webhookNames.length) {
    checks?.problem('customWebhooks', 'two webhooks have the same name');
  }
  checks?.finish();
  const evidence = r.object('evidence');
  const signing = evidence?.object('signing');
  const keySecret = signing?.boolean('enabled', false) ? signing.object('keySecret') : undefined;
  const signingSource = keySecret ? secretRef(keySecret, 'privateKeyKey', 'signing-key.pem') : undefined;
  keySecret?.accept('publicKeyKey');
  keySecret?.finish();
  signing?.accept('keySecret');
  signing?.finish();
  const evidenceStorageReader = evidence?.object('storage');
  const evidenceStorage = evidenceStorageReader ? readStorage(evidenceStorageReader) : undefined;
  const formats = evidence?.strings('formats') ?? [];
  for (const f of formats) {
    if (f !== 'json' && f !== 'html')
      evidence?.problem('formats', `'${f}' is not a format: use json and html`);
  }
  if (formats.length > 0 && !formats.includes('json')) {
    evidence?.problem('formats', 'json is required: it is the report that is signed and verified');
  }
  const evidenceFormats: EvidenceFormat[] =
    formats.length > 0 ? (formats.includes('html') ? ['json', 'html'] : ['json']) : ['json', 'html'];
  const retentionDays = evidence?.integer('retentionDays', { min: 1, max: 36500 });
  evidence?.finish();
  const notificationsReader = r.object('notifications');
  const slackReader = notificationsReader?.object('slack');
  const slackSource = slackReader ? requiredSecretRef(slackReader, 'webhookSecret') : undefined;
  slackReader?.finish();
  const pdReader = notificationsReader?.object('pagerduty');
  const pdSource = pdReader ? requiredSecretRef(pdReader, 'routingKeySecret') : undefined;
  const severity = pdReader?.oneOf<PagerDutySeverity>(
    'severity',
    ['critical', 'error', 'warning', 'info'],
    'critical',
  );
  const eventsUrl = pdReader?.string('eventsUrl');
  pdReader?.finish();
  notificationsReader?.finish();
  const encryptionSource = r.has('encryption') ? readEncryption(r) : undefined;
  // Scheduling and deadlines are the operator's.
  r.accept(
    'schedule',
    'timeZone',
    'suspend',
    'concurrencyPolicy',
    'successfulRunsHistoryLimit',
    'failedRunsHistoryLimit',
    'activeDeadlineSeconds',
  );
  r.finish();
  const kafka = kafkaSpec ? await resolveKafkaCluster(kafkaSpec, secrets, r.problems) : undefined;
  const encryption = await resolveEncryption(encryptionSource, secrets, r.problems);
  const signingKeyPem = signingSource
    ? await resolveField(r.problems, 'evidence.signing.keySecret', () =>
        resolveSecretText(secrets, signingSource),
      )
    : undefined;
  const slackUrl = slackSource
    ? await resolveField(r.problems, 'notifications.slack.webhookSecret', () =>
        resolveSecretText(secrets, slackSource),
      )
    : undefined;
  const routingKey = pdSource
    ? await resolveField(r.problems, 'notifications.pagerduty.routingKeySecret', () =>
        resolveSecretText(secrets, pdSource),
      )
    : undefined;
  fail(context, r.problems);
  const restoreSample = sampleOn ? (all ? 'all' : (perPartition ?? 1)) : undefined;
  const notifications: NotificationTargets = {
    ...(slackUrl ? { slack: { webhookUrl: slackUrl } } : {}),
    ...(routingKey
      ? {
          pagerduty: {
            routingKey,
            severity: severity ?? 'critical',
            eventsUrl: eventsUrl ?? PAGERDUTY_EVENTS_URL,
          },
        }
      : {}),
  };
  return {
    ...(kafka ? { kafka } : {}),
    ...target,
    ...(encryption ? { encryption } : {}),
    integrity,
    deep,
    customWebhooks,
    evidenceFormats,
    ...(retentionDays !== undefined ? { retentionDays } : {}),
    ...(slackUrl || routingKey ? { notifications } : {}),
    ...(restoreSample !== undefined ? { restoreSample } : {}),
    ...(scratchTopicPrefix ? { scratchTopicPrefix } : {}),
    ...(signingKeyPem ? { signingKeyPem } : {}),
    ...(evidenceStorage ? { evidenceStorage } : {}),
    topicMapping,
    hasChecks: checks !== undefined,
    messageCount,
    offsetRange,
    consumerGroupOffsets,
  };
}

/** A `{name, key}` Secret reference whose key has no default (the Slack URL, the routing key). */
function requiredSecretRef(parent: Reader, field: string): SecretSource | undefined {
  const ref = parent.object(field);
  if (!ref) {
    parent.problem(field, 'required: name the Secret ({name, key})');
    return undefined;
  }
  const name = ref.requiredString('name');
  const key = ref.requiredString('key');
  ref.finish();
  return name && key ? { kind: 'secret', name, key } : undefined;
}

/** The values a subcommand can take from a spec of any of our kinds. */
export interface SpecValues extends OperationTarget {
  readonly groups?: readonly string[];
  readonly strategy?: string;
  readonly timestamp?: bigint;
  readonly offset?: bigint;
  readonly shift?: bigint;
  readonly snapshotId?: string;
  readonly topics?: readonly string[];
  readonly parallelism?: number;
  readonly dryRun?: boolean;
  readonly verify?: boolean;
  readonly topicMapping?: Readonly<Record<string, string>>;
}

/**
 * A spec of any kind, parsed (and checked) by that kind's own rules: for a subcommand given another
 * kind's file, e.g. `offsets show-mapping -c restore.yaml`.
 */
export async function specValuesOf(
  kind: string,
  spec: unknown,
  secrets: SecretResolver,
  context: SpecContext,
): Promise<SpecValues> {
  switch (kind) {
    case 'KafkaBackup': {
      const c = await backupConfigFromSpec(spec, secrets, context);
      return {
        kafka: c.kafka,
        storage: c.storage,
        backupId: c.options.backupId,
        ...(c.options.encryption ? { encryption: c.options.encryption } : {}),
      };
    }
    case 'KafkaRestore': {
      const c = await restoreConfigFromSpec(spec, secrets, context);
      return {
        kafka: c.kafka,
        storage: c.storage,
        ...(c.options.backupId ? { backupId: c.options.backupId } : {}),
        ...(c.options.encryption ? { encryption: c.options.encryption } : {}),
        topicMapping: c.options.topicMapping ?? {},
      };
    }
    case 'KafkaOffsetReset':
      return offsetResetConfigFromSpec(spec, secrets, context);
    case 'KafkaOffsetRollback':
      return offsetRollbackConfigFromSpec(spec, secrets, context);
    case 'KafkaBackupValidation':
      return validationConfigFromSpec(spec, secrets, context);
    default:
      throw new ConfigError(context.source, [
        `kind: ${kind} is not one of ours: use KafkaBackup, KafkaRestore, KafkaOffsetReset, KafkaOffsetRollback or KafkaBackupValidation`,
      ]);
  }
}
