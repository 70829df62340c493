/** Throughput and ETA of a run, for progress bars, logs and the run result. */
export interface Progress {
  readonly records: number;
  readonly bytes: number;
  readonly storedBytes: number;
  /** Records expected in total, when known (one-shot runs). */
  readonly totalRecords: number | undefined;
  /** 0-100 of totalRecords, when known. */
  readonly percent: number | undefined;
  readonly elapsedMs: number;
  readonly recordsPerSec: number;
  readonly bytesPerSec: number;
  /** Remaining time at the current rate, when the total is known. */
  readonly etaMs: number | undefined;
  /** Backup segments read so far (restores). */
  readonly segments?: number;
  /** The topic being written now (restores: the target topic). */
  readonly currentTopic?: string;
}

/**
 * How a run ended without an error: `complete` reached its end (or a continuous backup was stopped
 * after committing everything it read); `interrupted` was stopped by its signal first and resumes
 * where its last checkpoint left off.
 */
export type RunOutcome = 'complete' | 'interrupted';

/** A checkpoint made durable in storage: a status can say how far a run got for certain. */
export interface CheckpointEvent {
  /** Epoch ms. */
  readonly at: number;
  /** Records read (backup) or produced (restore) by this run so far. */
  readonly records: number;
  /** The last checkpoint of the run (backup: the run's final commit; restore: the completed restore). */
  readonly final: boolean;
}

export class ProgressTracker {
  readonly #started = performance.now();
  readonly #total: number | undefined;
  #records = 0;
  #bytes = 0;
  #stored = 0;
  #segments: number | undefined;
  #topic: string | undefined;

  constructor(totalRecords?: number) {
    this.#total = totalRecords;
  }

  advance(records: number, bytes: number): void {
    this.#records += records;
    this.#bytes += bytes;
  }

  stored(bytes: number): void {
    this.#stored += bytes;
  }

  /** The topic the run writes now. */
  working(topic: string): void {
    this.#topic = topic;
  }

  /** One more backup segment read in full. */
  segmentRead(): void {
    this.#segments = (this.#segments ?? 0) + 1;
  }

  snapshot(): Progress {
    const elapsedMs = performance.now() - this.#started;
    const seconds = elapsedMs / 1000;
    const recordsPerSec = seconds > 0 ? this.#records / seconds : 0;
    const remaining = this.#total !== undefined ? Math.max(0, this.#total - this.#records) : undefined;
    return {
      records: this.#records,
      bytes: this.#bytes,
      storedBytes: this.#stored,
      totalRecords: this.#total,
      percent:
        this.#total === undefined
          ? undefined
          : this.#total === 0
            ? 100
            : Math.min(100, (this.#records / this.#total) * 100),
      elapsedMs,
      recordsPerSec,
      bytesPerSec: seconds > 0 ? this.#bytes / seconds : 0,
      etaMs: remaining !== undefined && recordsPerSec > 0 ? (remaining / recordsPerSec) * 1000 : undefined,
      ...(this.#segments !== undefined ? { segments: this.#segments } : {}),
      ...(this.#topic !== undefined ? { currentTopic: this.#topic } : {}),
    };
  }
}

/**
 * What a live meter watches (runtime/metrics/live-run-metrics.ts). Called unthrottled, so the
 * meter's own update interval decides how fresh its figures are; each call is cheap for the engine.
 */
export interface RunObserver {
  /** Every new snapshot of the run's figures. */
  progress?(progress: Progress): void;
  /**
   * Backups: a partition's next offset to read and the offset it reads up to (the end captured at
   * the start of a one-shot run; the last stable offset last seen while continuous).
   */
  partition?(topic: string, partition: number, position: bigint, end: bigint): void;
  /** Backups: one segment written to storage, of `bytes` as stored. */
  segmentWritten?(bytes: number): void;
}

/** How often progress reaches callers: often enough for a status, rare enough not to flood a resource. */
export const PROGRESS_INTERVAL_MS = 1000;

/**
 * Wraps a progress callback so it runs at most once per `intervalMs`. A report that falls inside the
 * quiet period is delivered when it ends (a run that catches up and then waits, as a continuous
 * backup does, would otherwise show its first numbers for ever); `flush` delivers the latest
 * snapshot (the final numbers) at once.
 */
export function throttleProgress(
  onProgress: ((progress: Progress) => void) | undefined,
  intervalMs = PROGRESS_INTERVAL_MS,
  now: () => number = () => performance.now(),
): { readonly report: (progress: Progress) => void; readonly flush: () => void } {
  let last = Number.NEGATIVE_INFINITY;
  let pending: Progress | undefined;
  let trailing: ReturnType<typeof setTimeout> | undefined;
  const flush = () => {
    if (trailing) clearTimeout(trailing);
    trailing = undefined;
    if (!onProgress || !pending) return;
    last = now();
    const p = pending;
    pending = undefined;
    onProgress(p);
  };
  return {
    report(progress) {
      if (!onProgress) return;
      const t = now();
      if (t - last < intervalMs) {
        pending = progress;
        // Never keeps the process alive: flush() at the end of a run delivers it anyway.
        trailing ??= setTimeout(flush, intervalMs - (t - last));
        trailing.unref?.();
        return;
      }
      last = t;
      pending = undefined;
      onProgress(progress);
    },
    flush,
  };
}

/**
 * The progress reports of one run: every snapshot goes to the observer as it is taken, and to
 * `onProgress` throttled (see throttleProgress).
 */
export function progressReporter(deps: {
  readonly onProgress?: ((progress: Progress) => void) | undefined;
  readonly observer?: RunObserver | undefined;
}): { readonly report: (progress: Progress) => void; readonly flush: () => void } {
  const throttled = throttleProgress(deps.onProgress);
  const observer = deps.observer;
  if (!observer?.progress) return throttled;
  return {
    report(progress) {
      observer.progress?.(progress);
      throttled.report(progress);
    },
    flush: throttled.flush,
  };
}
