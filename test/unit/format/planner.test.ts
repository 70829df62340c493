import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  type PartitionState,
  planPartition,
  recordInBounds,
  type SegmentEntry,
} from '../../../runtime/format/index.ts';

function seg(first: number, last: number, minTs: number, maxTs: number, bounds = true): SegmentEntry {
  return {
    topic: 't',
    partition: 0,
    key: `s-${first}`,
    firstOffset: BigInt(first),
    lastOffset: BigInt(last),
    minTimestamp: BigInt(minTs),
    maxTimestamp: BigInt(maxTs),
    recordCount: last - first + 1,
    size: 100,
    uncompressedSize: 200,
    compression: 'zstd',
    encrypted: false,
    sha256: undefined,
    runId: `run-${first}`,
    timestampsAreBounds: bounds,
  };
}

function state(segments: SegmentEntry[]): PartitionState {
  return {
    topic: 't',
    partition: 0,
    segments,
    covered: [],
    gaps: [],
    nextOffset: undefined,
    recordCount: 0,
    bytes: 0,
  };
}

describe('restore planner', () => {
  const segments = [seg(0, 9, 100, 200), seg(10, 19, 150, 400), seg(20, 29, 500, 600)];

  test('a time window selects only the segments whose [min, max] timestamps overlap it', () => {
    const plan = planPartition(state(segments), { startTime: 250n, endTime: 450n });
    assert.deepEqual(
      plan.reads.map((r) => r.segment.key),
      ['s-10'],
    );
    assert.deepEqual(plan.runIds, ['run-10']);
  });

  test('non-monotonic timestamps: a segment is chosen on its min/max, not its first/last', () => {
    // First record at 400, last at 150, but it holds a record at 100.
    const plan = planPartition(state([seg(0, 9, 100, 400)]), { startTime: 90n, endTime: 110n });
    assert.equal(plan.reads.length, 1);
  });

  test('legacy segments (first/last timestamps) are never skipped on time', () => {
    const plan = planPartition(state([seg(0, 9, 100, 200, false)]), { startTime: 1000n });
    assert.equal(plan.reads.length, 1);
  });

  test('an offset bound cuts the last segment and skips later ones', () => {
    const plan = planPartition(state(segments), { toOffset: 14n });
    assert.deepEqual(
      plan.reads.map((r) => [r.segment.key, r.fromOffset, r.toOffset]),
      [
        ['s-0', 0n, 9n],
        ['s-10', 10n, 14n],
      ],
    );
  });

  test('the plan never misses a record inside the bounds (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.bigInt(0n, 1000n), { minLength: 1, maxLength: 8 }), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.option(fc.bigInt(0n, 1000n), { nil: undefined }),
        fc.option(fc.bigInt(0n, 1000n), { nil: undefined }),
        fc.option(fc.bigInt(0n, 60n), { nil: undefined }),
        (segTimestamps, startTime, endTime, toOffset) => {
          let offset = 0;
          const records: { offset: bigint; timestamp: bigint; segment: string }[] = [];
          const entries = segTimestamps.map((tss) => {
            const first = offset;
            for (const ts of tss)
              records.push({ offset: BigInt(offset++), timestamp: ts, segment: `s-${first}` });
            const min = tss.reduce((a, b) => (b < a ? b : a));
            const max = tss.reduce((a, b) => (b > a ? b : a));
            return seg(first, offset - 1, Number(min), Number(max));
          });
          const bounds = {
            ...(startTime !== undefined ? { startTime } : {}),
            ...(endTime !== undefined ? { endTime } : {}),
            ...(toOffset !== undefined ? { toOffset } : {}),
          };
          const plan = planPartition(state(entries), bounds);
          const chosen = new Set(plan.reads.map((r) => r.segment.key));
          for (const r of records) {
            if (recordInBounds(r, bounds)) assert.ok(chosen.has(r.segment), `record ${r.offset} missed`);
          }
        },
      ),
    );
  });
});
