import { parseArgs } from 'node:util';
import { productionPorts } from '../app/ports.ts';
import { validationConfigFromSpec } from '../config/operations.ts';
import { type EvidenceLocation, runEvidenceVerify } from '../evidence/commands.ts';
import { createLogger } from '../log.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { UsageError } from './exit-codes.ts';
import {
  type CliIo,
  outputFormat,
  printFailure,
  printOutcome,
  processIo,
  readSpecFile,
} from './subcommand-support.ts';

export const EVIDENCE_HELP = `kafka-backup evidence verify - verify a signed evidence report

Usage:
  kafka-backup evidence verify --public-key PEM --report report.json [--signature report.sig] [--html report.html]
  kafka-backup evidence verify --public-key PEM -c FILE --backup-id B --report-id R

Only the public key given here is trusted. Fails (exit code 3), naming every reason, when any byte of the
report, its signature file or its HTML rendering changed, when another key signed it, or when it is unsigned.
`;

export async function evidenceCli(argv: string[], io: CliIo = processIo): Promise<number> {
  let format: 'text' | 'json' = 'text';
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        output: { type: 'string', short: 'o', default: 'text' },
        'public-key': { type: 'string' },
        report: { type: 'string' },
        signature: { type: 'string' },
        html: { type: 'string' },
        'backup-id': { type: 'string' },
        'report-id': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    format = outputFormat(values.output);
    if (values.help || positionals[0] !== 'verify') {
      io.out(EVIDENCE_HELP);
      return values.help ? 0 : 2;
    }
    if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}'`);
    if (!values['public-key'])
      throw new UsageError('evidence verify needs --public-key FILE (the trusted public key)');
    let location: EvidenceLocation;
    let store: ObjectStore | undefined;
    if (values.report) {
      location = {
        kind: 'files',
        json: values.report,
        ...(values.signature ? { sig: values.signature } : {}),
        ...(values.html ? { html: values.html } : {}),
      };
    } else {
      if (!values.config || !values['report-id']) {
        throw new UsageError('name the report: --report FILE, or --config FILE --backup-id B --report-id R');
      }
      const ports = productionPorts({ log: createLogger({ level: 'warn' }) });
      const config = await readSpecFile(
        values.config,
        'KafkaBackupValidation',
        ports.secrets,
        validationConfigFromSpec,
      );
      const backupId = values['backup-id'] ?? config.backupId;
      if (!backupId) throw new UsageError('evidence verify needs --backup-id with --report-id');
      if (!config.storage)
        throw new UsageError('evidence verify needs the storage (backupRef.storage) in the file');
      store = await ports.openStore(config.storage);
      location = { kind: 'storage', backupId, reportId: values['report-id'] };
    }
    const result = await runEvidenceVerify(
      { location, publicKey: { file: values['public-key'] } },
      store ? { store } : {},
    );
    return printOutcome(io, format, 'evidence verify', result);
  } catch (error) {
    return printFailure(io, format, 'evidence verify', error);
  }
}
