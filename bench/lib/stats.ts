/** A figure over repeated runs: the median, with the spread beside it. */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

/** Median, min and max of `values`, rounded to `digits` (fractions of a few percent need 4). */
export function spread(values: readonly number[], digits = 2): Spread {
  if (values.length === 0) throw new Error('no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median =
    sorted.length % 2 === 1
      ? (sorted[mid] as number)
      : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return {
    median: round(median, digits),
    min: round(sorted[0] as number, digits),
    max: round(sorted.at(-1) as number, digits),
  };
}

export function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** One run of one contender. */
export interface Sample {
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly peakRssMiB?: number;
  readonly records: number;
  readonly bytes: number;
}

/** A contender's figures over its runs. */
export interface Figures {
  readonly name: string;
  readonly runs: number;
  readonly mbPerSec: Spread;
  readonly recordsPerSec: Spread;
  readonly seconds: Spread;
  readonly cpuSeconds: Spread;
  readonly peakRssMiB?: Spread;
  readonly records: number;
  readonly bytes: number;
}

export function figures(name: string, samples: readonly Sample[]): Figures {
  const first = samples[0];
  if (!first) throw new Error(`${name}: no runs`);
  const rss = samples.flatMap((s) => (s.peakRssMiB === undefined ? [] : [s.peakRssMiB]));
  return {
    name,
    runs: samples.length,
    mbPerSec: spread(samples.map((s) => s.bytes / 2 ** 20 / s.seconds)),
    recordsPerSec: spread(samples.map((s) => s.records / s.seconds)),
    seconds: spread(samples.map((s) => s.seconds)),
    cpuSeconds: spread(samples.map((s) => s.cpuSeconds)),
    ...(rss.length > 0 ? { peakRssMiB: spread(rss) } : {}),
    records: first.records,
    bytes: first.bytes,
  };
}

/** Ratio of two contenders' median throughputs. */
export function ratio(ours: Figures, reference: Figures): number {
  return round(ours.mbPerSec.median / reference.mbPerSec.median);
}
