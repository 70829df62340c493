import { FormatUsageError } from './errors.ts';
import type { RunSummary } from './types.ts';

/**
 * Which runs of a backup retention may delete: a pure decision over the runs' summaries, so its
 * guarantees are property-tested apart from storage.
 *
 * - Only runs that stored records count: an empty run (a scheduled run of a quiet topic) adds no
 *   restore point, so a frequent schedule never pushes the runs holding the data out of keepLast or
 *   minSuccessful.
 * - A run is a *candidate* when at least `keepLast` runs with records are newer than it, or its last
 *   commit is older than `maxAgeDays`.
 * - The newest `minSuccessful` finished (final) runs with records are never eligible, nor is any run
 *   after the oldest of them: what follows a kept run stays (an unfinished run that no later finished
 *   run follows may still be written to, so it is kept this way too).
 * - Only a prefix (oldest first, by first commit) is eligible: the first run kept stops it. So what
 *   remains of every partition is one contiguous stretch, and every kept run restores completely.
 */
export interface RetentionPolicy {
  /** Keep the newest N runs that stored records (and the empty runs after the oldest of them). */
  readonly keepLast?: number;
  /** Delete runs whose last commit is older than this many days. */
  readonly maxAgeDays?: number;
  /** Never delete the newest N finished runs that stored records. Default 1, at least 1. */
  readonly minSuccessful?: number;
}

export type EligibleReason = 'keep-last' | 'max-age';

/**
 * Why a run is kept: `within-policy` (neither limit reaches it), `min-successful` (it is one of the
 * newest minSuccessful finished runs, or newer than the oldest of them), `newer-than-kept` (a
 * candidate behind an older run that is kept: only a prefix is deleted).
 */
export type KeptReason = 'within-policy' | 'min-successful' | 'newer-than-kept';

export type RetentionRun = Pick<
  RunSummary,
  'runId' | 'firstSeq' | 'startedAt' | 'lastCommittedAt' | 'final' | 'bytes' | 'segmentCount'
>;

export interface RetentionDecision<R extends RetentionRun = RetentionRun> {
  readonly run: R;
  /** The limits that reach the run (empty when none does). */
  readonly reasons: readonly EligibleReason[];
  /** Undefined when the run is eligible. */
  readonly kept: KeptReason | undefined;
}

export interface RetentionPlan<R extends RetentionRun = RetentionRun> {
  /** Every run, oldest first (by first commit). */
  readonly decisions: readonly RetentionDecision<R>[];
  /** The eligible prefix, oldest first. */
  readonly eligible: readonly R[];
}

const DAY_MS = 86_400_000;

export function checkRetentionPolicy(
  policy: RetentionPolicy,
): Required<Pick<RetentionPolicy, 'minSuccessful'>> & RetentionPolicy {
  const positive = (name: string, v: number | undefined) => {
    if (v !== undefined && (!Number.isSafeInteger(v) || v < 1)) {
      throw new FormatUsageError(`retention.${name} must be a whole number of at least 1, not ${v}`);
    }
  };
  positive('keepLast', policy.keepLast);
  positive('maxAgeDays', policy.maxAgeDays);
  positive('minSuccessful', policy.minSuccessful);
  if (policy.keepLast === undefined && policy.maxAgeDays === undefined) {
    throw new FormatUsageError('retention needs a limit: set keepLast, maxAgeDays or both');
  }
  return { ...policy, minSuccessful: policy.minSuccessful ?? 1 };
}

export function planRetention<R extends RetentionRun>(
  runs: readonly R[],
  policy: RetentionPolicy,
  now: number,
): RetentionPlan<R> {
  const { keepLast, maxAgeDays, minSuccessful } = checkRetentionPolicy(policy);
  const ordered = [...runs].sort((a, b) => a.firstSeq - b.firstSeq);
  const cutoff = maxAgeDays === undefined ? undefined : now - maxAgeDays * DAY_MS;

  // Index of the oldest of the newest `minSuccessful` final runs with records: it and everything
  // after are kept. Without one, nothing restorable is provably finished, so nothing is deleted.
  let protectedFrom = 0;
  let finals = 0;
  for (let i = ordered.length - 1; i >= 0; i--) {
    const run = ordered[i];
    if (!run?.final || !holdsRecords(run)) continue;
    protectedFrom = i;
    if (++finals === minSuccessful) break;
  }
  // newerWithRecords[i]: runs with records after index i.
  const newerWithRecords: number[] = new Array(ordered.length);
  for (let i = ordered.length - 1, n = 0; i >= 0; i--) {
    newerWithRecords[i] = n;
    if (holdsRecords(ordered[i] as R)) n++;
  }

  const decisions: RetentionDecision<R>[] = [];
  let prefixOpen = true;
  for (const [i, run] of ordered.entries()) {
    const reasons: EligibleReason[] = [];
    if (keepLast !== undefined && (newerWithRecords[i] as number) >= keepLast) reasons.push('keep-last');
    if (cutoff !== undefined && run.lastCommittedAt < cutoff) reasons.push('max-age');
    let kept: KeptReason | undefined;
    if (reasons.length === 0) kept = 'within-policy';
    else if (i >= protectedFrom) kept = 'min-successful';
    else if (!prefixOpen) kept = 'newer-than-kept';
    if (kept !== undefined) prefixOpen = false;
    decisions.push({ run, reasons, kept });
  }
  return { decisions, eligible: decisions.filter((d) => d.kept === undefined).map((d) => d.run) };
}

/** A run that stored records: a restore point of its own. */
function holdsRecords(run: RetentionRun): boolean {
  return run.segmentCount > 0;
}
