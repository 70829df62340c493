import type { SpecContext } from '../config/load.ts';
import { type ValidationConfig, validationConfigFromSpec } from '../config/operations.ts';
import { BackupRepository } from '../format/repository.ts';
import type { KafkaPort } from '../kafka/port.ts';
import { runValidate, type ValidateCommandResult } from '../validation/commands.ts';
import { UsageError } from './errors.ts';
import type { AppPorts } from './ports.ts';

/** What a run adds to the spec: the CLI's flags, or the operator's view of the resource. */
export interface ValidationRun {
  /** Run the cluster checks even without a `checks` section (they need kafkaCluster). */
  readonly clusterChecks?: boolean;
  /** Compare through this restore's offset mapping (exact for renamed and repartitioned topics). */
  readonly restoreId?: string;
  readonly webhookUrl?: string;
  readonly triggeredBy?: string;
  /** Who ran it, as notifications name it (the operator: `KafkaBackupValidation ns/name`). */
  readonly notificationSource?: string;
  /** Print only: do not store the report. */
  readonly noStore?: boolean;
  readonly parallelism?: number;
  /** Aborting stops the run between steps and cancels its webhook calls; it then rejects. */
  readonly signal?: AbortSignal;
  readonly toolVersion: string;
  readonly context?: SpecContext;
}

/**
 * One KafkaBackupValidation: checks the backup named concretely (`backupRef.storage`,
 * `backupRef.backupId`; the operator resolves `backupRef.name` beforehand), optionally against a
 * cluster, and writes the evidence report. The result's `report.summary.result` says passed,
 * warnings or failed; failures to run at all throw, to be classified by classify().
 */
export async function validate(
  spec: unknown,
  ports: AppPorts,
  run: ValidationRun,
): Promise<ValidateCommandResult> {
  const context = run.context ?? { source: 'KafkaBackupValidation spec' };
  return validateWith(await validationConfigFromSpec(spec, ports.secrets, context), ports, run);
}

export async function validateWith(
  config: ValidationConfig,
  ports: AppPorts,
  run: ValidationRun,
): Promise<ValidateCommandResult> {
  if (!config.storage)
    throw new UsageError('backupRef.storage (or storage) is required: the backup is read there');
  if (config.restoreSample !== undefined && !config.kafka) {
    throw new UsageError('the restore sample needs kafkaCluster (the scratch cluster)');
  }
  const wantCluster = run.clusterChecks === true || (config.hasChecks && config.kafka !== undefined);
  if (wantCluster && !config.kafka) throw new UsageError('the cluster checks need kafkaCluster');
  const store = await ports.openStore(config.storage);
  const evidenceStore = config.evidenceStorage
    ? await ports.openStore(config.evidenceStorage).catch((error: unknown) => {
        store.close?.();
        throw error;
      })
    : undefined;
  const kafka: KafkaPort | undefined =
    config.kafka && (wantCluster || config.restoreSample !== undefined)
      ? ports.connectKafka(config.kafka)
      : undefined;
  try {
    return await runValidate(
      {
        ...(config.backupId ? { backupId: config.backupId } : {}),
        deep: config.deep,
        integrity: config.integrity,
        customWebhooks: config.customWebhooks,
        formats: config.evidenceFormats,
        ...(config.retentionDays !== undefined ? { retentionDays: config.retentionDays } : {}),
        ...(config.notifications ? { notifications: config.notifications } : {}),
        ...(run.notificationSource ? { notificationSource: run.notificationSource } : {}),
        ...(config.restoreSample !== undefined ? { restoreSample: config.restoreSample } : {}),
        ...(config.scratchTopicPrefix ? { scratchTopicPrefix: config.scratchTopicPrefix } : {}),
        ...(config.signingKeyPem ? { signingKey: { pem: config.signingKeyPem } } : {}),
        ...(run.webhookUrl ? { webhookUrl: run.webhookUrl } : {}),
        ...(run.triggeredBy ? { triggeredBy: run.triggeredBy } : {}),
        ...(run.parallelism ? { parallelism: run.parallelism } : {}),
        noStore: run.noStore === true,
        ...(run.signal ? { signal: run.signal } : {}),
        ...(wantCluster
          ? {
              clusterChecks: {
                ...(run.restoreId ? { restoreId: run.restoreId } : {}),
                ...(Object.keys(config.topicMapping).length > 0 ? { topicMapping: config.topicMapping } : {}),
                messageCount: config.messageCount,
                offsetRange: config.offsetRange,
                consumerGroupOffsets: config.consumerGroupOffsets,
              },
            }
          : {}),
        toolVersion: run.toolVersion,
      },
      {
        repository: new BackupRepository(store),
        ...(evidenceStore ? { evidenceStore } : {}),
        ...(kafka ? { kafka, admin: kafka } : {}),
        ...(kafka && config.kafka ? { bootstrapServers: config.kafka.bootstrapServers.join(',') } : {}),
        ...(config.encryption ? { encryption: config.encryption } : {}),
        secrets: [
          config.kafka?.sasl?.password,
          config.kafka?.tls?.key,
          config.notifications?.slack?.webhookUrl,
          config.notifications?.pagerduty?.routingKey,
        ].filter((s): s is string => Boolean(s)),
      },
    );
  } finally {
    await kafka?.close();
    store.close?.();
    evidenceStore?.close?.();
  }
}
