import { parseArgs } from 'node:util';
import { createObjectStore } from '../config/object-store-factory.ts';
import { ConfigError } from '../config/reader.ts';
import { BackupRepository } from '../format/repository.ts';
import { createLogger } from '../log.ts';
import {
  type CommandResult,
  type OffsetsDeps,
  runOffsetsReset,
  runOffsetsRollback,
  runOffsetsShowMapping,
  runOffsetsSnapshot,
} from '../offsets/commands.ts';
import { openMappingSource } from '../offsets/mapping-store.ts';
import { PlatformaticGroupAdmin } from '../offsets/platformatic-group-admin.ts';
import type { ObjectStore } from '../storage/object-store.ts';
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

    const config = loadClusterAndStorage(values.config, { kafka: sub !== 'show-mapping', storage: true });
    const spec = config.spec;
    const log = createLogger({ level: values['log-level'] as 'warn' });
    const store: ObjectStore = await createObjectStore(
      config.storage as NonNullable<typeof config.storage>,
      log,
    );
    const admin = config.kafka ? new PlatformaticGroupAdmin(config.kafka) : undefined;
    const repository = new BackupRepository(store);
    const deps: OffsetsDeps = {
      admin: admin as PlatformaticGroupAdmin,
      store,
      openBackup: (id) => openMappingSource(repository, id),
    };
    const groups = values.group ?? spec.strings('consumerGroups');
    const parallelism =
      positiveInteger(values.parallelism, '--parallelism') ?? spec.integer('parallelism', { min: 1 });
    const dryRun = values['dry-run'] ?? spec.boolean('dryRun', false);
    if (spec.problems.length > 0) throw new ConfigError(values.config, spec.problems);
    let result: CommandResult;
    try {
      switch (sub) {
        case 'snapshot':
          result = await runOffsetsSnapshot(
            {
              groups,
              allGroups: values['all-groups'],
              list: values.list,
              ...(values.show ? { show: values.show } : {}),
              ...(values.description ? { description: values.description } : {}),
              ...(parallelism ? { parallelism } : {}),
            },
            deps,
          );
          break;
        case 'reset': {
          const strategy = values.strategy ?? spec.string('resetStrategy');
          if (!strategy)
            throw new UsageError('offsets reset needs --strategy (or resetStrategy in the file)');
          const timestamp = values.timestamp ?? spec.bigint('resetTimestamp')?.toString();
          const offset = values.offset ?? spec.bigint('resetOffset')?.toString();
          const shift = values.shift ?? spec.bigint('resetShift')?.toString();
          // The same snapshotRef.name that KafkaOffsetRollback uses; the CRD allows it only for from-snapshot.
          const snapshotId = values['snapshot-id'] ?? spec.object('snapshotRef')?.string('name');
          const backupId = values['backup-id'] ?? config.backupId;
          result = await runOffsetsReset(
            {
              groups,
              topics: values.topic ?? spec.strings('topics'),
              partitions: (values.partition ?? []).map((p) => {
                if (!/^\d+$/.test(p))
                  throw new UsageError(`--partition must be a partition number, got '${p}'`);
                return Number(p);
              }),
              strategy,
              ...(timestamp ? { timestamp } : {}),
              ...(offset ? { offset } : {}),
              ...(shift ? { shift } : {}),
              ...(backupId ? { backupId } : {}),
              ...(values['restore-id'] ? { restoreId: values['restore-id'] } : {}),
              ...(snapshotId ? { snapshotId } : {}),
              dryRun,
              ...(parallelism ? { parallelism } : {}),
            },
            deps,
          );
          break;
        }
        case 'rollback': {
          const snapshotId = values['snapshot-id'] ?? spec.object('snapshotRef')?.string('name');
          if (!snapshotId)
            throw new UsageError('offsets rollback needs --snapshot-id (or snapshotRef.name in the file)');
          result = await runOffsetsRollback(
            {
              snapshotId,
              groups,
              dryRun,
              verify: !values['no-verify'] && spec.boolean('verifyAfterRollback', true),
              ...(parallelism ? { parallelism } : {}),
            },
            deps,
          );
          break;
        }
        default: {
          const backupId = values['backup-id'] ?? config.backupId;
          if (!backupId) throw new UsageError('offsets show-mapping needs --backup-id');
          result = await runOffsetsShowMapping(
            { backupId, ...(values['restore-id'] ? { restoreId: values['restore-id'] } : {}) },
            deps,
          );
        }
      }
    } finally {
      await admin?.close();
    }
    printOutcome(io, format, `offsets ${sub}`, result);
    return result.exitCode;
  } catch (error) {
    return printFailure(io, format, `offsets ${sub ?? ''}`.trim(), error);
  }
}
