/** Throughput and ETA of a run, for progress bars, logs and the run result. */
export interface Progress {
  readonly records: number;
  readonly bytes: number;
  readonly storedBytes: number;
  /** Records expected in total, when known (one-shot runs). */
  readonly totalRecords: number | undefined;
  readonly elapsedMs: number;
  readonly recordsPerSec: number;
  readonly bytesPerSec: number;
  /** Remaining time at the current rate, when the total is known. */
  readonly etaMs: number | undefined;
}

export class ProgressTracker {
  readonly #started = performance.now();
  readonly #total: number | undefined;
  #records = 0;
  #bytes = 0;
  #stored = 0;

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
      elapsedMs,
      recordsPerSec,
      bytesPerSec: seconds > 0 ? this.#bytes / seconds : 0,
      etaMs: remaining !== undefined && recordsPerSec > 0 ? (remaining / recordsPerSec) * 1000 : undefined,
    };
  }
}
