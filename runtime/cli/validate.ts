import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { productionPorts } from '../app/ports.ts';
import { validateWith } from '../app/validate.ts';
import { type ValidationConfig, validationConfigFromSpec } from '../config/operations.ts';
import { createLogger } from '../log.ts';
import { toolVersion } from '../version.ts';
import { UsageError } from './exit-codes.ts';
import {
  type CliIo,
  outputFormat,
  positiveInteger,
  printFailure,
  printOutcome,
  processIo,
  readSpecFile,
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
    const log = createLogger({ level: values['log-level'] as 'warn' });
    const ports = productionPorts({ log });
    const file = await readSpecFile(
      values.config,
      'KafkaBackupValidation',
      ports.secrets,
      validationConfigFromSpec,
    );
    // Another kind's file (a KafkaRestore, ...) gives the backup and the cluster; the checks take their defaults.
    const fromFile: ValidationConfig =
      'hasChecks' in file
        ? (file as ValidationConfig)
        : {
            ...file,
            integrity: true,
            deep: false,
            customWebhooks: [],
            evidenceFormats: ['json', 'html'],
            topicMapping: file.topicMapping ?? {},
            hasChecks: false,
            messageCount: { failThreshold: 0, topics: [] },
            offsetRange: true,
            consumerGroupOffsets: { groups: [] },
          };
    // Flags override the file: --deep, --restore-sample, --signing-key-file, --backup-id.
    const sampleFlag = values['restore-sample'];
    const restoreSample =
      sampleFlag === undefined
        ? fromFile.restoreSample
        : sampleFlag === 'all'
          ? 'all'
          : positiveInteger(sampleFlag, '--restore-sample');
    const signingKeyPem = values['signing-key-file']
      ? readFileSync(values['signing-key-file'], 'utf8')
      : fromFile.signingKeyPem;
    const backupId = values['backup-id'] ?? fromFile.backupId;
    const parallelism = positiveInteger(values.parallelism, '--parallelism');
    const { restoreSample: _sample, signingKeyPem: _key, backupId: _id, ...rest } = fromFile;
    const result = await validateWith(
      {
        ...rest,
        deep: values.deep || fromFile.deep,
        ...(restoreSample !== undefined ? { restoreSample } : {}),
        ...(signingKeyPem ? { signingKeyPem } : {}),
        ...(backupId ? { backupId } : {}),
      },
      ports,
      {
        clusterChecks: values['cluster-checks'],
        ...(values['restore-id'] ? { restoreId: values['restore-id'] } : {}),
        ...(values['webhook-url'] ? { webhookUrl: values['webhook-url'] } : {}),
        ...(values['triggered-by'] ? { triggeredBy: values['triggered-by'] } : {}),
        noStore: values['no-store'],
        ...(parallelism ? { parallelism } : {}),
        toolVersion: toolVersion(),
      },
    );
    return printOutcome(io, format, 'validate', result);
  } catch (error) {
    return printFailure(io, format, 'validate', error);
  }
}
