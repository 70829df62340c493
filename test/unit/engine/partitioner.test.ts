import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { murmur2, murmur2Partition, Repartitioner } from '../../../runtime/engine/partitioner.ts';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('murmur2', () => {
  // Vectors from Apache Kafka's clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java (testMurmur2).
  const vectors: [Uint8Array, number][] = [
    [bytes('21'), -973932308],
    [bytes('foobar'), -790332482],
    [bytes('a-little-bit-long-string'), -985981536],
    [bytes('a-little-bit-longer-string'), -1486304829],
    [bytes('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8'), -58897971],
    [new Uint8Array([0x61, 0x62, 0x63]), 479470107],
  ];
  for (const [input, expected] of vectors) {
    test(`matches the Java client for ${JSON.stringify(new TextDecoder().decode(input))}`, () => {
      assert.equal(murmur2(input), expected);
    });
  }

  test('partition is toPositive(hash) % n, like the default partitioner', () => {
    assert.equal(murmur2Partition(bytes('21'), 7), (-973932308 & 0x7fffffff) % 7);
    assert.equal(murmur2Partition(new Uint8Array(0), 3), (murmur2(new Uint8Array(0)) & 0x7fffffff) % 3);
  });
});

describe('Repartitioner', () => {
  test('null keys go round-robin under murmur2; keyed records go by hash', () => {
    const r = new Repartitioner(3, 'murmur2');
    assert.deepEqual([r.choose(null), r.choose(null), r.choose(null), r.choose(null)], [0, 1, 2, 0]);
    assert.equal(r.choose(bytes('foobar')), murmur2Partition(bytes('foobar'), 3));
  });

  test('round-robin resumes from a saved position', () => {
    const r = new Repartitioner(4, 'round-robin', 2);
    assert.deepEqual([r.choose(bytes('x')), r.choose(null), r.choose(null)], [2, 3, 0]);
    assert.equal(r.roundRobinPosition, 1);
  });
});
