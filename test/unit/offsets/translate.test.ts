import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  OffsetRangeBuilder,
  offsetMappingFromDocument,
  offsetMappingToDocument,
  type PartitionOffsetMapping,
} from '../../../runtime/offsets/offset-mapping.ts';
import { firstTargetAtOrAfter, translateGroup } from '../../../runtime/offsets/translate.ts';

function mappingOf(
  sourceTopic: string,
  sourcePartition: number,
  targetTopic: string,
  targetPartition: number,
  pairs: [number, number][],
): PartitionOffsetMapping {
  const b = new OffsetRangeBuilder();
  for (const [s, t] of pairs) b.add(BigInt(s), BigInt(t));
  return { sourceTopic, sourcePartition, targetTopic, targetPartition, ranges: b.ranges() };
}

describe('OffsetRangeBuilder', () => {
  test('compresses contiguous runs and starts a new range at every gap', () => {
    const b = new OffsetRangeBuilder();
    for (const [s, t] of [
      [10, 0],
      [11, 1],
      [12, 2],
      [20, 3],
      [21, 4],
    ] as const) {
      b.add(BigInt(s), BigInt(t));
    }
    assert.deepEqual(b.ranges(), [
      { source: 10n, target: 0n, count: 3 },
      { source: 20n, target: 3n, count: 2 },
    ]);
  });

  test('refuses pairs that go backwards', () => {
    const b = new OffsetRangeBuilder();
    b.add(5n, 5n);
    assert.throws(() => b.add(5n, 6n), /must increase/);
  });

  test('round-trips through its JSON document, offsets beyond 2^53 included', () => {
    const big = 2n ** 60n;
    const mapping = {
      backupId: 'b1',
      restoreId: 'r1',
      partitions: [
        {
          sourceTopic: 'a',
          sourcePartition: 0,
          targetTopic: 'b',
          targetPartition: 1,
          ranges: [{ source: big, target: 7n, count: 4 }],
        },
      ],
    };
    const json = JSON.parse(JSON.stringify(offsetMappingToDocument(mapping)));
    assert.deepEqual(offsetMappingFromDocument(json), mapping);
  });

  test('rejects a malformed document naming the problem', () => {
    assert.throws(() => offsetMappingFromDocument({ version: 2 }, 'x.json'), /x\.json.*version/);
    assert.throws(
      () =>
        offsetMappingFromDocument({
          version: 1,
          backupId: 'b',
          partitions: [
            {
              sourceTopic: 'a',
              sourcePartition: 0,
              targetTopic: 'a',
              targetPartition: 0,
              ranges: [
                ['5', '5', 3],
                ['6', '9', 1],
              ],
            },
          ],
        }),
      /sorted and non-overlapping/,
    );
  });
});

describe('firstTargetAtOrAfter', () => {
  // Source offsets 10..12 and 20..21 (a compaction gap) restored to 0..4.
  const ranges = mappingOf('t', 0, 't', 0, [
    [10, 0],
    [11, 1],
    [12, 2],
    [20, 3],
    [21, 4],
  ]).ranges;

  test('exact hits, before the first record, inside a gap, and past the end', () => {
    assert.equal(firstTargetAtOrAfter(ranges, 11n), 1n);
    assert.equal(firstTargetAtOrAfter(ranges, 0n), 0n);
    assert.equal(
      firstTargetAtOrAfter(ranges, 15n),
      3n,
      'a committed offset in a gap resumes at the next record',
    );
    assert.equal(firstTargetAtOrAfter(ranges, 21n), 4n);
    assert.equal(firstTargetAtOrAfter(ranges, 22n), undefined);
  });

  test('equals a linear search over every pair (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 3 })), { maxLength: 60 }),
        fc.integer({ min: 0, max: 400 }),
        (steps, committed) => {
          const pairs: [number, number][] = [];
          let s = 0;
          let t = 100;
          for (const [ds, dt] of steps) {
            s += ds;
            t += 1 + dt;
            pairs.push([s, t]);
          }
          const rs = mappingOf('t', 0, 't', 0, pairs).ranges;
          const expected = pairs.find(([src]) => src >= committed)?.[1];
          assert.equal(
            firstTargetAtOrAfter(rs, BigInt(committed)),
            expected === undefined ? undefined : BigInt(expected),
          );
        },
      ),
    );
  });
});

