import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { crc32c } from '@node-rs/crc32';
import fc from 'fast-check';
import { BatchBlockEncoder, decodeBatchBlock } from '../../../runtime/format/batch-block.ts';
import { crc32cPatched } from '../../../runtime/format/crc32c-patch.ts';
import {
  BATCH_HEADER_LENGTH,
  type BatchCodec,
  batchCrcValid,
  batchStats,
  batchStatsByWalk,
  COMPRESSION_MASK,
  compressBatch,
  decodeBatchRecords,
  encodeBatch,
  readBatchHeader,
  recordsBytes,
  sliceBatch,
  splitBatch,
  stampCrc,
  stampForProduce,
  TRANSACTIONAL,
} from '../../../runtime/format/kafka-batch.ts';
import { gatherRecords } from '../../../runtime/kafka/raw-fetch.ts';
import { committedBatches, DamagedBatchError, forLender } from '../../../runtime/kafka/record-batches.ts';
import type { KafkaRecord } from '../../../runtime/record.ts';
import { GOLDEN_RECORDS } from '../../fixtures/format/golden-records.ts';
import { recordsArb, sameRecords } from './arbitraries.ts';

const codecs: BatchCodec[] = ['gzip', 'snappy', 'lz4', 'zstd'];

/** A Kafka batch holds one timestamp type, offsets within 2^31 of its base, timestamps within i64. */
const batchRecordsArb = recordsArb(30).map((records) => {
  const type = records[0]?.timestampType ?? 'CreateTime';
  const base = records[0]?.offset ?? 0n;
  return records
    .filter((r) => r.offset - base < 2n ** 31n)
    .map((r): KafkaRecord => {
      const timestamp =
        r.timestamp < -(2n ** 40n) || r.timestamp > 2n ** 50n ? 1_700_000_000_000n : r.timestamp;
      return { ...r, timestampType: type, timestamp };
    });
});

/** Contiguous CreateTime records from `base`, as a producer writes them (what restore splits). */
const producedArb = batchRecordsArb.map((records) =>
  records.map((r, i): KafkaRecord => ({ ...r, offset: 1000n + BigInt(i), timestampType: 'CreateTime' })),
);

/** What a LogAppendTime batch gives back: every record carries the batch's (max) timestamp. */
function asStored(records: readonly KafkaRecord[]): KafkaRecord[] {
  if (records[0]?.timestampType !== 'LogAppendTime') return [...records];
  const max = records.reduce((m, r) => (r.timestamp > m ? r.timestamp : m), records[0].timestamp);
  return records.map((r) => ({ ...r, timestamp: max }));
}

function header(batch: Buffer) {
  const h = readBatchHeader(batch);
  assert.ok(h, 'a whole batch');
  return h;
}

