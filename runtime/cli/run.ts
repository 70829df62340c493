import { parseArgs } from 'node:util';
import { backup } from '../app/backup.ts';
import { classify, resultStatus } from '../app/errors.ts';
import { type AppPorts, productionPorts } from '../app/ports.ts';
import { restore } from '../app/restore.ts';
import { retention } from '../app/retention.ts';
import { readConfigFile, storageConfigFromSpec } from '../config/load.ts';
import type { StorageSpec } from '../config/storage.ts';
import { CorruptObjectError } from '../format/errors.ts';
import { BackupRepository, type PruneResult, type ReadableBackup } from '../format/repository.ts';
import type { BackupManifest } from '../format/types.ts';
import { createLogger, type Logger, type LogLevel, scrub } from '../log.ts';
import { toolVersion } from '../version.ts';
import { evidenceCli } from './evidence.ts';
import { EXIT, UsageError } from './exit-codes.ts';
import { CliMetrics } from './metrics.ts';
import { offsetsCli } from './offsets.ts';
import { type OutputFormat, ProgressLine, printResult } from './output.ts';
import { validateCli } from './validate.ts';

export const HELP = `kafka-backup - back up Kafka topics to object storage and restore them

Usage:
  kafka-backup backup   --config FILE              run one backup (one-shot, or continuous until SIGTERM)
  kafka-backup restore  --config FILE [--dry-run]  restore a backup (the dry run prints the plan, writes nothing)
  kafka-backup list     --config FILE              list the backups in the configured storage
  kafka-backup describe --config FILE [--backup-id ID]
                                                   topics, partitions, offsets, runs and gaps of a backup
  kafka-backup verify   --config FILE [--backup-id ID] [--deep]
                                                   check every object of a backup (--deep: read and decode all)
  kafka-backup prune    --config FILE [--dry-run]  delete the backup's oldest runs as its retention block says
                                                   (keepLast, maxAgeDays, minSuccessful; --dry-run only reports)
  kafka-backup offsets snapshot|reset|rollback|show-mapping --config FILE ...
                                                   consumer group offsets (kafka-backup offsets --help)
  kafka-backup validate --config FILE [--deep] [--restore-sample N|all] [--cluster-checks] ...
                                                   validate a backup, write a signed evidence report (--help)
  kafka-backup operator [--leader-elect] [--watch-namespaces NS,...] ...
                                                   run the Kubernetes operator (kafka-backup operator --help)
  kafka-backup evidence verify --public-key PEM --report FILE
                                                   verify a signed evidence report (--help)
  kafka-backup run --request FILE                  one run handed to a Kubernetes Job by the operator
                                                   (kafka-backup run --help)

Options:
  -c, --config FILE    YAML: the spec of a KafkaBackup or KafkaRestore resource (or the whole resource)
  -o, --output FORMAT  text (default) or json (the result on stdout, for scripts)
      --backup-id ID   the backup to describe or verify (default: the one the config names, else the latest)
      --log-level L    debug, info (default), warn or error
      --metrics-file F backup, restore: write the run's metrics to F when it ends, in the Prometheus
                       text format (node_exporter's textfile collector)
  -h, --help           this help
      --version        the version

Secrets are never read from the YAML: they come from mounted secret files
($KAFKA_BACKUP_SECRETS_DIR/<secret>/<key>, default /var/run/secrets/kafka-backup), from paths
(passwordFile, keyFile, caFile) or from environment variables (passwordEnv, keyEnv).

Progress: a progress line with throughput and ETA on a terminal; JSON log lines on stderr otherwise.

Metrics: with a metrics block in the spec (metrics.enabled, default true), backup and restore serve
Prometheus metrics on metrics.bindAddress:port + path (default 0.0.0.0:9090/metrics) while they
run: the same families as the operator's /metrics (docs/metrics.md).

Exit codes:
  0 success            1 unexpected error (a bug)      2 usage or configuration error
  3 integrity error    4 Kafka error                   5 storage error
  6 not found          7 conflict (the target changed during the run)
  130/143 interrupted by SIGINT/SIGTERM (rerun the same command to resume); a continuous backup
          stopped by a signal commits what it read and exits 0
`;

interface Flags {
  config?: string;
  output: OutputFormat;
  dryRun: boolean;
  deep: boolean;
  backupId?: string;
  logLevel: LogLevel;
  /** backup, restore: write the run's metrics here when it ends (Prometheus text format). */
  metricsFile?: string;
}

