import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type CommittedOffset, tpKey } from '../../../runtime/offsets/group-offsets.ts';
import {
  formatResetPlan,
  type PartitionFacts,
  partitionsNeedingFacts,
  planReset,
  type ResetSelection,
  type ResetStrategy,
  resetPlanToJson,
  selectPartitions,
} from '../../../runtime/offsets/reset-plan.ts';

const committed = new Map<string, CommittedOffset[]>([
  [
    'g1',
    [
      { topic: 'orders', partition: 0, offset: 10n },
      { topic: 'orders', partition: 1, offset: 20n },
      { topic: 'payments', partition: 0, offset: 5n },
    ],
  ],
  ['g2', [{ topic: 'orders', partition: 0, offset: 3n }]],
]);
const counts = new Map([
  ['orders', 3],
  ['payments', 1],
]);
const facts = new Map<string, PartitionFacts>([
  [tpKey('orders', 0), { earliest: 2n, latest: 50n, atTimestamp: 30n }],
  [tpKey('orders', 1), { earliest: 0n, latest: 25n, atTimestamp: -1n }],
  [tpKey('orders', 2), { earliest: 0n, latest: 0n, atTimestamp: -1n }],
  [tpKey('payments', 0), { earliest: 0n, latest: 9n, atTimestamp: 4n }],
]);

function plan(strategy: ResetStrategy, selection: ResetSelection) {
  const selections = selectPartitions(strategy, selection, committed, counts);
  return planReset(strategy, selections, facts);
}

function targets(p: ReturnType<typeof plan>, group = 'g1'): [string, bigint][] {
  const g = p.groups.find((x) => x.group === group);
  assert.ok(g);
  return g.changes.map((c) => [`${c.topic}/${c.partition}`, c.target]);
}

