import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { planRestoreUnits, targetTopicConfigs } from '../../../runtime/engine/restore-plan.ts';
import { mergeCommits } from '../../../runtime/format/manifest.ts';
import type { BackupDescriptor, CommitRecord, SegmentEntry } from '../../../runtime/format/types.ts';

const descriptor: BackupDescriptor = {
  formatVersion: 1,
  backupId: 'b',
  createdAt: 0,
  compression: 'none',
  encryption: null,
};

function segment(
  topic: string,
  partition: number,
  first: bigint,
  last: bigint,
  minTs: bigint,
  maxTs: bigint,
): SegmentEntry {
  return {
    topic,
    partition,
    key: `b/segments/${topic}/${partition}/${first}`,
    firstOffset: first,
    lastOffset: last,
    minTimestamp: minTs,
    maxTimestamp: maxTs,
    recordCount: Number(last - first + 1n),
    size: 100,
    uncompressedSize: 100,
    compression: 'none',
    encrypted: false,
    sha256: '00',
    runId: 'r1',
    timestampsAreBounds: true,
  };
}

/** Two topics: orders (3 partitions, two segments each: ts 0-999 and 1000-1999), audit (1 partition). */
function manifest() {
  const partitions = [0, 1, 2].map((p) => ({
    topic: 'orders',
    partition: p,
    segments: [segment('orders', p, 0n, 99n, 0n, 999n), segment('orders', p, 100n, 199n, 1000n, 1999n)],
    covered: { start: 0n, end: 200n },
    gaps: [],
  }));
  const commit: CommitRecord = {
    formatVersion: 1,
    backupId: 'b',
    seq: 0,
    committedAt: 0,
    runId: 'r1',
    mode: 'snapshot',
    final: true,
    topics: [
      { name: 'orders', partitionCount: 3, configs: { 'cleanup.policy': 'delete' } },
      { name: 'audit', partitionCount: 1, configs: {} },
    ],
    partitions: [
      ...partitions,
      {
        topic: 'audit',
        partition: 0,
        segments: [segment('audit', 0, 0n, 9n, 0n, 10n)],
        covered: { start: 0n, end: 10n },
        gaps: [],
      },
    ],
  };
  return mergeCommits(descriptor, [commit]);
}

describe('planRestoreUnits', () => {
  test('one unit per target partition, in order; topics filtered by pattern', () => {
    const plan = planRestoreUnits(manifest(), { topics: ['ord*'] });
    assert.deepEqual(
      plan.units.map((u) => u.id),
      ['orders/0', 'orders/1', 'orders/2'],
    );
    assert.equal(plan.maxRecords, 600);
    assert.equal(plan.segments, 6);
  });

  test('a pitr window reads only the segments that can hold records inside it', () => {
    const plan = planRestoreUnits(manifest(), {
      topics: ['orders'],
      bounds: { startTime: 1200n, endTime: 1500n },
    });
    assert.equal(plan.segments, 3);
    assert.deepEqual(
      plan.units.map((u) => u.sources[0]?.reads.map((r) => r.segment.firstOffset)),
      [[100n], [100n], [100n]],
    );
    assert.equal(plan.minTimestamp, 1200n);
    assert.equal(plan.maxTimestamp, 1500n);
  });

  test('toOffset cuts the last segment read', () => {
    const plan = planRestoreUnits(manifest(), { topics: ['orders'], bounds: { toOffset: 49n } });
    assert.deepEqual(
      plan.units[0]?.sources[0]?.reads.map((r) => [r.fromOffset, r.toOffset]),
      [[0n, 49n]],
    );
  });

  test('renaming and partition mapping: two sources may share a target partition, sources in order', () => {
    const plan = planRestoreUnits(manifest(), {
      topicMapping: { orders: 'orders-copy' },
      partitionMapping: { 0: 1, 2: 0 },
    });
    const copy = plan.units.filter((u) => u.targetTopic === 'orders-copy');
    assert.deepEqual(
      copy.map((u) => [u.id, u.sources.map((s) => s.partition)]),
      [
        ['orders-copy/0', [2]],
        ['orders-copy/1', [0, 1]],
      ],
    );
    assert.equal(plan.targets.find((t) => t.name === 'orders-copy')?.partitionsNeeded, 3);
  });

  test('repartitioning makes one unit per target topic covering every source partition', () => {
    const plan = planRestoreUnits(manifest(), {
      topics: ['orders'],
      topicMapping: { orders: 'orders-6' },
      repartitioning: { 'orders-6': { strategy: 'murmur2', targetPartitions: 6 } },
    });
    assert.equal(plan.units.length, 1);
    assert.deepEqual(plan.units[0]?.route, { kind: 'repartition', strategy: 'murmur2', partitions: 6 });
    assert.deepEqual(
      plan.units[0]?.sources.map((s) => s.partition),
      [0, 1, 2],
    );
    assert.equal(plan.targets[0]?.partitionsNeeded, 6);
  });

  test('clear errors for unknown topics and an inverted window', () => {
    assert.throws(() => planRestoreUnits(manifest(), { topics: ['nope'] }), /not in backup 'b'/);
    assert.throws(
      () => planRestoreUnits(manifest(), { bounds: { startTime: 5n, endTime: 1n } }),
      /start .* is after pitr end/,
    );
  });
});

describe('targetTopicConfigs', () => {
  test('keeps captured configs, turns LogAppendTime into CreateTime so timestamps survive, overrides win', () => {
    assert.deepEqual(
      targetTopicConfigs({ 'cleanup.policy': 'compact', 'message.timestamp.type': 'LogAppendTime' }),
      {
        'cleanup.policy': 'compact',
        'message.timestamp.type': 'CreateTime',
      },
    );
    assert.deepEqual(targetTopicConfigs({ 'retention.ms': '1' }, { 'retention.ms': '-1' }), {
      'retention.ms': '-1',
    });
  });
});