export async function main(argv: string[]): Promise<number> {
  if (argv[0] === '--version' || argv[0] === 'version') {
    process.stdout.write(`kafka-backup ${toolVersion()}\n`);
    return EXIT.ok;
  }
  // Subcommands with their own options: consumer offsets, validation, evidence (docs/offsets.md, docs/evidence.md).
  // The operator and the Job worker load the Kubernetes client: only their subcommands pay for it.
  if (argv[0] === 'operator') return (await import('../operator/main.ts')).operatorMain(argv.slice(1));
  // One run handed to a Kubernetes Job by the operator's Job runner.
  if (argv[0] === 'run') return (await import('../operator/runs/job-worker.ts')).runWorkerMain(argv.slice(1));
  if (argv[0] === 'offsets') return offsetsCli(argv.slice(1));
  if (argv[0] === 'validate') return validateCli(argv.slice(1));
  if (argv[0] === 'evidence') return evidenceCli(argv.slice(1));
  let flags: Flags;
  let command: string | undefined;
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        output: { type: 'string', short: 'o', default: 'text' },
        'dry-run': { type: 'boolean', default: false },
        deep: { type: 'boolean', default: false },
        'backup-id': { type: 'string' },
        'log-level': { type: 'string', default: 'info' },
        'metrics-file': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (values.help || positionals.length === 0) {
      process.stdout.write(HELP);
      return values.help ? EXIT.ok : EXIT.usage;
    }
    command = positionals[0];
    if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}'`);
    if (values.output !== 'text' && values.output !== 'json')
      throw new UsageError('--output must be text or json');
    if (!['debug', 'info', 'warn', 'error'].includes(values['log-level'] as string)) {
      throw new UsageError('--log-level must be debug, info, warn or error');
    }
    flags = {
      ...(values.config ? { config: values.config } : {}),
      output: values.output,
      dryRun: values['dry-run'] as boolean,
      deep: values.deep as boolean,
      ...(values['backup-id'] ? { backupId: values['backup-id'] } : {}),
      logLevel: values['log-level'] as LogLevel,
      ...(values['metrics-file'] !== undefined ? { metricsFile: values['metrics-file'] } : {}),
    };
    if (flags.metricsFile !== undefined && command !== 'backup' && command !== 'restore') {
      throw new UsageError('--metrics-file applies to backup and restore only');
    }
    if (flags.metricsFile === '') throw new UsageError('--metrics-file needs a file path');
    if (!flags.config) throw new UsageError(`'${command}' needs --config FILE (see kafka-backup --help)`);
  } catch (error) {
    process.stderr.write(`kafka-backup: ${(error as Error).message}\n`);
    return EXIT.usage;
  }

  const interactive = Boolean(process.stderr.isTTY) && flags.output === 'text';
  const log = createLogger({ level: interactive && flags.logLevel === 'info' ? 'warn' : flags.logLevel });
  const controller = new AbortController();
  let signalled: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) process.exit(signal === 'SIGINT' ? EXIT.interrupted : EXIT.terminated);
    signalled = signal;
    log.warn('stopping: finishing the current batch and saving progress (send again to stop at once)', {
      signal,
    });
    controller.abort(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const signalCode = () => stoppedCode(controller.signal);
  try {
    const ports = productionPorts({ log });
    const { code, completed } = await dispatch(
      command as string,
      flags,
      ports,
      controller.signal,
      interactive,
    );
    // A run that completed despite the signal (a continuous backup ends only by one) succeeded.
    if (signalled && !(code === EXIT.ok && completed)) return signalCode();
    return code;
  } catch (error) {
    const failure = classify(error);
    const code = signalled ? signalCode() : failure.exitCode;
    reportFailure(flags.output, log, command as string, failure.message, code);
    if (code === EXIT.unexpected && error instanceof Error && error.stack)
      log.debug('stack', { stack: scrub(error.stack) });
    return code;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function reportFailure(
  output: OutputFormat,
  log: Logger,
  command: string,
  message: string,
  code: number,
): void {
  log.error('failed', { command, error: message, exitCode: code });
  if (output === 'json') {
    process.stdout.write(`${JSON.stringify({ ok: false, command, error: message, exitCode: code })}\n`);
  } else {
    process.stderr.write(`kafka-backup ${command}: ${message}\n`);
  }
}

/** 130 after SIGINT, 143 after SIGTERM (the signal's name is the abort reason). */
function stoppedCode(signal: AbortSignal): number {
  return signal.reason === 'SIGINT' ? EXIT.interrupted : EXIT.terminated;
}

interface Dispatched {
  readonly code: number;
  /** The run returned `complete` (so a signal that arrived meanwhile did not interrupt it). */
  readonly completed?: boolean;
}

/** The commands over the use cases (runtime/app): read the file, run, print, pick the exit code. */
async function dispatch(
  command: string,
  flags: Flags,
  ports: AppPorts,
  signal: AbortSignal,
  interactive: boolean,
): Promise<Dispatched> {
  const file = flags.config as string;
  switch (command) {
    case 'backup': {
      const { spec, context, namespace } = readSpecOf(file, 'KafkaBackup');
      const metrics = await CliMetrics.open({
        kind: 'KafkaBackup',
        spec,
        context,
        namespace,
        file: flags.metricsFile,
        log: ports.log,
      });
      const progress = interactive ? new ProgressLine('backup') : undefined;
      try {
        const result = await backup(spec, ports, {
          signal,
          context,
          ...(progress ? { onProgress: (p) => progress.update(p) } : {}),
          ...(metrics ? { metrics: metrics.controls } : {}),
        });
        progress?.done();
        const completed = result.outcome === 'complete';
        metrics?.ended({
          result: completed ? 'succeeded' : 'interrupted',
          records: result.records,
          bytes: result.bytes,
        });
        printResult(flags.output, 'backup', result);
        return { code: completed ? EXIT.ok : stoppedCode(signal), completed };
      } catch (error) {
        metrics?.ended({ result: 'failed' });
        throw error;
      } finally {
        progress?.done();
        await metrics?.close();
      }
    }
    case 'restore': {
      const { spec, context, namespace } = readSpecOf(file, 'KafkaRestore');
      const metrics = flags.dryRun
        ? undefined
        : await CliMetrics.open({
            kind: 'KafkaRestore',
            spec,
            context,
            namespace,
            file: flags.metricsFile,
            log: ports.log,
          });
      // Shown only once records are produced: a dry run never draws it.
      const progress = interactive ? new ProgressLine('restore') : undefined;
      try {
        const { consumerGroups: groups, ...result } = await restore(spec, ports, {
          signal,
          context,
          dryRun: flags.dryRun,
          ...(progress ? { onProgress: (p) => progress.update(p) } : {}),
          ...(metrics ? { metrics: metrics.controls } : {}),
        });
        progress?.done();
        metrics?.ended({
          result: result.outcome === 'interrupted' ? 'interrupted' : groups?.failure ? 'failed' : 'succeeded',
          records: result.records,
          bytes: result.bytes,
        });
        if (result.outcome === 'interrupted') {
          const code = stoppedCode(signal);
          reportFailure(
            flags.output,
            ports.log,
            command,
            'restore interrupted; rerun the same command to resume',
            code,
          );
          return { code };
        }
        printResult(
          flags.output,
          result.dryRun ? 'restore-plan' : 'restore',
          groups ? { ...result, consumerGroups: groups.json } : result,
        );
        if (groups && flags.output === 'text') process.stdout.write(`${groups.text}\n`);
        return { code: resultStatus(groups?.failure).exitCode, completed: true };
      } catch (error) {
        metrics?.ended({ result: 'failed' });
        throw error;
      } finally {
        progress?.done();
        await metrics?.close();
      }
    }
    case 'list': {
      const config = await storageConfig(file, ports);
      const repository = await openRepository(config.storage, ports);
      const backups = await repository.list({ includeLegacy: true });
      printResult(flags.output, 'list', { storage: repository.store.description, backups });
      return { code: EXIT.ok };
    }
    case 'describe':
    case 'verify': {
      const config = await storageConfig(file, ports);
      const repository = await openRepository(config.storage, ports);
      const backupId =
        flags.backupId ?? config.backupId ?? (await repository.latest({ includeLegacy: true }))?.backupId;
      if (!backupId) throw new UsageError(`no backup in ${repository.store.description}`);
      const opened = await repository.open(
        backupId,
        config.encryption ? { encryption: config.encryption } : {},
      );
      const manifest = await opened.manifest();
      if (command === 'describe') {
        printResult(flags.output, 'describe', describeManifest(manifest));
        return { code: EXIT.ok };
      }
      const report = await verifyBackup(opened, manifest, flags.deep, ports.log);
      printResult(flags.output, 'verify', report);
      return { code: report.ok ? EXIT.ok : EXIT.integrity };
    }
    case 'prune': {
      const { spec, context } = readSpecOf(file, 'KafkaBackup');
      const result = await retention(spec, ports, { context, dryRun: flags.dryRun });
      printResult(flags.output, 'prune', pruneView(result));
      return { code: EXIT.ok };
    }
    default:
      throw new UsageError(
        `unknown command '${command}': use backup, restore, list, describe, verify or prune (or offsets, validate, evidence)`,
      );
  }
}

/** The file's spec; a whole resource of another kind is refused at once, naming both kinds. */
function readSpecOf(file: string, kind: 'KafkaBackup' | 'KafkaRestore'): ReturnType<typeof readConfigFile> {
  const read = readConfigFile(file);
  if (read.kind !== undefined && read.kind !== kind) {
    throw new UsageError(`${file} is a ${read.kind}; this command takes a ${kind} (or its spec)`);
  }
  return read;
}

/** list, describe and verify read only the storage: any of our files that names one works. */
async function storageConfig(file: string, ports: AppPorts) {
  const { spec, context } = readConfigFile(file);
  return storageConfigFromSpec(spec, ports.secrets, context);
}

async function openRepository(spec: StorageSpec, ports: AppPorts): Promise<BackupRepository> {
  return new BackupRepository(await ports.openStore(spec));
}

/** A retention pass as printed: every run with its decision, and what was deleted. */
export function pruneView(r: PruneResult) {
  return {
    backupId: r.backupId,
    dryRun: r.dryRun,
    runs: r.plan.decisions.map((d) => ({
      runId: d.run.runId,
      lastCommitTime: new Date(d.run.lastCommittedAt).toISOString(),
      final: d.run.final,
      bytes: d.run.bytes,
      decision: d.kept === undefined ? (r.dryRun ? 'eligible' : 'pruned') : 'kept',
      reasons: d.kept === undefined ? d.reasons : [d.kept],
    })),
    eligibleRuns: r.plan.eligible.map((e) => e.runId),
    eligibleBytes: r.eligibleBytes,
    prunedRuns: r.prunedRuns,
    deletedObjects: r.deletedObjects,
    reclaimedBytes: r.reclaimedBytes,
  };
}

export function describeManifest(m: BackupManifest) {
  return {
    backupId: m.descriptor.backupId,
    format: m.format,
    createdAt: new Date(m.descriptor.createdAt).toISOString(),
    compression: m.descriptor.compression,
    encrypted: m.descriptor.encryption !== null,
    runs: m.runs.map((r) => ({
      runId: r.runId,
      mode: r.mode,
      final: r.final,
      records: r.recordCount,
      segments: r.segmentCount,
      bytes: r.bytes,
      startedAt: new Date(r.startedAt).toISOString(),
      lastCommittedAt: new Date(r.lastCommittedAt).toISOString(),
    })),
    topics: m.topics.map((t) => ({
      name: t.metadata.name,
      partitionCount: t.metadata.partitionCount,
      configs: t.metadata.configs,
      records: t.partitions.reduce((n, p) => n + p.recordCount, 0),
      bytes: t.partitions.reduce((n, p) => n + p.bytes, 0),
      partitions: t.partitions.map((p) => ({
        partition: p.partition,
        records: p.recordCount,
        segments: p.segments.length,
        covered: p.covered.map((c) => [c.start.toString(), c.end.toString()]),
        gaps: p.gaps.map((g) => ({ start: g.start.toString(), end: g.end.toString(), reason: g.reason })),
      })),
    })),
  };
}

export interface VerifyReport {
  readonly backupId: string;
  readonly deep: boolean;
  readonly ok: boolean;
  readonly segmentsChecked: number;
  readonly problems: readonly { readonly object?: string; readonly problem: string }[];
}

/** Checks every segment (all of them, so every damaged object is named) and the coverage of each partition. */
export async function verifyBackup(
  backup: ReadableBackup,
  manifest: BackupManifest,
  deep: boolean,
  log: Logger,
): Promise<VerifyReport> {
  const problems: { object?: string; problem: string }[] = [];
  let checked = 0;
  for (const topic of manifest.topics) {
    for (const p of topic.partitions) {
      if (p.covered.length > 1) {
        for (let i = 1; i < p.covered.length; i++) {
          const prev = p.covered[i - 1] as { end: bigint };
          const cur = p.covered[i] as { start: bigint };
          problems.push({
            problem: `${p.topic}/${p.partition}: offsets ${prev.end}..${cur.start - 1n} are in no run`,
          });
        }
      }
      for (const segment of p.segments) {
        checked++;
        try {
          await backup.verifySegment(segment, deep);
        } catch (error) {
          if (!(error instanceof CorruptObjectError)) throw error;
          log.error('corrupt backup object', { object: error.key, reason: error.reason });
          problems.push({ object: error.key, problem: error.reason });
        }
      }
    }
  }
  return {
    backupId: manifest.descriptor.backupId,
    deep,
    ok: problems.length === 0,
    segmentsChecked: checked,
    problems,
  };
}
