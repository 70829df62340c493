import { classify, resultStatus } from '../app/errors.ts';
import { readConfigFile } from '../config/load.ts';
import { type SpecValues, specValuesOf } from '../config/operations.ts';
import { ConfigError } from '../config/reader.ts';
import type { SecretResolver } from '../config/secrets.ts';
import type { ResultFailure } from '../outcome.ts';
import { UsageError } from './exit-codes.ts';
import { toJson } from './output.ts';

/**
 * Glue shared by the `offsets`, `validate` and `evidence` subcommands: reading their file, printing,
 * and exit codes from the one classification (runtime/app/errors.ts).
 */

const KINDS = [
  'KafkaOffsetReset',
  'KafkaOffsetRollback',
  'KafkaBackupValidation',
  'KafkaRestore',
  'KafkaBackup',
];

/**
 * The file's spec, parsed by the rules of its kind: `own` (the subcommand's kind) through
 * `parseOwn`, any other of our kinds through its own parser, so unknown fields are refused either
 * way and `offsets show-mapping -c restore.yaml` still works. A bare spec (no `kind`) is read as
 * `own`; failing that, as the first other kind it is valid for, and if none, `own`'s problems are
 * reported.
 */
export async function readSpecFile<T extends SpecValues>(
  file: string,
  own: string,
  secrets: SecretResolver,
  parseOwn: (
    spec: unknown,
    secrets: SecretResolver,
    context: { source: string; name?: string },
  ) => Promise<T>,
): Promise<T | SpecValues> {
  const { spec, kind, context } = readConfigFile(file);
  if (kind !== undefined && kind !== own) return specValuesOf(kind, spec, secrets, context);
  try {
    return await parseOwn(spec, secrets, context);
  } catch (error) {
    if (kind !== undefined || !(error instanceof ConfigError)) throw error;
    for (const other of KINDS.filter((k) => k !== own)) {
      try {
        return await specValuesOf(other, spec, secrets, context);
      } catch {
        // not a valid spec of that kind either: try the next
      }
    }
    throw error;
  }
}

/** Where a subcommand writes; the process's streams by default, a collector in tests. */
export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

export const processIo: CliIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

export function printOutcome(
  io: CliIo,
  format: 'text' | 'json',
  command: string,
  result: { failure?: ResultFailure; text: string; json: unknown },
): number {
  const { ok, exitCode } = resultStatus(result.failure);
  if (format === 'json') {
    io.out(`${toJson({ ok, command, exitCode, result: result.json })}\n`);
  } else {
    io.out(`${result.text}\n`);
  }
  return exitCode;
}

export function printFailure(io: CliIo, format: 'text' | 'json', command: string, error: unknown): number {
  const { exitCode: code, message } = classify(error);
  if (format === 'json') io.out(`${toJson({ ok: false, command, error: message, exitCode: code })}\n`);
  else io.err(`kafka-backup ${command}: ${message}\n`);
  return code;
}

export function outputFormat(value: unknown): 'text' | 'json' {
  if (value !== 'text' && value !== 'json') throw new UsageError('--output must be text or json');
  return value;
}

export function positiveInteger(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new UsageError(`${flag} must be a positive integer`);
  return Number(value);
}
