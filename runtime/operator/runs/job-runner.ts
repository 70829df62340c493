/**
 * The runner that executes each run as a Kubernetes Job of the operator's image running
 * `kafka-backup run` (job-worker.ts), in the resource's namespace with its Secrets mounted
 * (job-manifest.ts). It follows the Job by polling it through the operator's KubePort and turns its
 * end - the report its Pod wrote to the termination message - into the RunSnapshot the controllers
 * read, so status, Events and metrics are the same as for a run in the operator process.
 *
 * Differences from InProcessRunner, by design:
 * - a Job outlives the operator: stopAll() (shutdown, lost Lease) stops following Jobs and leaves
 *   them running; the next leader's start() of the same resource adopts the running Job (found by
 *   the owner's uid label) instead of creating a second one, and a finished Job of the same run
 *   (same deterministic name) gives its result, so a run ends exactly once;
 * - abort() (resource deleted, concurrencyPolicy Replace, a one-shot deadline) deletes the Job
 *   (propagation Background: its Pod gets SIGTERM and saves a checkpoint);
 * - progress: the snapshot says `Job ns/name` while it runs; counts come with the result.
 * Runs without a request, or whose Secrets live in another namespace than the resource (a Pod
 * mounts Secrets of its own namespace only, and the operator never copies them), run in-process.
 */
import { ClassifiedError } from '../../app/errors.ts';
import type { Logger } from '../../log.ts';
import { KubeApiError } from '../errors.ts';
import type { JobClient, JobView } from '../kube/port.ts';
import { type JobSettings, jobManifest, jobNameOf, RUN_ID_ANNOTATION, selectorOf } from './job-manifest.ts';
import { jobStateOf, type RunEnd, runEndOf } from './job-outcome.ts';
import type { RunRequest } from './run-request.ts';
import { InProcessRunner, type RunControls, type Runner, type RunSnapshot } from './runner.ts';

export interface JobRunnerOptions {
  readonly jobs: JobClient;
  readonly settings: JobSettings;
  readonly onChange: (key: string) => void;
  readonly log: Logger;
  /** How often a running Job is looked at. @default 3000 */
  readonly pollMs?: number;
  readonly now?: () => Date;
}

interface Entry {
  snapshot: RunSnapshot<unknown>;
  readonly request: RunRequest;
  /** The Job followed: the run's own, or the one adopted. */
  jobName: string;
  timer?: NodeJS.Timeout;
  stopped: boolean;
}

/** API failures worth trying again (no answer, throttled, server errors); others are the request's fault. */
const transient = (error: unknown) =>
  error instanceof KubeApiError && (error.status === 0 || error.status === 429 || error.status >= 500);

export class JobRunner implements Runner {
  readonly #runs = new Map<string, Entry>();
  readonly #inProcess: InProcessRunner;
  readonly #jobs: JobClient;
  readonly #settings: JobSettings;
  readonly #onChange: (key: string) => void;
  readonly #log: Logger;
  readonly #pollMs: number;
  readonly #now: () => Date;

