import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeCommitted, type WireBatch } from '../../../runtime/kafka/record-batches.ts';

const TRANSACTIONAL = 1 << 4;
const CONTROL = 1 << 5;
const LOG_APPEND = 1 << 3;

function batch(
  firstOffset: bigint,
  count: number,
  options: { pid?: bigint; attrs?: number; ts?: bigint } = {},
): WireBatch {
  return {
    firstOffset,
    attributes: options.attrs ?? 0,
    lastOffsetDelta: count - 1,
    firstTimestamp: options.ts ?? 1000n,
    maxTimestamp: (options.ts ?? 1000n) + 99n,
    producerId: options.pid ?? -1n,
    records: Array.from({ length: count }, (_, i) => ({
      timestampDelta: BigInt(i),
      offsetDelta: i,
      key: Buffer.from(`k${firstOffset + BigInt(i)}`),
      value: Buffer.from('v'),
      headers: [[Buffer.from('h'), null]] as const,
    })),
  };
}

function marker(offset: bigint, pid: bigint, type: 0 | 1): WireBatch {
  return {
    firstOffset: offset,
    attributes: CONTROL | TRANSACTIONAL,
    lastOffsetDelta: 0,
    firstTimestamp: 0n,
    maxTimestamp: 0n,
    producerId: pid,
    records: [
      {
        timestampDelta: 0n,
        offsetDelta: 0,
        key: Buffer.from([0, 0, 0, type]),
        value: Buffer.alloc(6),
        headers: [],
      },
    ],
  };
}

describe('decodeCommitted (READ_COMMITTED filtering)', () => {
  test('drops aborted transactional batches and every control batch, reporting their offsets', () => {
    const batches = [
      batch(0n, 2, { pid: 7n, attrs: TRANSACTIONAL }),
      marker(2n, 7n, 1),
      batch(3n, 3, { pid: 7n, attrs: TRANSACTIONAL }),
      batch(6n, 1), // a non-transactional record interleaved
      marker(7n, 7n, 0),
      batch(8n, 2, { pid: 7n, attrs: TRANSACTIONAL }),
      marker(10n, 7n, 1),
    ];
    const out = decodeCommitted(batches, [{ producerId: 7n, firstOffset: 3n }], 0n);
    assert.deepEqual(
      out.records.map((r) => r.offset),
      [0n, 1n, 6n, 8n, 9n],
    );
    assert.deepEqual(
      out.skipped.map((s) => [s.start, s.end]),
      [
        [2n, 6n],
        [7n, 8n],
        [10n, 11n],
      ],
    );
    assert.equal(out.nextOffset, 11n);
  });

  test('a second aborted transaction of the same producer in one response is dropped too', () => {
    const batches = [
      batch(0n, 1, { pid: 3n, attrs: TRANSACTIONAL }),
      marker(1n, 3n, 0),
      batch(2n, 1, { pid: 3n, attrs: TRANSACTIONAL }),
      marker(3n, 3n, 1),
      batch(4n, 1, { pid: 3n, attrs: TRANSACTIONAL }),
      marker(5n, 3n, 0),
    ];
    const out = decodeCommitted(
      batches,
      [
        { producerId: 3n, firstOffset: 0n },
        { producerId: 3n, firstOffset: 4n },
      ],
      0n,
    );
    assert.deepEqual(
      out.records.map((r) => r.offset),
      [2n],
    );
  });

  test('records before the fetch offset are cut; LogAppendTime uses the batch max timestamp', () => {
    const out = decodeCommitted([batch(10n, 5, { attrs: LOG_APPEND, ts: 500n })], null, 12n);
    assert.deepEqual(
      out.records.map((r) => [r.offset, r.timestamp, r.timestampType]),
      [
        [12n, 599n, 'LogAppendTime'],
        [13n, 599n, 'LogAppendTime'],
        [14n, 599n, 'LogAppendTime'],
      ],
    );
    const create = decodeCommitted([batch(0n, 2, { ts: 500n })], null, 0n);
    assert.deepEqual(
      create.records.map((r) => [r.timestamp, r.timestampType]),
      [
        [500n, 'CreateTime'],
        [501n, 'CreateTime'],
      ],
    );
    assert.deepEqual(create.records[0]?.headers, [['h', null]]);
  });
});
