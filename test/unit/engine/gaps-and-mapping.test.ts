import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GapTracker } from '../../../runtime/engine/gap-tracker.ts';
import { MappingBuilder, rangesFromJson, rangesToJson } from '../../../runtime/engine/offset-map.ts';
import { compilePattern, selectTopics } from '../../../runtime/engine/topic-selection.ts';

describe('GapTracker', () => {
  test('classifies holes between records: transaction markers where the fetch said so, else compaction', () => {
    const g = new GapTracker();
    g.addHoles(10n, 20n, [{ start: 12n, end: 15n, reason: 'transaction-markers' }]);
    assert.deepEqual(
      g.take().map((x) => [x.start, x.end, x.reason]),
      [
        [10n, 12n, 'compaction'],
        [12n, 15n, 'transaction-markers'],
        [15n, 20n, 'compaction'],
      ],
    );
  });

  test('merges adjacent gaps of one reason', () => {
    const g = new GapTracker();
    g.add(0n, 5n, 'compaction');
    g.add(5n, 9n, 'compaction');
    g.add(9n, 10n, 'retention');
    assert.equal(g.size, 2);
    assert.deepEqual(g.take()[0], { start: 0n, end: 9n, reason: 'compaction' });
    assert.equal(g.size, 0);
  });

  test('finds the first hole that transactions do not explain (lost records on a non-compacted topic)', () => {
    const markers = [
      { start: 10n, end: 11n, reason: 'transaction-markers' as const },
      { start: 20n, end: 25n, reason: 'transaction-markers' as const },
    ];
    assert.equal(GapTracker.unexplained(10n, 11n, markers), undefined);
    assert.equal(GapTracker.unexplained(20n, 25n, markers), undefined);
    assert.equal(GapTracker.unexplained(21n, 23n, markers), undefined);
    assert.deepEqual(GapTracker.unexplained(10n, 12n, markers), { start: 11n, end: 12n });
    assert.deepEqual(GapTracker.unexplained(8n, 11n, markers), { start: 8n, end: 10n });
    assert.deepEqual(GapTracker.unexplained(10n, 30n, markers), { start: 11n, end: 20n });
    assert.deepEqual(GapTracker.unexplained(0n, 100n, []), { start: 0n, end: 100n });
    assert.equal(GapTracker.unexplained(5n, 5n, []), undefined);
  });
});

describe('MappingBuilder (range-compressed offset mapping)', () => {
  test('contiguous pairs collapse into one range; a source gap starts a new one', () => {
    const m = new MappingBuilder();
    for (let i = 0n; i < 1000n; i++) m.add(i, 500n + i);
    m.add(1005n, 1500n); // compaction hole in the source
    m.add(1006n, 1501n);
    assert.deepEqual(m.ranges(), [
      { source: 0n, target: 500n, count: 1000 },
      { source: 1005n, target: 1500n, count: 2 },
    ]);
  });

  test('refuses a decreasing pair', () => {
    const m = new MappingBuilder();
    m.add(10n, 10n);
    assert.throws(() => m.add(9n, 11n), /must increase/);
  });

  test('survives a checkpoint round trip and continues the last range', () => {
    const m = new MappingBuilder();
    m.add(0n, 0n);
    m.add(1n, 1n);
    const resumed = new MappingBuilder(rangesFromJson(rangesToJson(m.ranges())));
    resumed.add(2n, 2n);
    assert.deepEqual(resumed.ranges(), [{ source: 0n, target: 0n, count: 3 }]);
  });
});

describe('topic selection', () => {
  const topics = ['orders', 'orders-eu', 'orders-us', 'payments', '__consumer_offsets', 'audit.log'];
  test('names, globs and ~regex, with excludes; internal topics only when asked', () => {
    assert.deepEqual(selectTopics(topics, { include: ['orders-*'] }), ['orders-eu', 'orders-us']);
    assert.deepEqual(selectTopics(topics, { include: ['~orders(-.*)?'], exclude: ['orders-us'] }), [
      'orders',
      'orders-eu',
    ]);
    assert.deepEqual(selectTopics(topics, { include: ['*'] }), [
      'audit.log',
      'orders',
      'orders-eu',
      'orders-us',
      'payments',
    ]);
    assert.ok(selectTopics(topics, { include: ['*'], includeInternal: true }).includes('__consumer_offsets'));
    assert.deepEqual(selectTopics(topics, { include: ['audit.log'] }), ['audit.log']);
    assert.ok(!compilePattern('audit.log').test('auditxlog'), 'a dot in a glob is literal');
  });
  test('an invalid regex is a clear error', () => {
    assert.throws(() => compilePattern('~orders('), /not a valid regular expression/);
  });
});
