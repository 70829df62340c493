import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { BatchBlockEncoder } from '../../../runtime/format/batch-block.ts';
import {
  fullBlockCapacity,
  grownCapacity,
  MIN_BLOCK_CAPACITY,
  nextBlockBuffer,
} from '../../../runtime/format/block-buffer.ts';

const MiB = 1024 * 1024;

/** A stand-in batch of `size` bytes holding one record at `offset` (the encoder only copies bytes). */
function batch(offset: number, size: number) {
  const o = BigInt(offset);
  return {
    bytes: Buffer.alloc(size, offset % 251),
    stats: { recordCount: 1, firstOffset: o, lastOffset: o, minTimestamp: 0n, maxTimestamp: 0n },
  };
}

describe('block buffer sizing', () => {
  test('a buffer doubles up to 1 MiB, then goes straight to a full segment, and always fits what is needed', () => {
    const full = fullBlockCapacity(16 * MiB);
    assert.equal(full, 18 * MiB);
    assert.equal(grownCapacity(64 * 1024, 64 * 1024 + 1, full), 128 * 1024);
    assert.equal(grownCapacity(MiB, MiB + 1, full), full);
    assert.equal(grownCapacity(full, full + 1, full), 2 * full);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 * MiB }),
        fc.integer({ min: 1, max: 256 * MiB }),
        fc.integer({ min: 1, max: 128 * MiB }),
        (current, extra, maxBytes) => {
          const capacity = grownCapacity(current, current + extra, fullBlockCapacity(maxBytes));
          assert.ok(capacity >= current + extra && capacity > current);
        },
      ),
    );
  });

  test('the spare is reused for a block like the last one, and a quiet partition keeps a small buffer', () => {
    const full = fullBlockCapacity(16 * MiB);
    const spare = Buffer.allocUnsafe(full);
    assert.equal(nextBlockBuffer(spare, 16 * MiB + 700_000, full), spare);
    assert.equal(nextBlockBuffer(spare, 100, full), spare);
    assert.notEqual(nextBlockBuffer(Buffer.allocUnsafe(MiB), 4 * MiB, full), spare);
    assert.equal(nextBlockBuffer(undefined, 100, full).length, MIN_BLOCK_CAPACITY);
  });

  test('a steady stream of full segments runs in two buffers, whatever each overshoots by', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 400_000 }), { minLength: 200, maxLength: 400 }),
        (sizes) => {
          const maxBytes = 4 * MiB;
          const encoder = new BatchBlockEncoder(fullBlockCapacity(maxBytes));
          const buffers = new Set<ArrayBufferLike>();
          let offset = 0;
          let blocks = 0;
          for (const size of sizes) {
            const { bytes, stats } = batch(offset++, size);
            encoder.append(bytes, stats);
            if (encoder.length < maxBytes) continue;
            const { block } = encoder.take();
            if (blocks === 0) assert.equal(block.buffer.byteLength, fullBlockCapacity(maxBytes));
            blocks++;
            buffers.add(block.buffer);
            encoder.recycle(block); // as the writer does once the segment is sealed
          }
          assert.ok(blocks >= 2, `${blocks} blocks`);
          assert.equal(buffers.size, Math.min(blocks, 2));
        },
      ),
      { numRuns: 30 },
    );
  });

  test('bytes appended across growth, take and reuse come out as they went in', () => {
    const encoder = new BatchBlockEncoder(fullBlockCapacity(2 * MiB));
    let offset = 0;
    for (let round = 0; round < 3; round++) {
      const expected: Buffer[] = [];
      for (let n = 0; n < 40; n++) {
        const { bytes, stats } = batch(offset++, 10_000 + 7_919 * n);
        expected.push(bytes);
        encoder.append(bytes, stats);
      }
      const { block, stats } = encoder.take();
      assert.deepEqual(Buffer.from(block), Buffer.concat(expected));
      assert.equal(stats.recordCount, 40);
      encoder.recycle(block);
    }
  });
});