describe('translateGroup', () => {
  test('same topic: each partition resumes at the first restored record at or after the commit', () => {
    const mapping = [
      mappingOf('orders', 0, 'orders', 0, [
        [100, 0],
        [101, 1],
        [102, 2],
      ]),
      mappingOf('orders', 1, 'orders', 1, [
        [5, 0],
        [9, 1],
      ]),
    ];
    const result = translateGroup(
      'g',
      [
        { topic: 'orders', partition: 0, offset: 101n },
        { topic: 'orders', partition: 1, offset: 6n },
      ],
      mapping,
    );
    assert.deepEqual(
      result.offsets.map((o) => [o.topic, o.partition, o.offset, o.exact]),
      [
        ['orders', 0, 1n, true],
        ['orders', 1, 1n, true],
      ],
    );
    assert.deepEqual(result.skipped, []);
  });

  test('renamed topic: offsets land on the target topic', () => {
    const mapping = [
      mappingOf('orders', 0, 'orders-dr', 0, [
        [0, 0],
        [1, 1],
      ]),
    ];
    const result = translateGroup('g', [{ topic: 'orders', partition: 0, offset: 1n }], mapping);
    assert.deepEqual(
      result.offsets.map((o) => [o.topic, o.partition, o.offset]),
      [['orders-dr', 0, 1n]],
    );
  });

  test('a group that consumed everything, or more than was backed up, resumes at the end of the restored data', () => {
    const mapping = [
      mappingOf('t', 0, 't', 0, [
        [0, 50],
        [1, 51],
      ]),
    ];
    assert.equal(
      translateGroup('g', [{ topic: 't', partition: 0, offset: 2n }], mapping).offsets[0]?.offset,
      52n,
    );
    assert.equal(
      translateGroup('g', [{ topic: 't', partition: 0, offset: 900n }], mapping).offsets[0]?.offset,
      52n,
    );
  });

  test('partitions that were not restored are reported, not guessed', () => {
    const result = translateGroup(
      'g',
      [{ topic: 'other', partition: 3, offset: 7n }],
      [mappingOf('t', 0, 't', 0, [[0, 0]])],
    );
    assert.deepEqual(result.offsets, []);
    assert.deepEqual(result.skipped, [
      { topic: 'other', partition: 3, offset: 7n, reason: 'partition not restored' },
    ]);
  });

  test('repartitioned topic: the smallest candidate over the feeding source partitions, marked inexact', () => {
    // Two source partitions spread over two target partitions, interleaved.
    // target 0 gets: s0@0 ->0, s1@0 ->1, s0@2 ->2, s1@3 ->3
    // target 1 gets: s0@1 ->0, s1@1 ->1, s1@2 ->2, s0@3 ->3
    const mapping = [
      mappingOf('t', 0, 't2', 0, [
        [0, 0],
        [2, 2],
      ]),
      mappingOf('t', 1, 't2', 0, [
        [0, 1],
        [3, 3],
      ]),
      mappingOf('t', 0, 't2', 1, [
        [1, 0],
        [3, 3],
      ]),
      mappingOf('t', 1, 't2', 1, [
        [1, 1],
        [2, 2],
      ]),
    ];
    // Group consumed s0 up to 2 (next = 2) and s1 up to 3 (next = 3).
    const result = translateGroup(
      'g',
      [
        { topic: 't', partition: 0, offset: 2n },
        { topic: 't', partition: 1, offset: 3n },
      ],
      mapping,
    );
    // target 0: s0 next unconsumed is @2 -> 2, s1 next is @3 -> 3: min 2.
    // target 1: s0 next is @3 -> 3, s1 has nothing >= 3 in target 1 -> end 4: min 3.
    assert.deepEqual(
      result.offsets.map((o) => [o.topic, o.partition, o.offset, o.exact]),
      [
        ['t2', 0, 2n, false],
        ['t2', 1, 3n, false],
      ],
    );
  });

  test('repartitioned: never skips an unconsumed record (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 1 })), {
          minLength: 1,
          maxLength: 80,
        }),
        fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 3, maxLength: 3 }),
        (records, committedBySource) => {
          // records: [sourcePartition, targetPartition] in restore order; source offsets count up per partition.
          const nextSource = [0, 0, 0];
          const nextTarget = [0, 0];
          const pairs = new Map<string, [number, number][]>();
          const restored: { sp: number; so: number; tp: number; to: number }[] = [];
          for (const [sp, tp] of records) {
            const so = nextSource[sp] ?? 0;
            const to = nextTarget[tp] ?? 0;
            nextSource[sp] = so + 1;
            nextTarget[tp] = to + 1;
            restored.push({ sp, so, tp, to });
            const k = `${sp}:${tp}`;
            pairs.set(k, [...(pairs.get(k) ?? []), [so, to]]);
          }
          const mapping = [...pairs].map(([k, ps]) => {
            const [sp, tp] = k.split(':').map(Number) as [number, number];
            return mappingOf('s', sp, 't', tp, ps);
          });
          const committed = [0, 1, 2].map((p) => ({
            topic: 's',
            partition: p,
            offset: BigInt(committedBySource[p] as number),
          }));
          const result = translateGroup('g', committed, mapping);
          for (const r of restored) {
            if (r.so < (committedBySource[r.sp] as number)) continue; // consumed already
            const t = result.offsets.find((o) => o.partition === r.tp);
            assert.ok(t, `target partition ${r.tp} must get an offset`);
            assert.ok(
              t.offset <= BigInt(r.to),
              `unconsumed s${r.sp}@${r.so} at t${r.tp}@${r.to} skipped by ${t.offset}`,
            );
          }
        },
      ),
    );
  });
});
