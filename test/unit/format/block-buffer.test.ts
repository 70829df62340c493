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
import { type CommittedBatch, forLender } from '../../../runtime/kafka/record-batches.ts';

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

describe('a fetch copied straight into the segment buffer (lend)', () => {
  /** A batch of the model: its size, and whether the fetch leaves it out (aborted or a marker). */
  const batchArb = fc.record({ size: fc.integer({ min: 1, max: 6000 }), dropped: fc.boolean() });
  const fetchArb = fc.record({
    batches: fc.array(batchArb, { minLength: 1, maxLength: 12 }),
    // The first batch cut below the fetch offset: bytes of its own, recompressed maybe longer.
    cutFirst: fc.option(fc.integer({ min: -500, max: 500 }), { nil: undefined }),
    // The run's end inside the last batch: cut too, and the last one appended.
    cutLast: fc.option(fc.integer({ min: -500, max: 500 }), { nil: undefined }),
  });

  test('every segment holds exactly the kept batches, whatever is dropped, cut or sealed mid-fetch', () => {
    fc.assert(
      fc.property(
        fc.array(fetchArb, { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 1024, max: 40_000 }),
        fc.infiniteStream(fc.boolean()),
        fc.infiniteStream(fc.nat(7)),
        (fetches, maxBytes, recycleNow, records) => {
          const encoder = new BatchBlockEncoder(fullBlockCapacity(maxBytes));
          let seq = 0;
          const unique = (size: number) => {
            const b = Buffer.allocUnsafe(Math.max(1, size));
            for (let i = 0; i < b.length; i++) b[i] = (seq * 31 + i) % 251;
            seq++;
            return b;
          };
          let offset = 0;
          let expected: Buffer[] = [];
          const sealed: { block: Buffer; content: Buffer }[] = [];
          const recycleOne = () => {
            const s = sealed.shift();
            if (!s) return;
            // Nothing may have written into a sealed block before it is handed back.
            assert.ok(s.block.equals(s.content), 'a sealed block changed before it was recycled');
            encoder.recycle(s.block);
          };
          const seal = () => {
            const { block } = encoder.take();
            const content = Buffer.concat(expected);
            assert.ok(block.equals(content), 'a segment does not hold the kept batches');
            sealed.push({ block, content: Buffer.from(content) });
            expected = [];
          };
          for (const fetch of fetches) {
            const bytes = Buffer.concat(fetch.batches.map((b) => unique(b.size)));
            const region = encoder.lend(bytes.length);
            const target = region ?? Buffer.allocUnsafe(bytes.length);
            target.set(bytes);
            let at = 0;
            let batches = fetch.batches.flatMap((b) => {
              const view = target.subarray(at, at + b.size);
              at += b.size;
              return b.dropped ? [] : [{ bytes: view as Uint8Array }];
            });
            if (fetch.cutFirst !== undefined && batches[0]) {
              batches[0] = { bytes: unique(batches[0].bytes.length + fetch.cutFirst) };
            }
            if (region) {
              batches = forLender(
                batches as unknown as CommittedBatch[],
                region,
              ) as unknown as typeof batches;
            }
            // What each batch holds as fetched, before anything is appended.
            const contents = batches.map((b) => Buffer.from(b.bytes));
            for (const [i, b] of batches.entries()) {
              const last = fetch.cutLast !== undefined && i === batches.length - 1;
              const kept = last ? unique(b.bytes.length + (fetch.cutLast ?? 0)) : b.bytes;
              const { stats } = batch(offset++, 1);
              encoder.append(kept, stats);
              expected.push(last ? Buffer.from(kept) : (contents[i] as Buffer));
              // Full by bytes, or by records (maxRecords) at any point of a fetch.
              if (encoder.length >= maxBytes || records.next().value === 0) seal();
              if (recycleNow.next().value) recycleOne();
            }
            if (recycleNow.next().value) recycleOne();
          }
          if (encoder.recordCount > 0) seal();
          while (sealed.length > 0) recycleOne();
        },
      ),
      { numRuns: 300 },
    );
  });

  test("a fetch that would take the buffer past a full segment lands in the next segment's buffer", () => {
    const full = fullBlockCapacity(64 * 1024);
    const encoder = new BatchBlockEncoder(full);
    const first = batch(0, 60 * 1024);
    const lent = encoder.lend(first.bytes.length);
    assert.ok(lent);
    lent.set(first.bytes);
    encoder.append(lent, first.stats);
    // 8 KiB would fit this segment, 16 KiB would not: the region is the spare's start.
    const small = batch(1, 4 * 1024);
    const big = batch(2, 12 * 1024);
    const fetched = Buffer.concat([small.bytes, big.bytes]);
    const region = encoder.lend(fetched.length);
    assert.ok(region && region.length === fetched.length);
    region.set(fetched);
    encoder.append(region.subarray(0, small.bytes.length), small.stats); // copied here; now full
    const sealed = encoder.take();
    assert.ok(Buffer.from(sealed.block).equals(Buffer.concat([first.bytes, small.bytes])));
    assert.ok(sealed.block.buffer !== region.buffer);
    encoder.append(region.subarray(small.bytes.length), big.stats); // already in the new segment's buffer: moved down, not copied
    const next = encoder.take();
    assert.equal(next.block.buffer, region.buffer);
    assert.ok(Buffer.from(next.block).equals(big.bytes));
    // Nothing bigger than a whole segment is lent.
    assert.equal(encoder.lend(full + 1), undefined);
    assert.ok(encoder.lend(full));
  });
});

describe("releasing a finished partition's buffers", () => {
  test('release() frees the buffer and the spare; a block sealed before it is not kept as the spare', () => {
    const encoder = new BatchBlockEncoder(fullBlockCapacity(MiB));
    let offset = 0;
    const fill = () => {
      for (let n = 0; n < 20; n++) {
        const { bytes, stats } = batch(offset++, 64 * 1024);
        encoder.append(bytes, stats);
      }
    };
    fill();
    const first = encoder.take();
    encoder.recycle(first.block);
    fill();
    assert.ok(encoder.heldBytes >= 2 * MiB, `held ${encoder.heldBytes}`);
    assert.throws(() => encoder.release(), /still buffered/);
    const last = encoder.take();
    encoder.release();
    assert.equal(encoder.heldBytes, 0);
    encoder.recycle(last.block); // its compression finished after release()
    assert.equal(encoder.heldBytes, 0);
    // Still usable: appending again starts from a small buffer.
    const { bytes, stats } = batch(offset++, 100);
    encoder.append(bytes, stats);
    assert.ok(encoder.heldBytes > 0 && encoder.heldBytes < MiB);
    assert.ok(Buffer.from(encoder.take().block).equals(bytes));
  });
});
