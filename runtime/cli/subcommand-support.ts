import { classify } from '../app/errors.ts';
import { readKafkaCluster } from '../config/kafka-cluster.ts';
import { readConfigFile } from '../config/load.ts';
import { ConfigError, type Reader } from '../config/reader.ts';
import { readStorage, type StorageSpec } from '../config/storage.ts';
import type { KafkaConnectionConfig } from '../kafka/connection.ts';
import { UsageError } from './exit-codes.ts';
import { toJson } from './output.ts';

/**
 * Glue shared by the `offsets`, `validate` and `evidence` subcommands: the cluster and storage from
 * a CRD-shaped YAML file (the resource or its spec), printing, and exit codes from the one
 * classification (runtime/app/errors.ts).
 */
export interface ClusterAndStorage {
  readonly spec: Reader;
  readonly kafka?: KafkaConnectionConfig;
  readonly storage?: StorageSpec;
  readonly backupId?: string;
}

/** `kafkaCluster`, and storage from `storage`, `backupRef.storage` or `snapshotRef.storage`. */
export function loadClusterAndStorage(
  file: string,
  needs: { kafka: boolean; storage: boolean },
): ClusterAndStorage {
  const { spec } = readConfigFile(file);
  const k = spec.object('kafkaCluster');
  const kafka = k ? readKafkaCluster(k) : undefined;
  if (!kafka && needs.kafka) spec.problem('kafkaCluster', 'is required');
  let storage: StorageSpec | undefined;
  let backupId: string | undefined;
  for (const holder of ['backupRef', 'snapshotRef'] as const) {
    const ref = spec.object(holder);
    const s = ref?.object('storage');
    if (s && !storage) storage = readStorage(s);
    if (holder === 'backupRef') backupId = ref?.string('backupId');
  }
  const top = spec.object('storage');
  if (top && !storage) storage = readStorage(top);
  if (!storage && needs.storage)
    spec.problem('storage', 'is required (or backupRef.storage): offset snapshots and reports live there');
  if (spec.problems.length > 0) throw new ConfigError(file, spec.problems);
  return {
    spec,
    ...(kafka ? { kafka } : {}),
    ...(storage ? { storage } : {}),
    ...(backupId ? { backupId } : {}),
  };
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
  result: { exitCode: number; text: string; json: unknown },
): void {
  if (format === 'json') {
    io.out(
      `${toJson({ ok: result.exitCode === 0, command, exitCode: result.exitCode, result: result.json })}\n`,
    );
  } else {
    io.out(`${result.text}\n`);
  }
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
