import { parseArgs } from 'node:util';
import {
  offsetSnapshot,
  resetOffsetsWith,
  resetRequestOf,
  rollbackOffsetsWith,
  showOffsetMapping,
} from '../app/offsets.ts';
import { productionPorts } from '../app/ports.ts';
import {
  type OffsetResetConfig,
  type OffsetRollbackConfig,
  offsetResetConfigFromSpec,
  offsetRollbackConfigFromSpec,
  type SpecValues,
} from '../config/operations.ts';
import { createLogger } from '../log.ts';
import type { CommandResult } from '../offsets/commands.ts';
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

export const OFFSETS_HELP = `kafka-backup offsets - consumer group offsets: snapshot, reset, rollback, show-mapping

Usage:
  kafka-backup offsets snapshot  -c FILE (--group G ... | --all-groups) [--description TEXT]
  kafka-backup offsets snapshot  -c FILE --list | --show SNAPSHOT_ID
  kafka-backup offsets reset     -c FILE --strategy S [--group G ...] [--topic T ...] [--partition P ...]
                                 [--timestamp TS] [--offset N] [--shift N] [--backup-id B] [--restore-id R]
                                 [--snapshot-id ID] [--dry-run] [--parallelism N]
  kafka-backup offsets rollback  -c FILE --snapshot-id ID [--group G ...] [--dry-run] [--no-verify]
  kafka-backup offsets show-mapping -c FILE --backup-id B [--restore-id R]

Strategies: to-earliest, to-latest, to-timestamp (--timestamp epoch-ms or RFC 3339), to-offset (--offset),
shift-by (--shift=N, may be negative: --shift=-10), from-mapping (--backup-id, --restore-id), from-snapshot (--snapshot-id).

FILE is a KafkaOffsetReset / KafkaOffsetRollback resource (or any spec) with kafkaCluster and storage (or
backupRef.storage or snapshotRef.storage): its consumerGroups, resetStrategy, resetTimestamp, resetOffset,
resetShift, topics, parallelism, dryRun and snapshotRef.name (--snapshot-id) are used unless a flag
overrides them. Offsets are only committed for groups
without active members; a snapshot is stored before every reset. See docs/offsets.md.

Options: -o/--output text|json, --log-level L, -h/--help.
Exit codes: 0 success, 2 usage, 4 Kafka rejected a commit, 5 storage, 7 active members or offsets changed meanwhile.
`;

export async function offsetsCli(argv: string[], io: CliIo = processIo): Promise<number> {
  let format: 'text' | 'json' = 'text';
  const sub = argv[0]?.startsWith('-') ? undefined : argv[0];
  try {
    const { values, positionals } = parseArgs({
      args: sub ? argv.slice(1) : argv,
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        output: { type: 'string', short: 'o', default: 'text' },
        group: { type: 'string', multiple: true },
        'all-groups': { type: 'boolean', default: false },
        topic: { type: 'string', multiple: true },
        partition: { type: 'string', multiple: true },
        strategy: { type: 'string' },
        timestamp: { type: 'string' },
        offset: { type: 'string' },
        shift: { type: 'string' },
        'backup-id': { type: 'string' },
        'restore-id': { type: 'string' },
        'snapshot-id': { type: 'string' },
        'dry-run': { type: 'boolean' },
        'no-verify': { type: 'boolean', default: false },
        parallelism: { type: 'string' },
        description: { type: 'string' },
        list: { type: 'boolean', default: false },
        show: { type: 'string' },
        'log-level': { type: 'string', default: 'warn' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    format = outputFormat(values.output);
    if (values.help || !sub) {
      io.out(OFFSETS_HELP);
      return values.help ? 0 : 2;
    }
    if (!['snapshot', 'reset', 'rollback', 'show-mapping'].includes(sub)) {
      throw new UsageError(`unknown offsets command '${sub}': use snapshot, reset, rollback or show-mapping`);
    }
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    if (!values.config)
      throw new UsageError(`'offsets ${sub}' needs --config FILE (see kafka-backup offsets --help)`);

    const log = createLogger({ level: values['log-level'] as 'warn' });
    const ports = productionPorts({ log });
    const rollback = sub === 'rollback';
    const spec: SpecValues = await readSpecFile<OffsetResetConfig | OffsetRollbackConfig>(
      values.config,
      rollback ? 'KafkaOffsetRollback' : 'KafkaOffsetReset',
      ports.secrets,
      rollback ? offsetRollbackConfigFromSpec : offsetResetConfigFromSpec,
    );
    // Flags override the file.
    const groups = values.group ?? spec.groups ?? [];
    const parallelism = positiveInteger(values.parallelism, '--parallelism') ?? spec.parallelism;
    const dryRun = values['dry-run'] ?? spec.dryRun ?? false;
    const snapshotId = values['snapshot-id'] ?? spec.snapshotId;
    const backupId = values['backup-id'] ?? spec.backupId;
    const restoreId = values['restore-id'];
    let result: CommandResult;
    switch (sub) {
      case 'snapshot':
        result = await offsetSnapshot(
          spec,
          {
            groups,
            allGroups: values['all-groups'],
            list: values.list,
            ...(values.show ? { show: values.show } : {}),
            ...(values.description ? { description: values.description } : {}),
            ...(parallelism ? { parallelism } : {}),
          },
          ports,
        );
        break;
      case 'reset': {
        const fromFile = resetRequestOf({ ...spec, groups, topics: spec.topics ?? [], dryRun });
        result = await resetOffsetsWith(
          {
            ...fromFile,
            topics: values.topic ?? fromFile.topics,
            partitions: (values.partition ?? []).map((p) => {
              if (!/^\d+$/.test(p))
                throw new UsageError(`--partition must be a partition number, got '${p}'`);
              return Number(p);
            }),
            ...((values.strategy ?? spec.strategy) ? { strategy: values.strategy ?? spec.strategy } : {}),
            ...((values.timestamp ?? fromFile.timestamp)
              ? { timestamp: values.timestamp ?? fromFile.timestamp }
              : {}),
            ...((values.offset ?? fromFile.offset) ? { offset: values.offset ?? fromFile.offset } : {}),
            ...((values.shift ?? fromFile.shift) ? { shift: values.shift ?? fromFile.shift } : {}),
            ...(backupId ? { backupId } : {}),
            ...(restoreId ? { restoreId } : {}),
            ...(snapshotId ? { snapshotId } : {}),
            ...(parallelism ? { parallelism } : {}),
          },
          ports,
        );
        break;
      }
      case 'rollback':
        result = await rollbackOffsetsWith(
          {
            ...spec,
            ...(snapshotId ? { snapshotId } : {}),
            groups,
            dryRun,
            verify: !values['no-verify'] && (spec.verify ?? true),
            ...(parallelism ? { parallelism } : {}),
          },
          ports,
        );
        break;
      default: {
        if (!backupId) throw new UsageError('offsets show-mapping needs --backup-id');
        result = await showOffsetMapping(spec, { backupId, ...(restoreId ? { restoreId } : {}) }, ports);
      }
    }
    return printOutcome(io, format, `offsets ${sub}`, result);
  } catch (error) {
    return printFailure(io, format, `offsets ${sub ?? ''}`.trim(), error);
  }
}
