import { canonicalJson } from '../evidence/canonical-json.ts';
import {
  type DeliveryResult,
  type NotificationTargets,
  sendNotifications,
} from '../evidence/notifications.ts';
import { buildEvidenceReport, type CheckResult, type EvidenceReport } from '../evidence/report.ts';
import { loadSigningKey, type SigningKeySource, sha256Hex } from '../evidence/signing.ts';
import {
  type EvidenceFormat,
  pruneEvidence,
  type StoredEvidenceKeys,
  sealEvidence,
  storeEvidence,
} from '../evidence/store.ts';
import { notifyWebhook, type WebhookResult } from '../evidence/webhook.ts';
import type { BackupRepository, ReadableBackup } from '../format/repository.ts';
import type { EncryptionKey } from '../format/types.ts';
import type { KafkaPort } from '../kafka/port.ts';
import type { ConsumerGroupAdmin } from '../offsets/group-admin.ts';
import { loadOffsetMapping, openMappingSource } from '../offsets/mapping-store.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { type CustomWebhook, runCustomWebhook } from './custom-webhooks.ts';
import { validateBackup } from './validate.ts';

/**
 * Handler of `kafka-backup validate`: runs the checks, then writes the evidence report (JSON, HTML and,
 * with a key, a detached signature) under `evidence/<backupId>/<reportId>/` and notifies the webhook.
 * `failure: 'checks-failed'` when the overall result is `failed`.
 */
export interface ValidateCommandOptions {
  /** Default: the most recent backup in the storage. */
  readonly backupId?: string;
  readonly deep?: boolean;
  /** Run the segment-integrity check (reads every object). Default true. */
  readonly integrity?: boolean;
  readonly parallelism?: number;
  /** Segments per partition to restore into a scratch topic, or 'all'; needs `deps.kafka`. */
  readonly restoreSample?: number | 'all';
  readonly scratchTopicPrefix?: string;
  readonly triggeredBy?: string;
  /** Signing key (PEM content from a secret, or a file); unsigned reports say so. */
  readonly signingKey?: SigningKeySource;
  readonly webhookUrl?: string;
  /**
   * Compare a cluster (deps.admin) with the backup: message counts, offset ranges, group offsets.
   * With `restoreId`, through that restore's offset mapping (exact for renamed and repartitioned topics).
   */
  readonly clusterChecks?: {
    readonly restoreId?: string;
    readonly topicMapping?: Readonly<Record<string, string>>;
    readonly messageCount?: false | { readonly failThreshold?: number; readonly topics?: readonly string[] };
    readonly offsetRange?: boolean;
    readonly consumerGroupOffsets?: false | { readonly groups?: readonly string[] };
  };
  /** The user's own checks, called after the built-in ones. */
  readonly customWebhooks?: readonly CustomWebhook[];
  /** Default json and html. */
  readonly formats?: readonly EvidenceFormat[];
  /** Delete this backup's reports older than this many days once the new one is stored. */
  readonly retentionDays?: number;
  /** Slack and PagerDuty, told the outcome once the report is stored. */
  readonly notifications?: NotificationTargets;
  /** Who ran it, in notifications (e.g. `KafkaBackupValidation ns/name`). */
  readonly notificationSource?: string;
  /** Do not store the report (print only). */
  readonly noStore?: boolean;
  /** Stops the run between steps and cancels its HTTP calls (a deadline, a shutdown). */
  readonly signal?: AbortSignal;
  readonly toolVersion: string;
}

export interface ValidateDeps {
  readonly repository: BackupRepository;
  /** Where reports go; default the backup storage. */
  readonly evidenceStore?: ObjectStore;
  /** Scratch cluster for the restore check. */
  readonly kafka?: KafkaPort;
  /** The cluster compared by the cluster checks. */
  readonly admin?: ConsumerGroupAdmin;
  /** Bootstrap servers of that cluster, for the report (no credentials). */
  readonly bootstrapServers?: string;
  readonly encryption?: EncryptionKey;
  /** Secret values in use (storage keys, SASL passwords...): redacted and refused in the report. */
  readonly secrets?: readonly string[];
  readonly fetchImpl?: typeof fetch;
  readonly now?: () => Date;
}

