import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createObjectStore } from '../config/object-store-factory.ts';
import { ConfigError } from '../config/reader.ts';
import { readSecret, secretRef } from '../config/secrets.ts';
import { readStorage } from '../config/storage.ts';
import type { SigningKeySource } from '../evidence/signing.ts';
import { BackupRepository } from '../format/repository.ts';
import { PlatformaticKafka } from '../kafka/platformatic-adapter.ts';
import { createLogger } from '../log.ts';
import { PlatformaticGroupAdmin } from '../offsets/platformatic-group-admin.ts';
import { runValidate } from '../validation/commands.ts';
import { UsageError } from './exit-codes.ts';
import {
  type CliIo,
  loadClusterAndStorage,
  outputFormat,
  positiveInteger,
  printFailure,
  printOutcome,
  processIo,
} from './subcommand-support.ts';

export const VALIDATE_HELP = `kafka-backup validate - check a backup and write a signed evidence report

Usage:
  kafka-backup validate -c FILE [--backup-id B] [--deep] [--restore-sample N|all] [--signing-key-file PEM]
                        [--cluster-checks [--restore-id R]] [--webhook-url URL] [--triggered-by TEXT]
                        [--no-store] [--parallelism N] [-o json]

Checks: segment-integrity (--deep: checksum and decode every segment), record-counts, offset-continuity
(every gap explained), source-watermarks, consumer-group-snapshot, restore-sample (restores N segments per
partition, or all, into a scratch topic of kafkaCluster and compares byte for byte; needs kafkaCluster).
With --cluster-checks (or a checks: section and kafkaCluster in the file): message-count, offset-range and
consumer-group-offsets compare kafkaCluster with the backup, through the offset mapping of --restore-id when
given (exact for renamed and repartitioned topics), else by topicMapping and original offsets.

FILE is a KafkaBackupValidation resource (or any spec) with backupRef.storage (or storage) and, for the
restore check, kafkaCluster. Its checks.integrity.deep means --deep; checks.restoreSample (enabled,
segmentsPerPartition or all, scratchTopicPrefix) means --restore-sample, which overrides it. The signing key comes from --signing-key-file, or evidence.signing.keySecret
(mounted secret, key privateKeyKey, default signing-key.pem). Reports are stored at
evidence/<backupId>/<reportId>/report.{json,html,sig}; see docs/evidence.md.

Exit codes: 0 passed or warnings, 2 usage, 3 a check failed, 4 Kafka, 5 storage, 6 backup not found.
`;

