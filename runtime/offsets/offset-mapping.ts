/**
 * The source→target offset mapping a restore writes for every restored partition, range-compressed:
 * a run of records whose source offsets and target offsets both increase by one is stored as one
 * range. Gaps in the source (compaction, retention, aborted transactions, point-in-time windows)
 * simply start a new range.
 *
 * A repartitioned topic has one entry per (source partition, target partition) pair that received
 * records; within an entry the order of the source partition is kept, so both offset sequences are
 * increasing and the same lookup applies.
 */

/** One run: source offsets [source, source + count) were restored to [target, target + count). */
export interface OffsetRange {
  readonly source: bigint;
  readonly target: bigint;
  readonly count: number;
}

export interface PartitionOffsetMapping {
  readonly sourceTopic: string;
  readonly sourcePartition: number;
  readonly targetTopic: string;
  readonly targetPartition: number;
  /** Sorted by source offset (and therefore by target offset), non-overlapping. */
  readonly ranges: readonly OffsetRange[];
}

export interface OffsetMapping {
  readonly backupId: string;
  readonly restoreId?: string;
  readonly partitions: readonly PartitionOffsetMapping[];
}

/** The stored JSON form: offsets as decimal strings because they can exceed 2^53. */
export interface OffsetMappingDocument {
  readonly version: 1;
  readonly backupId: string;
  readonly restoreId?: string;
  readonly partitions: readonly {
    readonly sourceTopic: string;
    readonly sourcePartition: number;
    readonly targetTopic: string;
    readonly targetPartition: number;
    /** [sourceStart, targetStart, count] */
    readonly ranges: readonly (readonly [string, string, number])[];
  }[];
}

/**
 * Builds the ranges of one (source partition, target partition) pair from the pairs in restore order.
 * Memory grows with the number of discontinuities, not with the number of records.
 */
export class OffsetRangeBuilder {
  readonly #ranges: { source: bigint; target: bigint; count: number }[] = [];

  add(source: bigint, target: bigint): void {
    const last = this.#ranges.at(-1);
    if (last) {
      const nextSource = last.source + BigInt(last.count);
      const nextTarget = last.target + BigInt(last.count);
      if (source < nextSource || target < nextTarget) {
        throw new Error(
          `offset mapping must increase: source ${source} -> target ${target} after ${nextSource - 1n} -> ${nextTarget - 1n}`,
        );
      }
      if (source === nextSource && target === nextTarget) {
        last.count += 1;
        return;
      }
    }
    this.#ranges.push({ source, target, count: 1 });
  }

  ranges(): OffsetRange[] {
    return this.#ranges.map((r) => ({ ...r }));
  }
}

export function offsetMappingToDocument(mapping: OffsetMapping): OffsetMappingDocument {
  return {
    version: 1,
    backupId: mapping.backupId,
    ...(mapping.restoreId === undefined ? {} : { restoreId: mapping.restoreId }),
    partitions: mapping.partitions.map((p) => ({
      sourceTopic: p.sourceTopic,
      sourcePartition: p.sourcePartition,
      targetTopic: p.targetTopic,
      targetPartition: p.targetPartition,
      ranges: p.ranges.map((r) => [r.source.toString(), r.target.toString(), r.count] as const),
    })),
  };
}

/** Parses and checks a stored mapping; a malformed document is rejected, never half-used. */
export function offsetMappingFromDocument(json: unknown, origin = 'offset mapping'): OffsetMapping {
  const fail = (why: string): never => {
    throw new Error(`${origin} is not a valid offset mapping document: ${why}`);
  };
  if (typeof json !== 'object' || json === null) fail('not a JSON object');
  const doc = json as Partial<OffsetMappingDocument>;
  if (doc.version !== 1) fail(`unsupported version ${JSON.stringify(doc.version)} (expected 1)`);
  if (typeof doc.backupId !== 'string') fail('backupId is missing');
  if (!Array.isArray(doc.partitions)) fail('partitions is missing');
  const partitions = (doc.partitions ?? []).map((p, i) => {
    const where = `partitions[${i}]`;
    if (typeof p.sourceTopic !== 'string' || typeof p.targetTopic !== 'string') fail(`${where}: topic names`);
    if (!Number.isInteger(p.sourcePartition) || !Number.isInteger(p.targetPartition)) {
      fail(`${where}: partition numbers`);
    }
    if (!Array.isArray(p.ranges)) fail(`${where}: ranges is missing`);
    const ranges = p.ranges.map((r, j) => {
      if (!Array.isArray(r) || r.length !== 3)
        fail(`${where}.ranges[${j}]: expected [source, target, count]`);
      const [source, target, count] = r;
      if (!Number.isInteger(count) || count < 1)
        fail(`${where}.ranges[${j}]: count must be a positive integer`);
      return { source: parseOffset(source, fail), target: parseOffset(target, fail), count };
    });
    for (let j = 1; j < ranges.length; j++) {
      const prev = ranges[j - 1] as OffsetRange;
      const cur = ranges[j] as OffsetRange;
      if (cur.source < prev.source + BigInt(prev.count) || cur.target < prev.target + BigInt(prev.count)) {
        fail(`${where}.ranges[${j}]: ranges must be sorted and non-overlapping`);
      }
    }
    return {
      sourceTopic: p.sourceTopic,
      sourcePartition: p.sourcePartition,
      targetTopic: p.targetTopic,
      targetPartition: p.targetPartition,
      ranges,
    };
  });
  return {
    backupId: doc.backupId as string,
    ...(typeof doc.restoreId === 'string' ? { restoreId: doc.restoreId } : {}),
    partitions,
  };
}

function parseOffset(value: unknown, fail: (why: string) => never): bigint {
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value);
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  return fail(`offset ${JSON.stringify(value)} is not an integer`);
}