describe('Kafka record batches', () => {
  test('encode -> decode keeps every record exactly, offsets with their gaps', () => {
    fc.assert(
      fc.property(batchRecordsArb, (records) => {
        const batch = encodeBatch(records);
        const h = header(batch);
        assert.ok(batchCrcValid(batch, h));
        assert.ok(sameRecords(decodeBatchRecords(batch, h), asStored(records)));
        const stats = batchStats(batch, h);
        assert.equal(stats.recordCount, records.length);
        assert.equal(stats.firstOffset, records[0]?.offset);
        assert.equal(stats.lastOffset, records.at(-1)?.offset);
        const payload = records.reduce(
          (n, r) =>
            n +
            (r.key?.length ?? 0) +
            (r.value?.length ?? 0) +
            r.headers.reduce((m, [k, v]) => m + Buffer.byteLength(k) + (v?.length ?? 0), 0),
          0,
        );
        assert.equal(stats.payloadBytes, payload);
        // The one-pass numbers agree with the bigint walk, and with the records' own timestamps.
        assert.deepEqual(stats, batchStatsByWalk(recordsBytes(batch, h), h));
        const timestamps = decodeBatchRecords(batch, h).map((r) => r.timestamp);
        assert.equal(
          stats.minTimestamp,
          timestamps.reduce((a, b) => (b < a ? b : a)),
        );
        assert.equal(
          stats.maxTimestamp,
          timestamps.reduce((a, b) => (b > a ? b : a)),
        );
      }),
      { numRuns: 400 },
    );
  });

  for (const codec of codecs) {
    test(`a ${codec}-compressed batch decodes to the same records, and its stats need no re-encoding`, () => {
      const plain = encodeBatch(GOLDEN_RECORDS.slice(0, 3));
      const compressed = compressBatch(plain, codec);
      const h = header(compressed);
      assert.notEqual(h.attributes & COMPRESSION_MASK, 0);
      assert.ok(batchCrcValid(compressed, h));
      assert.ok(sameRecords(decodeBatchRecords(compressed, h), GOLDEN_RECORDS.slice(0, 3)));
      assert.deepEqual(batchStats(compressed, h), batchStats(plain, header(plain)));
    });
  }

  test('the compaction holes inside a batch are reported', () => {
    const batch = encodeBatch(GOLDEN_RECORDS.slice(0, 3)); // offsets 100, 101, 110
    assert.deepEqual(batchStats(batch, header(batch)).holes, [{ start: 102n, end: 110n }]);
  });

  test('stats take the minimum timestamp over the records, not the first', () => {
    const batch = encodeBatch(GOLDEN_RECORDS.slice(0, 3));
    const stats = batchStats(batch, header(batch));
    assert.equal(stats.minTimestamp, 1_699_999_999_000n);
    assert.equal(stats.maxTimestamp, 1_700_000_000_500n);
  });

  for (const codec of [undefined, ...codecs]) {
    test(`slicing a ${codec ?? 'plain'} batch keeps the records in range, uncompressed, with a valid CRC`, () => {
      const records = Array.from(
        { length: 10 },
        (_, i): KafkaRecord => ({
          offset: 50n + BigInt(i),
          timestamp: 1_000n + BigInt((i * 7) % 5),
          timestampType: 'CreateTime',
          key: Buffer.from(`k${i}`),
          value: Buffer.from(`v${i}`),
          headers: [['h', Buffer.from([i])]],
        }),
      );
      const plain = encodeBatch(records);
      const batch = codec ? compressBatch(plain, codec) : plain;
      const cut = sliceBatch(batch, header(batch), 53n, 57n);
      assert.ok(cut);
      assert.equal(cut.header.attributes & COMPRESSION_MASK, 0);
      assert.ok(batchCrcValid(cut.bytes, cut.header));
      assert.equal(cut.header.baseOffset, 50n, 'the base stays, so offset deltas keep their meaning');
      assert.ok(sameRecords(decodeBatchRecords(cut.bytes, cut.header), records.slice(3, 7)));
      const expectedMax = records.slice(3, 7).reduce((m, r) => (r.timestamp > m ? r.timestamp : m), 0n);
      assert.equal(cut.header.maxTimestamp, expectedMax);
      assert.equal(sliceBatch(batch, header(batch), 60n, 70n), undefined);
    });
  }

  test('splitting a batch gives batches of at most n records, as a producer writes them, records unchanged', () => {
    fc.assert(
      fc.property(
        producedArb.filter((r) => r.length > 0),
        fc.integer({ min: 1, max: 12 }),
        fc.constantFrom(undefined, ...codecs),
        (records, n, codec) => {
          const plain = encodeBatch(records);
          const batch = codec ? compressBatch(plain, codec) : plain;
          const pieces = splitBatch(batch, header(batch), n);
          assert.equal(pieces.length, Math.ceil(records.length / n));
          const back: KafkaRecord[] = [];
          for (const [i, piece] of pieces.entries()) {
            const h = piece.header;
            assert.ok(batchCrcValid(piece.bytes, h));
            assert.equal(
              h.attributes & COMPRESSION_MASK,
              batch.readInt16BE(21) & COMPRESSION_MASK,
              'codec kept',
            );
            assert.equal(h.recordCount, Math.min(n, records.length - i * n));
            assert.equal(h.lastOffsetDelta, h.recordCount - 1, 'offset deltas 0..n-1');
            assert.equal(h.baseOffset, records[i * n]?.offset);
            const stats = batchStats(piece.bytes, h);
            assert.equal(h.maxTimestamp, stats.maxTimestamp);
            assert.deepEqual(piece.stats, stats, 'the stats it gives are what the piece holds');
            back.push(...decodeBatchRecords(piece.bytes, h));
          }
          assert.ok(sameRecords(back, records));
        },
      ),
    );
  });
});

