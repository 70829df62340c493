import type { Progress } from '../../engine/progress.ts';
import type { Logger } from '../../log.ts';
import type { RunRequest } from './run-request.ts';

/**
 * A reconciler decides, a runner executes. Runs are keyed by the resource they serve
 * (`Kind/namespace/name`): at most one per key. The reconciler starts a run, then reads its state on
 * later reconciles (level-based) and writes status from it; the runner asks for such a reconcile
 * whenever the state changes (progress, a checkpoint, the end).
 *
 * This runner executes in the operator process. A run outlives nothing but the process: after an
 * operator restart the new leader finds the resource still `Running` in status, starts the run
 * again, and the engine resumes it from its checkpoint (its storage lease waits for the old
 * process's lease to expire).
 */
/** The key of the run serving one resource. */
export function runKey(kind: { readonly kind: string }, key: { namespace: string; name: string }): string {
  return `${kind.kind}/${key.namespace}/${key.name}`;
}

export interface RunControls {
  readonly signal: AbortSignal;
  /** Throttled by the engine (at most about once a second). */
  progress(progress: Progress): void;
  /** Something durable happened (a commit, a checkpoint). */
  checkpoint(at: Date): void;
}

export type RunState = 'running' | 'succeeded' | 'failed';

export interface RunSnapshot<R = unknown> {
  readonly key: string;
  /** The run's own id (the resource's generation/rerun it serves, or a schedule tick). */
  readonly id: string;
  readonly state: RunState;
  readonly startedAt: Date;
  readonly endedAt?: Date;
  readonly progress?: Progress;
  readonly lastCheckpoint?: Date;
  readonly result?: R;
  readonly error?: unknown;
  /** Where the run executes when not in the operator process, for messages: `Job ns/name`. */
  readonly where?: string;
}

/** ` (Job ns/name)` for a status message or Event of a run executing elsewhere; '' in-process. */
export function where(run: RunSnapshot | undefined): string {
  return run?.where ? ` (${run.where})` : '';
}

export interface Runner {
  /**
   * Starts a run under `key` unless one is already there (then returns that one). `work` runs it in
   * this process; `request` describes the same run as data, for a runner that executes it elsewhere
   * (a Kubernetes Job); the runner chooses.
   */
  start<R>(
    key: string,
    id: string,
    work: (controls: RunControls) => Promise<R>,
    request?: RunRequest,
  ): RunSnapshot<R>;
  get<R = unknown>(key: string): RunSnapshot<R> | undefined;
  /** Drops a finished run once its outcome is in status. */
  forget(key: string): void;
  /** Asks a running run to stop (it saves its checkpoint); resolves when it has ended. */
  abort(key: string): Promise<void>;
  /** Stops every run (graceful shutdown, lost leadership) and waits for them. */
  stopAll(): Promise<void>;
  readonly size: number;
}

interface Entry {
  snapshot: RunSnapshot<unknown>;
  readonly controller: AbortController;
  readonly done: Promise<void>;
}

export class InProcessRunner implements Runner {
  readonly #runs = new Map<string, Entry>();
  readonly #onChange: (key: string) => void;
  readonly #log: Logger;
  readonly #now: () => Date;

  constructor(options: { onChange: (key: string) => void; log: Logger; now?: () => Date }) {
    this.#onChange = options.onChange;
    this.#log = options.log;
    this.#now = options.now ?? (() => new Date());
  }

  get size(): number {
    return this.#runs.size;
  }

  start<R>(
    key: string,
    id: string,
    work: (controls: RunControls) => Promise<R>,
    _request?: RunRequest,
  ): RunSnapshot<R> {
    const existing = this.#runs.get(key);
    if (existing) return existing.snapshot as RunSnapshot<R>;
    const controller = new AbortController();
    const update = (change: Partial<RunSnapshot<unknown>>) => {
      const entry = this.#runs.get(key);
      if (!entry) return;
      entry.snapshot = { ...entry.snapshot, ...change };
      this.#onChange(key);
    };
    const snapshot: RunSnapshot<unknown> = { key, id, state: 'running', startedAt: this.#now() };
    const done = (async () => {
      await Promise.resolve(); // the entry is registered before the work begins
      try {
        const result = await work({
          signal: controller.signal,
          progress: (progress) => update({ progress }),
          checkpoint: (at) => update({ lastCheckpoint: at }),
        });
        update({ state: 'succeeded', result, endedAt: this.#now() });
      } catch (error) {
        this.#log.debug('run failed', { key, id });
        update({ state: 'failed', error, endedAt: this.#now() });
      }
    })();
    this.#runs.set(key, { snapshot, controller, done });
    return snapshot as RunSnapshot<R>;
  }

  get<R = unknown>(key: string): RunSnapshot<R> | undefined {
    return this.#runs.get(key)?.snapshot as RunSnapshot<R> | undefined;
  }

  forget(key: string): void {
    const entry = this.#runs.get(key);
    if (entry && entry.snapshot.state !== 'running') this.#runs.delete(key);
  }

  async abort(key: string): Promise<void> {
    const entry = this.#runs.get(key);
    if (!entry) return;
    entry.controller.abort();
    await entry.done;
  }

  async stopAll(): Promise<void> {
    const entries = [...this.#runs.values()].filter((e) => e.snapshot.state === 'running');
    for (const e of entries) e.controller.abort();
    await Promise.all(entries.map((e) => e.done));
  }
}
