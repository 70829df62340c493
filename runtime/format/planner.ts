import type { KafkaRecord } from '../record.ts';
import type { BackupManifest, PartitionState, SegmentEntry } from './types.ts';

/**
 * Which segments a restore reads. Bounds are inclusive and each is optional; a record is restored
 * iff it is inside every bound given (decided per record by recordInBounds). Segments are chosen on
 * their recorded offset and timestamp ranges, so a narrow window reads only the objects it needs.
 */
export interface RestoreBounds {
  /** Epoch ms, inclusive. */
  readonly startTime?: bigint;
  /** Epoch ms, inclusive. */
  readonly endTime?: bigint;
  /** Inclusive. */
  readonly fromOffset?: bigint;
  /** Inclusive ("restore up to this offset"). */
  readonly toOffset?: bigint;
}

export interface SegmentRead {
  readonly segment: SegmentEntry;
  /**
   * Records of this segment to use: offsets in [fromOffset, toOffset]. Narrower than the segment when
   * the bounds cut it or when an earlier commit already holds its first records (overlapping runs).
   */
  readonly fromOffset: bigint;
  readonly toOffset: bigint;
}

export interface PartitionPlan {
  readonly topic: string;
  readonly partition: number;
  /** In offset order; reading them in order and filtering with recordInBounds restores the partition. */
  readonly reads: readonly SegmentRead[];
  /** Upper bound of the records to restore (whole segments counted). */
  readonly maxRecords: number;
  readonly bytes: number;
  readonly minTimestamp: bigint | undefined;
  readonly maxTimestamp: bigint | undefined;
  /** The runs whose segments this plan reads: a retention policy must keep them. */
  readonly runIds: readonly string[];
}

export function recordInBounds(record: Pick<KafkaRecord, 'offset' | 'timestamp'>, b: RestoreBounds): boolean {
  return (
    (b.fromOffset === undefined || record.offset >= b.fromOffset) &&
    (b.toOffset === undefined || record.offset <= b.toOffset) &&
    (b.startTime === undefined || record.timestamp >= b.startTime) &&
    (b.endTime === undefined || record.timestamp <= b.endTime)
  );
}

export function planPartition(state: PartitionState, bounds: RestoreBounds = {}): PartitionPlan {
  const reads: SegmentRead[] = [];
  let heldUpTo = -1n; // highest offset already provided by an earlier segment
  let maxRecords = 0;
  let bytes = 0;
  let minTs: bigint | undefined;
  let maxTs: bigint | undefined;
  const runIds = new Set<string>();
  for (const s of state.segments) {
    if (s.lastOffset <= heldUpTo) continue; // fully duplicated by an earlier overlapping run
    const dedupFrom = s.firstOffset > heldUpTo ? s.firstOffset : heldUpTo + 1n;
    heldUpTo = s.lastOffset;
    const from =
      bounds.fromOffset !== undefined && bounds.fromOffset > dedupFrom ? bounds.fromOffset : dedupFrom;
    const to =
      bounds.toOffset !== undefined && bounds.toOffset < s.lastOffset ? bounds.toOffset : s.lastOffset;
    if (from > to) continue;
    if (s.timestampsAreBounds) {
      if (bounds.startTime !== undefined && s.maxTimestamp < bounds.startTime) continue;
      if (bounds.endTime !== undefined && s.minTimestamp > bounds.endTime) continue;
    }
    reads.push({ segment: s, fromOffset: from, toOffset: to });
    maxRecords += s.recordCount;
    bytes += s.size;
    if (minTs === undefined || s.minTimestamp < minTs) minTs = s.minTimestamp;
    if (maxTs === undefined || s.maxTimestamp > maxTs) maxTs = s.maxTimestamp;
    runIds.add(s.runId);
  }
  return {
    topic: state.topic,
    partition: state.partition,
    reads,
    maxRecords,
    bytes,
    minTimestamp: minTs,
    maxTimestamp: maxTs,
    runIds: [...runIds],
  };
}

/** Plans every partition of the given topics (all topics when omitted). */
export function planRestore(
  manifest: BackupManifest,
  bounds: RestoreBounds = {},
  topics?: readonly string[],
): PartitionPlan[] {
  const wanted = topics ? new Set(topics) : undefined;
  const plans: PartitionPlan[] = [];
  for (const t of manifest.topics) {
    if (wanted && !wanted.has(t.metadata.name)) continue;
    for (const p of t.partitions) plans.push(planPartition(p, bounds));
  }
  return plans;
}

/** Applies a SegmentRead's offset cut and the bounds to decoded records. */
export function selectRecords(
  records: readonly KafkaRecord[],
  read: SegmentRead,
  bounds: RestoreBounds,
): KafkaRecord[] {
  return records.filter(
    (r) => r.offset >= read.fromOffset && r.offset <= read.toOffset && recordInBounds(r, bounds),
  );
}
