/**
 * `kafka-backup run --request FILE`: the container of a Job the operator's Job runner starts. It
 * reads the run request (the downward API projects it from the Pod's annotation), runs the same
 * work as the operator would in-process (run-work.ts) with the CLI's ports - Secrets mounted as
 * files under $KAFKA_BACKUP_SECRETS_DIR/<name>/<key> - and writes its result or classified error to
 * the termination message file, exiting with the CLI's exit code (the Job's podFailurePolicy reads it).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { classify, EXIT, UsageError } from '../../app/errors.ts';
import { productionPorts } from '../../app/ports.ts';
import { CliMetrics } from '../../cli/metrics.ts';
import { createLogger, type Logger, type LogLevel } from '../../log.ts';
import { reportError } from './run-errors.ts';
import { RUN_KINDS, type RunKind, type RunRequest } from './run-request.ts';
import { summarize } from './run-summary.ts';
import { executeRequest } from './run-work.ts';
import { encodeReport, type RunReport } from './termination-message.ts';

export const RUN_HELP = `kafka-backup run - execute one run the operator handed to a Kubernetes Job

Usage:
  kafka-backup run --request FILE [--termination-log FILE] [--log-level L]

  --request FILE          the run request (JSON: kind, resolved spec, Secret names, run id)
  --termination-log FILE  where the result or the classified error is written
                          (default /dev/termination-log, the container's termination message)

Secrets are read from $KAFKA_BACKUP_SECRETS_DIR/<secret>/<key> (default /var/run/secrets/kafka-backup).
Exit codes are those of kafka-backup --help.
`;

/** How often a progress line is logged (kubectl logs shows where a run is). */
const PROGRESS_LOG_MS = 10_000;

export async function runWorkerMain(argv: readonly string[]): Promise<number> {
  let requestFile: string | undefined;
  let terminationLog = '/dev/termination-log';
  let level: LogLevel = 'info';
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: {
        request: { type: 'string' },
        'termination-log': { type: 'string' },
        'log-level': { type: 'string', default: 'info' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (values.help) {
      process.stdout.write(RUN_HELP);
      return EXIT.ok;
    }
    requestFile = values.request;
    terminationLog = values['termination-log'] ?? terminationLog;
    if (!['debug', 'info', 'warn', 'error'].includes(values['log-level'] as string))
      throw new UsageError('--log-level must be debug, info, warn or error');
    level = values['log-level'] as LogLevel;
    if (!requestFile) throw new UsageError('run needs --request FILE (see kafka-backup run --help)');
  } catch (error) {
    return fail(terminationLog, createLogger({ level }), error);
  }
  const log = createLogger({ level });
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    log.warn('stopping: finishing the current batch and saving progress', { signal });
    controller.abort(signal);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  let metrics: CliMetrics | undefined;
  try {
    const request = readRequest(requestFile);
    const runLog = log.child({
      kind: request.owner.kind,
      namespace: request.owner.namespace,
      name: request.owner.name,
      run: request.runId,
    });
    runLog.info('run started', { runKind: request.kind });
    metrics = await metricsOf(request, runLog);
    let lastProgress = 0;
    const result = await executeRequest(
      request,
      productionPorts({ log: runLog }),
      {
        signal: controller.signal,
        progress: (p) => {
          if (Date.now() - lastProgress < PROGRESS_LOG_MS) return;
          lastProgress = Date.now();
          runLog.info('progress', { records: p.records, bytes: p.bytes, percent: p.percent });
        },
        checkpoint: (at) => runLog.debug('checkpoint', { at: at.toISOString() }),
      },
      metrics?.controls,
    );
    write(terminationLog, { v: 1, ok: true, result: summarize(request.kind, result) });
    const interrupted = (result as { outcome?: unknown }).outcome === 'interrupted';
    const moved = result as { records?: number; bytes?: number; consumerGroups?: { failure?: unknown } };
    metrics?.ended({
      result: interrupted ? 'interrupted' : moved.consumerGroups?.failure ? 'failed' : 'succeeded',
      ...(moved.records !== undefined ? { records: moved.records } : {}),
      ...(moved.bytes !== undefined ? { bytes: moved.bytes } : {}),
    });
    runLog.info(interrupted ? 'run stopped at a checkpoint' : 'run ended');
    // Stopped by a signal (eviction, deletion): the CLI's exit code, so the Job starts a Pod that resumes.
    if (interrupted) return controller.signal.reason === 'SIGINT' ? EXIT.interrupted : EXIT.terminated;
    return EXIT.ok;
  } catch (error) {
    metrics?.ended({ result: 'failed' });
    return fail(terminationLog, log, error);
  } finally {
    await metrics?.close();
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}

/**
 * A backup or restore serves its spec's metrics block from the Job's Pod (job-manifest.ts names the
 * port), as `kafka-backup backup|restore` does: the operator's /metrics has only in-process runs.
 */
function metricsOf(request: RunRequest, log: Logger): Promise<CliMetrics | undefined> {
  if (request.kind !== 'backup' && request.kind !== 'restore') return Promise.resolve(undefined);
  const { owner } = request;
  return CliMetrics.open({
    kind: request.kind === 'backup' ? 'KafkaBackup' : 'KafkaRestore',
    spec: request.spec,
    context: { source: `${owner.kind} ${owner.namespace}/${owner.name}`, name: owner.name },
    namespace: owner.namespace,
    log,
  });
}

function fail(terminationLog: string, log: Logger, error: unknown): number {
  const reported = reportError(error);
  log.error('run failed', { reason: reported.reason, error: reported.message, exitCode: reported.exitCode });
  write(terminationLog, { v: 1, ok: false, error: reported });
  return reported.exitCode;
}

function write(file: string, report: RunReport): void {
  try {
    writeFileSync(file, encodeReport(report));
  } catch (error) {
    // The Job runner then reports a run without a result, with the exit code: never a success.
    process.stderr.write(`kafka-backup run: cannot write ${file}: ${classify(error).message}\n`);
  }
}

/** The request file, checked enough that a bad one is a clear configuration error (exit 2). */
export function readRequest(file: string): RunRequest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`cannot read the run request ${file}: ${(error as Error).message}`);
  }
  const r = parsed as Partial<RunRequest> | null;
  const problems: string[] = [];
  if (!r || typeof r !== 'object') throw new UsageError(`the run request ${file} is not a JSON object`);
  if (!RUN_KINDS.includes(r.kind as RunKind)) problems.push(`kind must be one of ${RUN_KINDS.join(', ')}`);
  if (typeof r.runId !== 'string') problems.push('runId must be a string');
  if (!r.spec || typeof r.spec !== 'object') problems.push('spec must be an object');
  if (!r.owner || typeof r.owner.name !== 'string' || typeof r.owner.namespace !== 'string')
    problems.push('owner must name the resource (kind, namespace, name)');
  if (problems.length > 0) throw new UsageError(`the run request ${file} is invalid: ${problems.join('; ')}`);
  return { secrets: [], ...r } as RunRequest;
}
