/**
 * Prometheus metrics of a `kafka-backup backup|restore` run: the same families the operator serves
 * (runtime/metrics), on an endpoint of the CLI's own while it runs (the spec's `metrics` block) and
 * in a file written when it ends (`--metrics-file`, for node_exporter's textfile collector: a run
 * too short to be scraped still reports its figures). Everything is checked and the endpoint bound
 * before any data moves, so a bad value or a taken port fails the run with nothing done.
 */
import { accessSync, constants, renameSync, statSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { dirname, resolve } from 'node:path';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { RunControls } from '../app/ports.ts';
import type { SpecContext } from '../config/load.ts';
import { type MetricsSettings, readMetrics } from '../config/metrics.ts';
import { ConfigError, Reader } from '../config/reader.ts';
import type { Logger } from '../log.ts';
import { liveRunMetricsOf, type MeteredResource } from '../metrics/live-run-metrics.ts';
import { type RunResult, runMetricsOf } from '../metrics/run-metrics.ts';
import { close, createMetricsServer, listen } from '../metrics/server.ts';
import { UsageError } from './exit-codes.ts';

export interface CliMetricsRequest {
  readonly kind: 'KafkaBackup' | 'KafkaRestore';
  readonly spec: unknown;
  readonly context: SpecContext;
  /** metadata.namespace of a whole resource, if the file has one. */
  readonly namespace?: string | undefined;
  /** --metrics-file */
  readonly file?: string | undefined;
  readonly log: Logger;
}

/** What a finished run adds to kafka_backup_runs_total and the records and bytes by kind. */
export interface CliRunEnd {
  readonly result: RunResult;
  readonly records?: number;
  readonly bytes?: number;
}

export class CliMetrics {
  readonly #registry: Registry;
  readonly #resource: MeteredResource;
  readonly #file: string | undefined;
  readonly #server: Server | undefined;
  readonly #log: Logger;
  readonly #startedAt = new Date();
  #ended = false;

  private constructor(
    registry: Registry,
    resource: MeteredResource,
    file: string | undefined,
    server: Server | undefined,
    log: Logger,
  ) {
    this.#registry = registry;
    this.#resource = resource;
    this.#file = file;
    this.#server = server;
    this.#log = log;
    runMetricsOf(registry).runStarted(resource);
  }

  /**
   * Undefined when the spec has no enabled metrics block and no --metrics-file is given. Throws a
   * ConfigError or UsageError (exit 2) for a bad value, an unwritable file or a port it cannot bind.
   */
  static async open(request: CliMetricsRequest): Promise<CliMetrics | undefined> {
    const reader = new Reader(request.spec);
    const settings = readMetrics(reader, { partitionLabels: request.kind === 'KafkaBackup' });
    if (reader.problems.length > 0) throw new ConfigError(request.context.source, reader.problems);
    const serve = settings?.enabled === true;
    if (!serve && request.file === undefined) return undefined;
    const file = request.file === undefined ? undefined : checkWritable(request.file);
    const registry = new Registry();
    const resource = resourceOf(request);
    // Created now, so the first scrape already lists every family.
    runMetricsOf(registry);
    liveRunMetricsOf(registry);
    const server = serve ? await serveMetrics(registry, settings, request) : undefined;
    return new CliMetrics(registry, resource, file, server, request.log);
  }

  /** For the use case's RunControls: the run's live figures go to this registry. */
  get controls(): NonNullable<RunControls['metrics']> {
    return { live: liveRunMetricsOf(this.#registry), resource: this.#resource };
  }

  /** Counts the run's end once (kafka_backup_runs_total, durations, last success). */
  ended(end: CliRunEnd): void {
    if (this.#ended) return;
    this.#ended = true;
    runMetricsOf(this.#registry).runEnded(this.#resource, this.#resource, {
      result: end.result,
      startedAt: this.#startedAt,
      endedAt: new Date(),
      ...(end.records !== undefined ? { records: end.records } : {}),
      ...(end.bytes !== undefined ? { bytes: end.bytes } : {}),
    });
  }

  /** Writes the textfile (atomically: node_exporter must never read half a file), stops serving. */
  async close(): Promise<void> {
    try {
      if (this.#file) {
        const text = await this.#registry.metrics();
        const temporary = `${this.#file}.${process.pid}.tmp`;
        writeFileSync(temporary, text);
        renameSync(temporary, this.#file);
        this.#log.info('metrics written', { file: this.#file });
      }
    } finally {
      if (this.#server) await close(this.#server);
    }
  }
}

/** The series' labels: the resource's metadata when the file is a whole resource, else its ids. */
function resourceOf(request: CliMetricsRequest): MeteredResource {
  const spec = (request.spec ?? {}) as {
    backupId?: unknown;
    restoreId?: unknown;
    backupRef?: { backupId?: unknown };
  };
  const ids = [request.context.name, spec.backupId, spec.restoreId, spec.backupRef?.backupId];
  const name = ids.find((id): id is string => typeof id === 'string' && id !== '') ?? '';
  return { kind: request.kind, namespace: request.namespace ?? '', name };
}

function checkWritable(file: string): string {
  const path = resolve(file);
  const directory = dirname(path);
  try {
    if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) {
      throw new UsageError(
        `--metrics-file: ${file} is a directory; give the path of a file (e.g. ${file}/kafka-backup.prom)`,
      );
    }
    accessSync(directory, constants.W_OK);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      code === 'ENOENT'
        ? `--metrics-file: the directory ${directory} does not exist; create it or choose another path`
        : `--metrics-file: cannot write in ${directory} (${code ?? error}); choose a directory this user can write`,
    );
  }
  return path;
}

async function serveMetrics(
  registry: Registry,
  settings: MetricsSettings,
  request: CliMetricsRequest,
): Promise<Server> {
  // Process figures on the endpoint only: node_exporter has process_* of its own, so the textfile
  // must not carry them.
  const processFigures = new Registry();
  collectDefaultMetrics({ register: processFigures });
  const server = createMetricsServer(Registry.merge([registry, processFigures]), settings.path);
  const where = `${settings.bindAddress}:${settings.port}`;
  try {
    const bound = await listen(server, { host: settings.bindAddress, port: settings.port });
    request.log.info('serving metrics', { url: `http://${bound}${settings.path}` });
    return server;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'EADDRINUSE'
        ? `port ${settings.port} is in use: set metrics.port to a free port, or metrics.enabled: false`
        : code === 'EACCES'
          ? `this user may not listen on port ${settings.port}: use a port above 1023`
          : code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN'
            ? `${settings.bindAddress} is not an address of this machine: set metrics.bindAddress to one (0.0.0.0 for every interface)`
            : `${(error as Error).message}`;
    throw new ConfigError(request.context.source, [
      `metrics: cannot listen on ${where}: ${why}. Nothing was read or written`,
    ]);
  }
}
