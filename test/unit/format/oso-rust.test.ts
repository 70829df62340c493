import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { CorruptObjectError } from '../../../runtime/format/index.ts';
import { decodeOsoSegment, stripInjected } from '../../../runtime/format/legacy/oso-segment.ts';
import type { KafkaRecord } from '../../../runtime/record.ts';
import { le64, type OsoRecord, osoSegment } from '../../fixtures/format/oso-rust-builder.ts';
import { recordsArb, sameRecords } from './arbitraries.ts';

/** What the Rust tool can store of a record: no null header values, no timestamp type. */
function asStored(records: KafkaRecord[], inject: boolean): OsoRecord[] {
  return records.map((r) => ({
    offset: r.offset,
    timestamp: r.timestamp,
    key: r.key && Buffer.from(r.key),
    value: r.value && Buffer.from(r.value),
    headers: [
      ...r.headers.map(([k, v]): [string, Buffer] => [k, Buffer.from(v ?? new Uint8Array(0))]),
      ...(inject
        ? ([
            ['x-original-offset', le64(r.offset)],
            ['x-original-timestamp', le64(r.timestamp)],
          ] as [string, Buffer][])
        : []),
    ],
  }));
}

function expected(records: KafkaRecord[]): KafkaRecord[] {
  return records.map((r) => ({
    ...r,
    timestampType: 'CreateTime',
    headers: r.headers.map(([k, v]) => [k, v ?? new Uint8Array(0)] as const),
  }));
}

describe('Rust tool segments (KBAK)', () => {
  test('any records written the way the Rust tool writes them decode to what it kept', () => {
    fc.assert(
      fc.property(
        recordsArb(20).map((rs) => rs.filter((r) => !r.headers.some(([k]) => k.startsWith('x-original')))),
        fc.constantFrom('none' as const, 'zstd' as const, 'lz4' as const),
        fc.boolean(),
        (records, compression, inject) => {
          fc.pre(records.length > 0);
          const bytes = osoSegment(asStored(records, inject), compression);
          const { header, records: decoded } = decodeOsoSegment(bytes, 'seg.bin');
          assert.equal(header?.compression, compression);
          assert.ok(sameRecords(decoded, expected(records)));
        },
      ),
      { numRuns: 150 },
    );
  });

  test('a user header named x-original-offset is kept unless it is the trailing injected one with this offset', () => {
    const base = { offset: 5n, timestamp: 1n, timestampType: 'CreateTime' as const, key: null, value: null };
    const own = { ...base, headers: [['x-original-offset', le64(99n)] as const] };
    assert.equal(stripInjected(own).headers.length, 1);
    const notTrailing = {
      ...base,
      headers: [['x-original-offset', le64(5n)] as const, ['app', Buffer.from('a')] as const],
    };
    assert.equal(stripInjected(notTrailing).headers.length, 2);
    const injected = {
      ...base,
      headers: [
        ['app', Buffer.from('a')] as const,
        ['x-original-offset', le64(5n)] as const,
        ['x-source-cluster', Buffer.from('c')] as const,
      ],
    };
    assert.deepEqual(
      stripInjected(injected).headers.map(([k]) => k),
      ['app'],
    );
  });

  test('stripping can be turned off', () => {
    const rs: KafkaRecord[] = [
      { offset: 1n, timestamp: 2n, timestampType: 'CreateTime', key: null, value: null, headers: [] },
    ];
    const { records } = decodeOsoSegment(osoSegment(asStored(rs, true), 'none'), 'k', {
      stripInjectedHeaders: false,
    });
    assert.deepEqual(
      records[0]?.headers.map(([k]) => k),
      ['x-original-offset', 'x-original-timestamp'],
    );
  });

  test('truncation anywhere is named', () => {
    const rs: KafkaRecord[] = [
      {
        offset: 1n,
        timestamp: 2n,
        timestampType: 'CreateTime',
        key: null,
        value: Buffer.from('v'),
        headers: [],
      },
    ];
    const bytes = osoSegment(asStored(rs, true), 'zstd');
    for (let cut = 0; cut < bytes.length; cut++) {
      assert.throws(
        () => decodeOsoSegment(bytes.subarray(0, cut), 'oso/k.bin.zst'),
        (e: unknown) => e instanceof CorruptObjectError && e.key === 'oso/k.bin.zst',
        `cut at ${cut}`,
      );
    }
  });
});