describe('reset planning', () => {
  test('to-earliest and to-latest act on the partitions the group has commits on', () => {
    assert.deepEqual(targets(plan({ kind: 'to-earliest' }, { groups: ['g1'] })), [
      ['orders/0', 2n],
      ['orders/1', 0n],
      ['payments/0', 0n],
    ]);
    assert.deepEqual(targets(plan({ kind: 'to-latest' }, { groups: ['g1'] })), [
      ['orders/0', 50n],
      ['orders/1', 25n],
      ['payments/0', 9n],
    ]);
  });

  test('to-timestamp uses the looked-up offset, and the log end when no record is that late', () => {
    const p = plan({ kind: 'to-timestamp', timestamp: 1000n }, { groups: ['g1'] });
    assert.deepEqual(targets(p), [
      ['orders/0', 30n],
      ['orders/1', 25n],
      ['payments/0', 4n],
    ]);
    assert.match(p.groups[0]?.changes[1]?.note ?? '', /no record at or after/);
  });

  test('to-offset sets the same offset everywhere, clamped into the log with a note', () => {
    const p = plan({ kind: 'to-offset', offset: 24n }, { groups: ['g1'] });
    assert.deepEqual(targets(p), [
      ['orders/0', 24n],
      ['orders/1', 24n],
      ['payments/0', 9n],
    ]);
    assert.match(p.groups[0]?.changes[2]?.note ?? '', /past the end of the log, clamped to 9/);
  });

  test('shift-by moves from the current commit and clamps at the log start', () => {
    assert.deepEqual(targets(plan({ kind: 'shift-by', shift: -9n }, { groups: ['g1'] })), [
      ['orders/0', 2n],
      ['orders/1', 11n],
      ['payments/0', 0n],
    ]);
  });

  test('shift-by skips partitions without a commit, naming why', () => {
    const p = plan({ kind: 'shift-by', shift: 1n }, { groups: ['g2'], topics: ['orders'] });
    assert.deepEqual(targets(p, 'g2'), [['orders/0', 4n]]);
    assert.deepEqual(
      p.groups[0]?.skipped.map((s) => [s.partition, s.reason]),
      [
        [1, 'no committed offset to shift'],
        [2, 'no committed offset to shift'],
      ],
    );
  });

  test('selection by topic covers every partition of it; by partition narrows it', () => {
    assert.deepEqual(targets(plan({ kind: 'to-latest' }, { groups: ['g2'], topics: ['orders'] }), 'g2'), [
      ['orders/0', 50n],
      ['orders/1', 25n],
      ['orders/2', 0n],
    ]);
    assert.deepEqual(targets(plan({ kind: 'to-latest' }, { groups: ['g1'], partitions: [1] })), [
      ['orders/1', 25n],
    ]);
    assert.throws(
      () => plan({ kind: 'to-latest' }, { groups: ['g1'], topics: ['nope'] }),
      /topic nope does not exist/,
    );
  });

  test('a group without commits is reported as skipped, not silently ignored', () => {
    const p = plan({ kind: 'to-earliest' }, { groups: ['ghost'] });
    assert.deepEqual(p.groups[0]?.changes, []);
    assert.match(p.groups[0]?.skipped[0]?.reason ?? '', /no committed offsets/);
  });

  test('from-snapshot commits the snapshot offsets, keeping the current ones in the plan', () => {
    const snapshot = new Map([['g1', [{ topic: 'orders', partition: 0, offset: 7n }]]]);
    const p = plan({ kind: 'from-snapshot', offsets: snapshot }, { groups: ['g1', 'g2'] });
    assert.deepEqual(
      p.groups[0]?.changes.map((c) => [c.current, c.target]),
      [[10n, 7n]],
    );
    assert.match(p.groups[1]?.skipped[0]?.reason ?? '', /not in the snapshot/);
  });

  test('from-mapping translates the backup snapshot offsets through the mapping onto the renamed topic', () => {
    const strategy: ResetStrategy = {
      kind: 'from-mapping',
      sourceOffsets: new Map([
        [
          'g1',
          [
            { topic: 'src', partition: 0, offset: 12n },
            { topic: 'gone', partition: 0, offset: 1n },
          ],
        ],
      ]),
      mapping: [
        {
          sourceTopic: 'src',
          sourcePartition: 0,
          targetTopic: 'orders',
          targetPartition: 0,
          ranges: [{ source: 10n, target: 2n, count: 5 }],
        },
      ],
    };
    const p = plan(strategy, { groups: ['g1'] });
    assert.deepEqual(targets(p), [['orders/0', 4n]]);
    assert.deepEqual(p.groups[0]?.skipped, [
      { topic: 'gone', partition: 0, reason: 'source offset 1: partition not restored' },
    ]);
  });

  test('partitions missing on the cluster are skipped; facts are requested once per partition', () => {
    const strategy: ResetStrategy = { kind: 'to-offset', offset: 1n };
    const selections = selectPartitions(strategy, { groups: ['g1', 'g2'] }, committed, counts);
    assert.deepEqual(partitionsNeedingFacts(selections), [
      { topic: 'orders', partition: 0 },
      { topic: 'orders', partition: 1 },
      { topic: 'payments', partition: 0 },
    ]);
    const p = planReset(strategy, selections, new Map([[tpKey('orders', 0), { earliest: 0n, latest: 5n }]]));
    assert.deepEqual(
      p.groups[0]?.skipped.map((s) => `${s.topic}/${s.partition}`),
      ['orders/1', 'payments/0'],
    );
  });

  test('the dry-run text and JSON show every change', () => {
    const p = plan({ kind: 'to-earliest' }, { groups: ['g1'] });
    const text = formatResetPlan(p);
    assert.match(text, /group g1: 3 partition\(s\), 3 to move/);
    assert.match(text, /orders\/0: 10 -> 2/);
    const json = JSON.parse(JSON.stringify(resetPlanToJson(p))) as {
      groups: { changes: { target: string }[] }[];
    };
    assert.equal(json.groups[0]?.changes[0]?.target, '2');
  });
});

describe('reset planning (properties)', () => {
  test('every target lies within the log, whatever the strategy and the current offsets', async () => {
    const fc = (await import('fast-check')).default;
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 50 }),
        fc.integer({ min: 0, max: 50 }),
        fc.integer({ min: -100, max: 200 }),
        fc.integer({ min: -100, max: 100 }),
        fc.integer({ min: -1, max: 120 }),
        (start, length, current, n, atTs) => {
          const earliest = BigInt(start);
          const latest = BigInt(start + length);
          const facts = new Map([[tpKey('t', 0), { earliest, latest, atTimestamp: BigInt(atTs) }]]);
          const committedOffsets = new Map([
            ['g', [{ topic: 't', partition: 0, offset: BigInt(Math.max(0, current)) }]],
          ]);
          const strategies: ResetStrategy[] = [
            { kind: 'to-earliest' },
            { kind: 'to-latest' },
            { kind: 'to-timestamp', timestamp: 0n },
            { kind: 'to-offset', offset: BigInt(Math.max(0, n)) },
            { kind: 'shift-by', shift: BigInt(n) },
          ];
          for (const strategy of strategies) {
            const selections = selectPartitions(strategy, { groups: ['g'] }, committedOffsets, new Map());
            const p = planReset(strategy, selections, facts);
            for (const c of p.groups[0]?.changes ?? []) {
              assert.ok(
                c.target >= earliest && c.target <= latest,
                `${strategy.kind}: ${c.target} outside [${earliest}, ${latest}]`,
              );
            }
          }
        },
      ),
    );
  });
});