describe('re-stamping a batch for the producer that restores it', () => {
  test('the patched CRC-32C equals one computed over all the bytes, for any change of a prefix', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 40 }),
        fc.uint8Array({ maxLength: 5000 }),
        fc.uint8Array({ minLength: 40, maxLength: 40 }),
        (before, rest, replacement) => {
          const after = replacement.subarray(0, before.length);
          const patched = crc32cPatched(crc32c(Buffer.concat([before, rest])), before, after, rest.length);
          assert.equal(patched, crc32c(Buffer.concat([after, rest])));
        },
      ),
      { numRuns: 500 },
    );
  });

  test('stamps id, epoch, sequence, base offset and leader epoch, clears the transactional bit, keeps records', () => {
    fc.assert(
      fc.property(
        producedArb.filter((r) => r.length > 0),
        fc.constantFrom(undefined, ...codecs),
        fc.record({
          producerId: fc.bigInt(-1n, 2n ** 63n - 1n),
          producerEpoch: fc.integer({ min: -1, max: 32767 }),
          baseSequence: fc.integer({ min: -1, max: 2 ** 31 - 1 }),
        }),
        fc.boolean(),
        (records, codec, stamp, transactional) => {
          const plain = encodeBatch(records);
          const batch = codec ? compressBatch(plain, codec) : plain;
          batch.writeBigInt64BE(123n, 0);
          batch.writeInt32BE(7, 12);
          if (transactional) batch.writeInt16BE(batch.readInt16BE(21) | TRANSACTIONAL, 21);
          batch.writeBigInt64BE(42n, 43);
          stampCrc(batch);
          stampForProduce(batch, stamp);
          const h = header(batch);
          assert.ok(batchCrcValid(batch, h), 'the CRC matches the stamped bytes');
          assert.equal(h.baseOffset, 0n);
          assert.equal(batch.readInt32BE(12), -1, 'no leader epoch');
          assert.equal(h.attributes & TRANSACTIONAL, 0);
          assert.equal(h.producerId, stamp.producerId);
          assert.equal(h.producerEpoch, stamp.producerEpoch);
          assert.equal(h.baseSequence, stamp.baseSequence);
          // The broker numbers them from the partition's end: here they read from base offset 0.
          const renumbered = records.map((r, i) => ({ ...r, offset: BigInt(i) }));
          assert.ok(sameRecords(decodeBatchRecords(batch, h), renumbered));
        },
      ),
    );
  });
});

