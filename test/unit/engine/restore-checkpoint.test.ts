import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MappingBuilder } from '../../../runtime/engine/offset-map.ts';
import {
  inconsistency,
  loadUnit,
  newUnitState,
  type StoredUnit,
  storeUnit,
} from '../../../runtime/engine/restore-checkpoint.ts';

const source = { topic: 'orders', partition: 0 };

function stored(over: Partial<StoredUnit>): StoredUnit {
  return {
    sourceIndex: 0,
    nextOffset: null,
    roundRobin: 0,
    targets: {},
    mappings: [],
    records: 0,
    done: false,
    ...over,
  };
}

describe('restore checkpoint: a consistent cut, and repair of mid-chunk checkpoints', () => {
  test('a consistent unit loads unchanged and round-trips', () => {
    const saved = stored({
      nextOffset: '50511',
      targets: { '0': '50511' },
      mappings: [
        { sourceTopic: 'orders', sourcePartition: 0, targetPartition: 0, ranges: [['0', '0', 50511]] },
      ],
      records: 50511,
    });
    const { state, repairs } = loadUnit(saved, source);
    assert.deepEqual(repairs, []);
    assert.equal(inconsistency(state), undefined);
    assert.deepEqual(storeUnit(state), saved);
  });

  test('the issue-12 shape: mapping ahead of the source position is cut back, the resume can continue', () => {
    // Taken while a resumed run had mapped the records it found beyond its checkpoint (50511..51508)
    // but had not yet moved nextOffset or the target end.
    const saved = stored({
      nextOffset: '50511',
      targets: { '0': '50511' },
      mappings: [
        { sourceTopic: 'orders', sourcePartition: 0, targetPartition: 0, ranges: [['0', '0', 51509]] },
      ],
    });
    const { state, repairs } = loadUnit(saved, source);
    assert.equal(repairs.length, 1);
    assert.match(
      repairs[0] as string,
      /orders\/0>0: mapping from source offset 50511 \(target 50511\) dropped/,
    );
    assert.deepEqual(state.mappings.get('orders/0>0')?.b.ranges(), [
      { source: 0n, target: 0n, count: 50511 },
    ]);
    assert.equal(state.targets.get(0), 50511n);
    assert.equal(inconsistency(state), undefined);
    // What failed before ("offset mapping must increase: 50511 -> 50511 after 51508") now succeeds.
    state.mappings.get('orders/0>0')?.b.add(50511n, 50511n);
  });

  test('a repartitioning unit whose one target end ran ahead is set back to where the chunk began', () => {
    // Chunk from source offset 100: partition 0 finished (end and mapping moved), partition 1 did not.
    const saved = stored({
      nextOffset: '100',
      targets: { '0': '60', '1': '50' },
      mappings: [
        {
          sourceTopic: 'orders',
          sourcePartition: 0,
          targetPartition: 0,
          ranges: [
            ['0', '0', 50],
            ['100', '50', 10],
          ],
        },
        { sourceTopic: 'orders', sourcePartition: 0, targetPartition: 1, ranges: [['50', '0', 50]] },
      ],
    });
    const { state, repairs } = loadUnit(saved, source);
    assert.equal(repairs.length, 1);
    assert.equal(
      state.targets.get(0),
      50n,
      'the records at 50..59 are found again on the target, not written twice',
    );
    assert.equal(state.targets.get(1), 50n);
    assert.deepEqual(state.mappings.get('orders/0>0')?.b.ranges(), [{ source: 0n, target: 0n, count: 50 }]);
  });

  test('a range straddling the source position is split', () => {
    const saved = stored({
      nextOffset: '7',
      targets: { '3': '107' },
      mappings: [
        { sourceTopic: 'orders', sourcePartition: 0, targetPartition: 3, ranges: [['0', '100', 10]] },
      ],
    });
    const { state } = loadUnit(saved, source);
    assert.deepEqual(state.mappings.get('orders/0>3')?.b.ranges(), [{ source: 0n, target: 100n, count: 7 }]);
    assert.equal(state.targets.get(3), 107n);
  });

  test('earlier sources of a unit are complete and kept whole; a done unit is left alone', () => {
    const saved = stored({
      sourceIndex: 1,
      nextOffset: null,
      targets: { '0': '10' },
      mappings: [{ sourceTopic: 'orders', sourcePartition: 0, targetPartition: 0, ranges: [['0', '0', 10]] }],
    });
    const { state, repairs } = loadUnit(saved, { topic: 'orders', partition: 1 });
    assert.deepEqual(repairs, []);
    assert.equal(state.mappings.get('orders/0>0')?.b.ranges()[0]?.count, 10);
    const done = loadUnit(stored({ ...saved, done: true }), undefined);
    assert.deepEqual(done.repairs, []);
  });

  test('a mapping beyond its target end is named as an inconsistency', () => {
    const state = newUnitState();
    state.targets.set(0, 5n);
    state.mappings.set('orders/0>0', {
      sourceTopic: 'orders',
      sourcePartition: 0,
      targetPartition: 0,
      b: new MappingBuilder([{ source: 0n, target: 0n, count: 6 }]),
    });
    assert.match(
      inconsistency(state) ?? '',
      /reaches target offset 5 of partition 0, but the checkpoint's end of that partition is 5/,
    );
  });
});
