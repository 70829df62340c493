import fc from 'fast-check';
import type { KafkaRecord, RecordHeader } from '../../../runtime/record.ts';

const bytes = (max: number) => fc.uint8Array({ maxLength: max });
const nullableBytes = (max: number) => fc.option(bytes(max), { nil: null, freq: 4 });

export const headerArb: fc.Arbitrary<RecordHeader> = fc.tuple(
  fc.oneof(fc.constantFrom('a', 'trace-id', ''), fc.string({ unit: 'grapheme', maxLength: 12 })),
  nullableBytes(16),
);

export const i64 = fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n);

/** Records of one partition in strictly increasing offset order, with compaction-like gaps. */
export const recordsArb = (maxLength = 40): fc.Arbitrary<KafkaRecord[]> =>
  fc
    .record({
      base: fc.oneof(fc.bigInt(0n, 1000n), fc.bigInt(0n, 2n ** 62n)),
      items: fc.array(
        fc.record({
          delta: fc.oneof(fc.constant(1n), fc.bigInt(1n, 1000n), fc.bigInt(1n, 2n ** 40n)),
          timestamp: fc.oneof(fc.bigInt(1_600_000_000_000n, 1_800_000_000_000n), fc.constant(-1n), i64),
          timestampType: fc.constantFrom('CreateTime' as const, 'LogAppendTime' as const),
          key: nullableBytes(32),
          value: fc.oneof(nullableBytes(64), bytes(3000)),
          headers: fc.array(headerArb, { maxLength: 5 }),
        }),
        { minLength: 1, maxLength },
      ),
    })
    .map(({ base, items }) => {
      let offset = base - 1n;
      return items.map((it) => {
        offset += it.delta;
        return {
          offset,
          timestamp: it.timestamp,
          timestampType: it.timestampType,
          key: it.key,
          value: it.value,
          headers: it.headers,
        };
      });
    });

/** Structural equality that tells null from empty and compares bytes, not classes. */
export function sameRecords(actual: readonly KafkaRecord[], expected: readonly KafkaRecord[]): boolean {
  if (actual.length !== expected.length) return false;
  return actual.every((a, i) => {
    const e = expected[i] as KafkaRecord;
    return (
      a.offset === e.offset &&
      a.timestamp === e.timestamp &&
      a.timestampType === e.timestampType &&
      sameBytes(a.key, e.key) &&
      sameBytes(a.value, e.value) &&
      a.headers.length === e.headers.length &&
      a.headers.every(
        (h, j) =>
          h[0] === (e.headers[j] as RecordHeader)[0] && sameBytes(h[1], (e.headers[j] as RecordHeader)[1]),
      )
    );
  });
}

export function sameBytes(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  return Buffer.compare(a, b) === 0;
}