export interface ValidateCommandResult {
  /** The report's overall result is `failed`. */
  readonly failure?: 'checks-failed';
  readonly text: string;
  readonly json: unknown;
  readonly report: EvidenceReport;
  readonly keys?: StoredEvidenceKeys;
  readonly webhook?: WebhookResult;
  readonly notifications?: readonly DeliveryResult[];
  /** Report ids deleted by evidence.retentionDays. */
  readonly pruned?: readonly string[];
}

export async function runValidate(
  options: ValidateCommandOptions,
  deps: ValidateDeps,
): Promise<ValidateCommandResult> {
  const backupId = options.backupId ?? (await deps.repository.latest({ includeLegacy: true }))?.backupId;
  if (!backupId) throw new Error(`no backup found in ${deps.repository.store.description}`);
  const backup: ReadableBackup = await deps.repository.open(
    backupId,
    deps.encryption ? { encryption: deps.encryption } : {},
  );
  if (options.restoreSample !== undefined && !deps.kafka) {
    throw new Error('the restore check needs a scratch cluster: configure kafkaCluster for validation');
  }
  if (options.clusterChecks && !deps.admin) {
    throw new Error('the cluster checks need a cluster: configure kafkaCluster for validation');
  }
  const cc = options.clusterChecks;
  const mapping = cc?.restoreId
    ? await loadOffsetMapping(
        await openMappingSource(
          deps.repository,
          backupId,
          deps.encryption ? { encryption: deps.encryption } : {},
        ),
        cc.restoreId,
      )
    : undefined;
  options.signal?.throwIfAborted();
  const builtIn = await validateBackup(backup, {
    ...(cc && deps.admin
      ? {
          cluster: {
            admin: deps.admin,
            ...(mapping ? { mapping } : {}),
            ...(cc.topicMapping ? { topicMapping: cc.topicMapping } : {}),
            ...(cc.messageCount !== undefined ? { messageCount: cc.messageCount } : {}),
            ...(cc.offsetRange !== undefined ? { offsetRange: cc.offsetRange } : {}),
            ...(cc.consumerGroupOffsets !== undefined
              ? { consumerGroupOffsets: cc.consumerGroupOffsets }
              : {}),
          },
        }
      : {}),
    ...(options.deep ? { deep: true } : {}),
    ...(options.integrity === false ? { integrity: false } : {}),
    ...(options.parallelism ? { parallelism: options.parallelism } : {}),
    ...(deps.kafka && options.restoreSample !== undefined
      ? {
          restoreCheck: {
            kafka: deps.kafka,
            sample: options.restoreSample,
            ...(options.scratchTopicPrefix ? { scratchTopicPrefix: options.scratchTopicPrefix } : {}),
          },
        }
      : {}),
  });
  const manifest = await backup.manifest();
  const secrets = [
    ...(deps.secrets ?? []),
    ...(options.signingKey && 'pem' in options.signingKey ? [options.signingKey.pem.trim()] : []),
  ];
  const partitions = manifest.topics.flatMap((t) => t.partitions);
  const backupInfo = {
    id: backupId,
    storage: deps.repository.store.description,
    createdAt: new Date(manifest.descriptor.createdAt).toISOString(),
    topics: manifest.topics.length,
    partitions: partitions.length,
    segments: partitions.reduce((n, p) => n + p.segments.length, 0),
    records: partitions.reduce((n, p) => n + BigInt(p.recordCount), 0n).toString(),
    bytes: partitions.reduce((n, p) => n + BigInt(p.bytes), 0n).toString(),
    manifestSha256: sha256Hex(canonicalJson(manifest)),
  };
  const custom: CheckResult[] = [];
  for (const webhook of options.customWebhooks ?? []) {
    options.signal?.throwIfAborted();
    custom.push(
      await runCustomWebhook(
        webhook,
        {
          backup: backupInfo,
          checks: builtIn,
          ...(deps.bootstrapServers ? { bootstrapServers: deps.bootstrapServers } : {}),
          ...(options.triggeredBy ? { triggeredBy: options.triggeredBy } : {}),
        },
        {
          ...(deps.fetchImpl ? { fetchImpl: deps.fetchImpl } : {}),
          ...(options.signal ? { signal: options.signal } : {}),
        },
      ),
    );
  }
  options.signal?.throwIfAborted();
  const checks = [...builtIn, ...custom];
  const report = buildEvidenceReport({
    backup: backupInfo,
    checks,
    toolVersion: options.toolVersion,
    ...(deps.bootstrapServers ? { bootstrapServers: deps.bootstrapServers } : {}),
    ...(options.triggeredBy ? { triggeredBy: options.triggeredBy } : {}),
    secrets,
  });
  const key = options.signingKey ? await loadSigningKey(options.signingKey) : undefined;
  const sealed = sealEvidence(report, key, secrets, options.formats);
  const evidenceStore = deps.evidenceStore ?? deps.repository.store;
  const keys = options.noStore ? undefined : await storeEvidence(evidenceStore, sealed);
  const pruned =
    keys && options.retentionDays !== undefined
      ? await pruneEvidence(
          evidenceStore,
          backupId,
          options.retentionDays,
          (deps.now ?? (() => new Date()))(),
        )
      : undefined;
  const webhook =
    options.webhookUrl && keys
      ? await notifyWebhook(
          options.webhookUrl,
          sealed.report,
          keys.json,
          deps.fetchImpl ? { fetchImpl: deps.fetchImpl } : {},
        )
      : undefined;
  const notifications = options.notifications
    ? await sendNotifications(
        sealed.report,
        {
          source: options.notificationSource ?? 'kafka-backup validate',
          ...(keys ? { reportKey: keys.json } : {}),
        },
        options.notifications,
        deps.fetchImpl ? { fetchImpl: deps.fetchImpl } : {},
      )
    : undefined;
  return {
    ...(sealed.report.summary.result === 'failed' ? { failure: 'checks-failed' as const } : {}),
    text: formatValidation(sealed.report, keys, webhook, notifications),
    json: {
      report: sealed.report,
      keys: keys ?? null,
      webhook: webhook ?? null,
      notifications: notifications ?? [],
      pruned: pruned ?? [],
    },
    report: sealed.report,
    ...(keys ? { keys } : {}),
    ...(webhook ? { webhook } : {}),
    ...(notifications ? { notifications } : {}),
    ...(pruned ? { pruned } : {}),
  };
}

export function formatValidation(
  report: EvidenceReport,
  keys: StoredEvidenceKeys | undefined,
  webhook: WebhookResult | undefined,
  notifications: readonly DeliveryResult[] = [],
): string {
  const mark: Record<CheckResult['outcome'], string> = {
    passed: 'PASS',
    failed: 'FAIL',
    warning: 'WARN',
    skipped: 'SKIP',
  };
  const lines = [`Validation of backup ${report.backup.id}: ${report.summary.result.toUpperCase()}`];
  for (const c of report.checks) lines.push(`  [${mark[c.outcome]}] ${c.name}: ${c.summary}`);
  if (keys) {
    lines.push(
      `Evidence: ${keys.json}${keys.sig ? ` (signed, key ${report.signature?.keyId})` : ' (unsigned)'}${keys.html ? `, ${keys.html}` : ''}`,
    );
  }
  for (const n of notifications) {
    if (n.skipped) continue;
    lines.push(n.delivered ? `Notified ${n.target}.` : `${n.target} not notified: ${n.error}`);
  }
  if (webhook) lines.push(webhook.delivered ? 'Webhook notified.' : `Webhook not notified: ${webhook.error}`);
  return lines.join('\n');
}