  constructor(options: JobRunnerOptions) {
    this.#jobs = options.jobs;
    this.#settings = options.settings;
    this.#onChange = options.onChange;
    this.#log = options.log;
    this.#pollMs = options.pollMs ?? 3000;
    this.#now = options.now ?? (() => new Date());
    this.#inProcess = new InProcessRunner({
      onChange: options.onChange,
      log: options.log,
      ...(options.now ? { now: options.now } : {}),
    });
  }

  get size(): number {
    return this.#runs.size + this.#inProcess.size;
  }

  start<R>(
    key: string,
    id: string,
    work: (controls: RunControls) => Promise<R>,
    request?: RunRequest,
  ): RunSnapshot<R> {
    const existing = this.#runs.get(key)?.snapshot ?? this.#inProcess.get(key);
    if (existing) return existing as RunSnapshot<R>;
    const elsewhere = request?.secrets.find((s) => s.namespace !== request.owner.namespace);
    if (!request || elsewhere) {
      if (elsewhere) {
        this.#log.info('run in the operator process: a Job cannot mount a Secret of another namespace', {
          key,
          secret: `${elsewhere.namespace}/${elsewhere.name}`,
        });
      }
      return this.#inProcess.start(key, id, work);
    }
    const jobName = jobNameOf(request);
    const entry: Entry = {
      snapshot: {
        key,
        id,
        state: 'running',
        startedAt: this.#now(),
        where: `Job ${request.owner.namespace}/${jobName}`,
      },
      request,
      jobName,
      stopped: false,
    };
    this.#runs.set(key, entry);
    void this.#launch(entry);
    return entry.snapshot as RunSnapshot<R>;
  }

  get<R = unknown>(key: string): RunSnapshot<R> | undefined {
    return (this.#runs.get(key)?.snapshot ?? this.#inProcess.get(key)) as RunSnapshot<R> | undefined;
  }

  forget(key: string): void {
    const entry = this.#runs.get(key);
    // The finished Job stays for kubectl (ttlSecondsAfterFinished removes it).
    if (entry && entry.snapshot.state !== 'running') this.#runs.delete(key);
    this.#inProcess.forget(key);
  }

  async abort(key: string): Promise<void> {
    const entry = this.#runs.get(key);
    if (!entry) return this.#inProcess.abort(key);
    if (entry.snapshot.state !== 'running') return;
    this.#stop(entry);
    const { namespace } = entry.request.owner;
    // Background: the Job goes at once, its Pod gets SIGTERM and saves a checkpoint (the grace period).
    await this.#jobs.deleteJob({ namespace, name: entry.jobName }, 'Background');
    this.#end(entry, {
      state: 'failed',
      error: new ClassifiedError(
        { class: 'retriable', reason: 'Interrupted', exitCode: 143 },
        `the run was stopped: Job ${namespace}/${entry.jobName} deleted`,
      ),
    });
  }

  /** Stops following Jobs; they keep running, and the next leader adopts them. In-process runs stop. */
  async stopAll(): Promise<void> {
    for (const entry of this.#runs.values()) this.#stop(entry);
    this.#runs.clear();
    await this.#inProcess.stopAll();
  }

  async #launch(entry: Entry): Promise<void> {
    const { request } = entry;
    const { namespace } = request.owner;
    try {
      const jobs = await this.#jobs.listJobs(namespace, selectorOf(request.owner.uid));
      const running = jobs.find((j) => jobStateOf(j).state === 'running' && !j.deletionTimestamp);
      const same = jobs.find((j) => j.name === entry.jobName);
      const adopted = running ?? same ?? resumedJob(jobs, request.resumeOf);
      if (adopted) {
        this.#adopt(entry, adopted);
      } else {
        await this.#jobs.createJob(jobManifest(request, this.#settings));
        this.#log.info('run started in a Job', { job: `${namespace}/${entry.jobName}`, run: request.runId });
      }
    } catch (error) {
      if (entry.stopped) return;
      if (error instanceof KubeApiError && error.status === 409) {
        // Created meanwhile (another replica, a retried request): that Job is this run's.
      } else if (transient(error)) {
        this.#log.warn('cannot create the run Job yet; retrying', {
          job: entry.jobName,
          error: String(error),
        });
        entry.timer = setTimeout(() => void this.#launch(entry), this.#pollMs);
        return;
      } else {
        this.#end(entry, {
          state: 'failed',
          error: new ClassifiedError(
            { class: 'terminal', reason: 'InvalidConfig', exitCode: 2 },
            `the operator cannot create Job ${namespace}/${entry.jobName}: ${(error as Error).message}; ` +
              "check --job-template, --job-service-account and the operator's RBAC on jobs",
          ),
        });
        return;
      }
    }
    this.#schedule(entry);
  }

  #adopt(entry: Entry, job: JobView): void {
    if (job.name !== entry.jobName) {
      this.#log.info('adopted the running Job of this resource', {
        job: `${job.namespace}/${job.name}`,
        run: job.annotations[RUN_ID_ANNOTATION],
      });
    }
    entry.jobName = job.name;
    const started = job.startTime ?? job.creationTimestamp;
    entry.snapshot = {
      ...entry.snapshot,
      where: `Job ${job.namespace}/${job.name}`,
      ...(started ? { startedAt: new Date(started) } : {}),
    };
  }

  #schedule(entry: Entry): void {
    if (entry.stopped) return;
    entry.timer = setTimeout(() => void this.#poll(entry), this.#pollMs);
  }

  async #poll(entry: Entry): Promise<void> {
    if (entry.stopped) return;
    const { namespace } = entry.request.owner;
    const key = { namespace, name: entry.jobName };
    try {
      const job = await this.#jobs.getJob(key);
      if (entry.stopped) return;
      if (!job) {
        this.#end(entry, {
          state: 'failed',
          error: new ClassifiedError(
            { class: 'retriable', reason: 'Interrupted', exitCode: 143 },
            `Job ${namespace}/${entry.jobName} was deleted before it reported; the run starts again and resumes from its checkpoint`,
          ),
        });
        return;
      }
      const state = jobStateOf(job);
      if (state.state === 'running') {
        this.#schedule(entry);
        return;
      }
      const pods = await this.#jobs.listPods(namespace, `batch.kubernetes.io/job-name=${entry.jobName}`);
      if (entry.stopped) return;
      this.#end(
        entry,
        runEndOf(`${namespace}/${entry.jobName}`, state, pods, entry.request.activeDeadlineSeconds),
      );
    } catch (error) {
      // The API server may be away for a while: the Job goes on; look again later.
      this.#log.warn('cannot read the run Job; retrying', { job: entry.jobName, error: String(error) });
      this.#schedule(entry);
    }
  }

  #end(entry: Entry, end: RunEnd): void {
    this.#stop(entry);
    entry.snapshot = {
      ...entry.snapshot,
      state: end.state,
      endedAt: end.endedAt ?? this.#now(),
      ...(end.state === 'succeeded' ? { result: end.result } : { error: end.error }),
    };
    if (this.#runs.get(entry.snapshot.key) === entry) this.#onChange(entry.snapshot.key);
  }

  #stop(entry: Entry): void {
    entry.stopped = true;
    clearTimeout(entry.timer);
  }
}

/**
 * The Job of an interrupted run that ended while no leader followed it: the newest Job created
 * since the run started (status' startTime). Its result is the run's; starting another would run
 * the backup twice.
 */
function resumedJob(jobs: readonly JobView[], since: string | undefined): JobView | undefined {
  if (since === undefined) return undefined;
  // The Job is created right after status records the start; a second's slack covers the rounding.
  const from = Date.parse(since) - 1000;
  const created = (j: JobView) => Date.parse(j.creationTimestamp ?? '') || 0;
  return jobs
    .filter((j) => !j.deletionTimestamp && created(j) >= from)
    .sort((a, b) => created(b) - created(a))[0];
}