describe('committedBatches (READ_COMMITTED per batch, batches kept whole)', () => {
  const rec = (offset: bigint, value: string): KafkaRecord => ({
    offset,
    timestamp: 1_000n + offset,
    timestampType: 'CreateTime',
    key: null,
    value: Buffer.from(value),
    headers: [],
  });
  /** A transactional or control batch: attributes and producer id set, CRC stamped again. */
  const flagged = (batch: Buffer, attributes: number, producerId: bigint): Buffer => {
    batch.writeInt16BE(attributes, 21);
    batch.writeBigInt64BE(producerId, 43);
    stampCrc(batch);
    return batch;
  };
  const marker = (offset: bigint, producerId: bigint, type: 0 | 1): Buffer => {
    const key = Buffer.from([0, 0, 0, type]);
    const batch = encodeBatch([{ ...rec(offset, ''), key, value: Buffer.from([0, 0, 0, 0, 0, 0]) }]);
    return flagged(batch, (1 << 4) | (1 << 5), producerId);
  };

  test('keeps committed batches byte for byte, drops aborted ones and markers as skipped ranges', () => {
    const plain = encodeBatch([rec(0n, 'a'), rec(1n, 'b')]);
    const aborted = flagged(encodeBatch([rec(2n, 'x'), rec(3n, 'y')]), 1 << 4, 7n);
    const abort = marker(4n, 7n, 0);
    const committed = flagged(encodeBatch([rec(5n, 'c')]), 1 << 4, 8n);
    const commit = marker(6n, 8n, 1);
    const tail = compressBatch(encodeBatch([rec(7n, 'd'), rec(8n, 'e')]), 'zstd');
    const bytes = Buffer.concat([plain, aborted, abort, committed, commit, tail]);
    const got = committedBatches(bytes, [{ producerId: 7n, firstOffset: 2n }], 0n);
    assert.equal(got.batches.length, 3);
    assert.ok(Buffer.from(got.batches[0]?.bytes as Uint8Array).equals(plain));
    assert.ok(Buffer.from(got.batches[1]?.bytes as Uint8Array).equals(committed));
    assert.ok(
      Buffer.from(got.batches[2]?.bytes as Uint8Array).equals(tail),
      'the producer compression is kept',
    );
    assert.deepEqual(got.skipped, [
      { start: 2n, end: 5n, reason: 'transaction-markers' },
      { start: 6n, end: 7n, reason: 'transaction-markers' },
    ]);
    assert.equal(got.records, 5);
    assert.equal(got.nextOffset, 9n);
    assert.equal(got.bytes, plain.length + committed.length + tail.length);
  });

  test('a batch starting below the fetch offset is cut; a batch cut short by maxBytes waits for the next fetch', () => {
    const first = encodeBatch([rec(0n, 'a'), rec(1n, 'b'), rec(2n, 'c')]);
    const second = encodeBatch([rec(3n, 'd')]);
    const bytes = Buffer.concat([first, second.subarray(0, second.length - 2)]);
    const got = committedBatches(bytes, null, 1n);
    assert.equal(got.batches.length, 1);
    assert.equal(got.batches[0]?.stats.firstOffset, 1n);
    assert.equal(got.batches[0]?.stats.recordCount, 2);
    assert.equal(got.nextOffset, 3n);
  });

  test('a fetch gathered into a lent segment buffer keeps its batches there, verified, byte for byte', () => {
    const cutBelow = compressBatch(encodeBatch([rec(0n, 'a'), rec(1n, 'b'), rec(2n, 'c')]), 'zstd');
    const aborted = flagged(encodeBatch([rec(3n, 'x')]), 1 << 4, 7n);
    const abort = marker(4n, 7n, 0);
    const kept = encodeBatch([rec(5n, 'd'), rec(6n, 'e')]);
    const tail = compressBatch(encodeBatch([rec(7n, 'f')]), 'lz4');
    const fetched = Buffer.concat([cutBelow, aborted, abort, kept, tail]);
    // As the socket delivered it: in chunks that split batches anywhere.
    const chunks = [fetched.subarray(0, 10), fetched.subarray(10, 150), fetched.subarray(150)];
    const encoder = new BatchBlockEncoder();
    let lent: Uint8Array | undefined;
    const { bytes, lent: wasLent } = gatherRecords(chunks, (length) => {
      lent = encoder.lend(length);
      return lent;
    });
    assert.ok(wasLent && bytes === lent && Buffer.from(bytes).equals(fetched));
    const got = committedBatches(bytes, [{ producerId: 7n, firstOffset: 3n }], 1n);
    const batches = forLender(got.batches, bytes);
    // The cut batch has bytes of its own; the views after it are copied out of the lent region.
    assert.ok(batches.every((b) => b.bytes.buffer !== bytes.buffer));
    for (const b of batches) encoder.append(b.bytes, b.stats);
    const { block, stats } = encoder.take();
    const records = decodeBatchBlock(block, stats);
    assert.deepEqual(
      records.map((r) => [r.offset, Buffer.from(r.value ?? []).toString()]),
      [
        [1n, 'b'],
        [2n, 'c'],
        [5n, 'd'],
        [6n, 'e'],
        [7n, 'f'],
      ],
    );
    assert.ok(
      Buffer.from(block)
        .subarray(block.length - kept.length - tail.length)
        .equals(Buffer.concat([kept, tail])),
    );

    // Without a cut, kept batches stay where the fetch put them (moved down over the ones left out).
    const again = new BatchBlockEncoder();
    const region = gatherRecords([fetched.subarray(cutBelow.length, 200), fetched.subarray(200)], (n) =>
      again.lend(n),
    );
    const plain = forLender(
      committedBatches(region.bytes, [{ producerId: 7n, firstOffset: 3n }], 3n).batches,
      region.bytes,
    );
    assert.ok(plain.every((b) => b.bytes.buffer === region.bytes.buffer));
    for (const b of plain) again.append(b.bytes, b.stats);
    assert.ok(Buffer.from(again.take().block).equals(Buffer.concat([kept, tail])));
  });

  test('gathering: one chunk is used as it is; without a lender the bytes get a buffer of their own', () => {
    const one = Buffer.from('abc');
    assert.deepEqual(
      gatherRecords([one], () => assert.fail('nothing to copy')),
      { bytes: one, lent: false },
    );
    const two = gatherRecords([Buffer.from('ab'), Buffer.from('cd')]);
    assert.equal(two.lent, false);
    assert.equal(Buffer.from(two.bytes).toString(), 'abcd');
    assert.throws(() => gatherRecords([one, one], () => Buffer.alloc(5)), /lent region of 5 bytes for 6/);
  });

  test('gathering bytes read into memory that is read into again: one chunk is copied too', () => {
    const one = Buffer.from('abc');
    const region = Buffer.alloc(3);
    const lent = gatherRecords([one], () => region, true);
    assert.equal(lent.bytes, region);
    assert.equal(lent.lent, true);
    const own = gatherRecords([one], undefined, true);
    assert.equal(own.lent, false);
    one.fill(0); // the socket reads into it again
    assert.equal(Buffer.from(own.bytes).toString(), 'abc');
    assert.equal(region.toString(), 'abc');
  });

  test('a batch damaged on the way is refused, never stored', () => {
    const batch = encodeBatch([rec(0n, 'payload')]);
    batch.writeUInt8((batch.readUInt8(BATCH_HEADER_LENGTH + 5) ^ 0xff) & 0xff, BATCH_HEADER_LENGTH + 5);
    assert.throws(() => committedBatches(batch, null, 0n), DamagedBatchError);
  });
});