export async function validateCli(argv: string[], io: CliIo = processIo): Promise<number> {
  let format: 'text' | 'json' = 'text';
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        output: { type: 'string', short: 'o', default: 'text' },
        'backup-id': { type: 'string' },
        deep: { type: 'boolean', default: false },
        'restore-sample': { type: 'string' },
        'signing-key-file': { type: 'string' },
        'webhook-url': { type: 'string' },
        'triggered-by': { type: 'string' },
        'no-store': { type: 'boolean', default: false },
        'cluster-checks': { type: 'boolean', default: false },
        'restore-id': { type: 'string' },
        parallelism: { type: 'string' },
        'log-level': { type: 'string', default: 'warn' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    format = outputFormat(values.output);
    if (values.help) {
      io.out(VALIDATE_HELP);
      return 0;
    }
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    if (!values.config)
      throw new UsageError("'validate' needs --config FILE (see kafka-backup validate --help)");
    const config = loadClusterAndStorage(values.config, { kafka: false, storage: true });
    const spec = config.spec;
    const log = createLogger({ level: values['log-level'] as 'warn' });

    const checks = spec.object('checks');
    // The file's checks.integrity.deep and checks.restoreSample mean what --deep and --restore-sample mean.
    const deep = values.deep || (checks?.object('integrity')?.boolean('deep', false) ?? false);
    const sampleSpec = checks?.object('restoreSample');
    const sampleFlag = values['restore-sample'];
    let restoreSample: number | 'all' | undefined;
    if (sampleFlag !== undefined) {
      restoreSample = sampleFlag === 'all' ? 'all' : positiveInteger(sampleFlag, '--restore-sample');
    } else if (sampleSpec?.boolean('enabled', false)) {
      restoreSample = sampleSpec.boolean('all', false)
        ? 'all'
        : (sampleSpec.integer('segmentsPerPartition', { min: 1, max: 10000 }) ?? 1);
    }
    const scratchTopicPrefix = sampleSpec?.string('scratchTopicPrefix');
    if (restoreSample !== undefined && !config.kafka) {
      throw new UsageError(
        `${sampleFlag !== undefined ? '--restore-sample' : 'checks.restoreSample'} needs kafkaCluster (the scratch cluster) in the file`,
      );
    }
    const evidence = spec.object('evidence');
    let signingKey: SigningKeySource | undefined;
    if (values['signing-key-file']) {
      signingKey = { pem: readFileSync(values['signing-key-file'], 'utf8') };
    } else {
      const signing = evidence?.object('signing');
      const ref = signing?.boolean('enabled', false) ? signing.object('keySecret') : undefined;
      const source = ref ? secretRef(ref, 'privateKeyKey', 'signing-key.pem') : undefined;
      if (source) signingKey = { pem: readSecret(source) };
    }
    const wantCluster = values['cluster-checks'] || (checks !== undefined && config.kafka !== undefined);
    if (wantCluster && !config.kafka) throw new UsageError('--cluster-checks needs kafkaCluster in the file');
    const enabled = (name: string) => checks?.object(name)?.boolean('enabled', true) ?? true;
    const topicMapping = Object.fromEntries(
      spec.map('topicMapping', (v) => (typeof v === 'string' ? v : undefined)),
    );
    const mc = checks?.object('messageCount');
    const cg = checks?.object('consumerGroupOffsets');
    const clusterChecks = wantCluster
      ? {
          ...(values['restore-id'] ? { restoreId: values['restore-id'] } : {}),
          ...(Object.keys(topicMapping).length > 0 ? { topicMapping } : {}),
          messageCount: enabled('messageCount')
            ? {
                failThreshold: mc?.integer('failThreshold', { min: 0 }) ?? 0,
                topics: mc?.strings('topics') ?? [],
              }
            : (false as const),
          offsetRange: enabled('offsetRange'),
          consumerGroupOffsets: enabled('consumerGroupOffsets')
            ? { groups: cg?.strings('consumerGroups') ?? [] }
            : (false as const),
        }
      : undefined;
    const evidenceStorage = evidence?.object('storage');
    const evidenceSpec = evidenceStorage ? readStorage(evidenceStorage) : undefined;
    if (spec.problems.length > 0) throw new ConfigError(values.config, spec.problems);

    const store = await createObjectStore(config.storage as NonNullable<typeof config.storage>, log);
    const kafka =
      config.kafka && restoreSample !== undefined
        ? new PlatformaticKafka(config.kafka, { logger: log })
        : undefined;
    const admin = config.kafka && clusterChecks ? new PlatformaticGroupAdmin(config.kafka) : undefined;
    try {
      const backupId = values['backup-id'] ?? config.backupId;
      const parallelism = positiveInteger(values.parallelism, '--parallelism');
      const result = await runValidate(
        {
          ...(backupId ? { backupId } : {}),
          deep,
          ...(restoreSample !== undefined ? { restoreSample } : {}),
          ...(scratchTopicPrefix ? { scratchTopicPrefix } : {}),
          ...(signingKey ? { signingKey } : {}),
          ...(values['webhook-url'] ? { webhookUrl: values['webhook-url'] } : {}),
          ...(values['triggered-by'] ? { triggeredBy: values['triggered-by'] } : {}),
          ...(parallelism ? { parallelism } : {}),
          noStore: values['no-store'],
          ...(clusterChecks ? { clusterChecks } : {}),
          toolVersion: toolVersion(),
        },
        {
          repository: new BackupRepository(store),
          ...(evidenceSpec ? { evidenceStore: await createObjectStore(evidenceSpec, log) } : {}),
          ...(kafka ? { kafka } : {}),
          ...(admin ? { admin } : {}),
          ...(config.kafka && (kafka || admin)
            ? { bootstrapServers: config.kafka.bootstrapServers.join(',') }
            : {}),
          secrets: [config.kafka?.sasl?.password, config.kafka?.tls?.key].filter((s): s is string =>
            Boolean(s),
          ),
        },
      );
      printOutcome(io, format, 'validate', result);
      return result.exitCode;
    } finally {
      await kafka?.close();
      await admin?.close();
    }
  } catch (error) {
    return printFailure(io, format, 'validate', error);
  }
}

/** The package version, from source (runtime/validation) or compiled (build/runtime/validation) code. */
function toolVersion(): string {
  for (const up of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === '@oso/kafka-backup-k8s' && pkg.version) return pkg.version;
    } catch {
      // not there: try the next level
    }
  }
  return 'unknown';
}
