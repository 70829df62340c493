import type { KafkaRecord, RecordHeader, TimestampType } from '../record.ts';
import { FormatUsageError } from './errors.ts';
import {
  ByteCursor,
  unzigzag,
  uvarintSize,
  uvarlongSize,
  writeUVarint,
  writeUVarlong,
  zigzag,
} from './varint.ts';

/**
 * The records block of a v1 segment (docs/format/v1.md §4): records back to back, each
 *   length uvarint | attributes u8 | offsetDelta uvarint | timestampDelta zigzag-varlong |
 *   keyLen uvarint (0 = null, n+1) | key | valueLen (0 = null, n+1) | value |
 *   headerCount uvarint | { keyLen uvarint | key utf-8 | valueLen (0 = null, n+1) | value }*
 * Deltas are from the previous record (the first record's offset delta is from the segment's first
 * offset, i.e. 0; its timestamp delta is from 0). Encoding writes straight into one growing buffer.
 */

const ATTR_LOG_APPEND_TIME = 0x01;
const KNOWN_ATTRS = ATTR_LOG_APPEND_TIME;
const MAX_OFFSET_DELTA = 2 ** 53 - 1;
const I64_MAX = 2n ** 63n - 1n;
const I64_MIN = -(2n ** 63n);

/** Statistics of the records in a block, as the segment header and the manifest record them. */
export interface RecordBlockStats {
  readonly recordCount: number;
  readonly firstOffset: bigint;
  readonly lastOffset: bigint;
  readonly minTimestamp: bigint;
  readonly maxTimestamp: bigint;
}

export class RecordBlockEncoder {
  private buf: Buffer;
  private pos = 0;
  private count = 0;
  private first = 0n;
  private prevOffset = 0n;
  private prevTimestamp = 0n;
  private minTs = 0n;
  private maxTs = 0n;
  private readonly headerKeyLengths: number[] = [];

  constructor(initialCapacity = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initialCapacity);
  }

  get length(): number {
    return this.pos;
  }

  get recordCount(): number {
    return this.count;
  }

  /** The offset of the last appended record, or undefined when empty. */
  get lastOffset(): bigint | undefined {
    return this.count === 0 ? undefined : this.prevOffset;
  }

  append(record: KafkaRecord): void {
    const { offset, timestamp, key, value, headers } = record;
    if (timestamp > I64_MAX || timestamp < I64_MIN) {
      throw new FormatUsageError(`record timestamp ${timestamp} is not a 64-bit value`);
    }
    let offsetDelta: number;
    if (this.count === 0) {
      if (offset < 0n || offset > I64_MAX)
        throw new FormatUsageError(`record offset ${offset} is out of range`);
      this.first = offset;
      this.prevOffset = offset;
      this.minTs = timestamp;
      this.maxTs = timestamp;
      offsetDelta = 0;
    } else {
      const delta = offset - this.prevOffset;
      if (delta <= 0n) {
        throw new FormatUsageError(
          `record offsets must increase within a segment: ${offset} follows ${this.prevOffset}`,
        );
      }
      if (delta > BigInt(MAX_OFFSET_DELTA)) throw new FormatUsageError('offset delta exceeds 2^53');
      offsetDelta = Number(delta);
      if (timestamp < this.minTs) this.minTs = timestamp;
      if (timestamp > this.maxTs) this.maxTs = timestamp;
    }
    // 64-bit wrapping difference, so any two i64 timestamps have a delta that fits 64 bits.
    let diff = timestamp - this.prevTimestamp;
    if (diff > I64_MAX || diff < I64_MIN) diff = BigInt.asIntN(64, diff);
    const tsDelta = zigzag(diff);

    // Size first, so the record's length prefix can be written before its fields.
    let size = 1 + uvarintSize(offsetDelta) + uvarlongSize(tsDelta);
    size += nullableSize(key) + nullableSize(value) + uvarintSize(headers.length);
    const keyLengths = this.headerKeyLengths;
    for (let i = 0; i < headers.length; i++) {
      const h = headers[i] as RecordHeader;
      const kl = Buffer.byteLength(h[0], 'utf8');
      keyLengths[i] = kl;
      size += uvarintSize(kl) + kl + nullableSize(h[1]);
    }
    this.ensure(uvarintSize(size) + size);

    const buf = this.buf;
    let pos = writeUVarint(buf, this.pos, size);
    buf[pos++] = record.timestampType === 'LogAppendTime' ? ATTR_LOG_APPEND_TIME : 0;
    pos = writeUVarint(buf, pos, offsetDelta);
    pos = writeUVarlong(buf, pos, tsDelta);
    pos = writeNullable(buf, pos, key);
    pos = writeNullable(buf, pos, value);
    pos = writeUVarint(buf, pos, headers.length);
    for (let i = 0; i < headers.length; i++) {
      const h = headers[i] as RecordHeader;
      const kl = keyLengths[i] as number;
      pos = writeUVarint(buf, pos, kl);
      pos += buf.write(h[0], pos, kl, 'utf8');
      pos = writeNullable(buf, pos, h[1]);
    }
    this.pos = pos;
    this.count++;
    this.prevOffset = offset;
    this.prevTimestamp = timestamp;
  }

  stats(): RecordBlockStats {
    return {
      recordCount: this.count,
      firstOffset: this.first,
      lastOffset: this.prevOffset,
      minTimestamp: this.minTs,
      maxTimestamp: this.maxTs,
    };
  }

  /** Detaches the encoded block and its stats and resets the encoder for the next segment. */
  take(): { block: Buffer; stats: RecordBlockStats } {
    const block = this.buf.subarray(0, this.pos);
    const stats = this.stats();
    this.buf = Buffer.allocUnsafe(Math.max(64 * 1024, Math.min(this.buf.length, 1 << 20)));
    this.pos = 0;
    this.count = 0;
    this.prevTimestamp = 0n;
    return { block, stats };
  }

  private ensure(extra: number): void {
    const needed = this.pos + extra;
    if (needed <= this.buf.length) return;
    let capacity = this.buf.length * 2;
    while (capacity < needed) capacity *= 2;
    const next = Buffer.allocUnsafe(capacity);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
}

function nullableSize(bytes: Uint8Array | null): number {
  return bytes === null ? 1 : uvarintSize(bytes.length + 1) + bytes.length;
}

function writeNullable(buf: Buffer, pos: number, bytes: Uint8Array | null): number {
  if (bytes === null) {
    buf[pos] = 0;
    return pos + 1;
  }
  pos = writeUVarint(buf, pos, bytes.length + 1);
  buf.set(bytes, pos);
  return pos + bytes.length;
}

/**
 * Decodes a records block. Keys, values and header values are views into `block` (no copies).
 * Throws RangeError on malformed data and Error on a mismatch with `expected`; the segment decoder
 * names the object in a CorruptObjectError.
 */
export function decodeRecordBlock(block: Uint8Array, expected: RecordBlockStats): KafkaRecord[] {
  const buf = Buffer.isBuffer(block) ? block : Buffer.from(block.buffer, block.byteOffset, block.byteLength);
  const cursor = new ByteCursor(buf, 0, buf.length);
  const records: KafkaRecord[] = new Array(expected.recordCount);
  let offset = expected.firstOffset;
  let timestamp = 0n;
  let minTs = 0n;
  let maxTs = 0n;
  for (let i = 0; i < expected.recordCount; i++) {
    const size = cursor.uvarint();
    const end = cursor.pos + size;
    if (end > cursor.end) throw new RangeError(`record ${i} runs past the end of the block`);
    const attrs = cursor.u8();
    if ((attrs & ~KNOWN_ATTRS) !== 0) throw new RangeError(`record ${i} has unknown attribute bits ${attrs}`);
    const offsetDelta = cursor.uvarint();
    if (i > 0 && offsetDelta === 0) throw new RangeError(`record ${i} does not advance the offset`);
    offset += BigInt(offsetDelta);
    timestamp += unzigzag(cursor.uvarlong());
    if (timestamp > I64_MAX || timestamp < I64_MIN) timestamp = BigInt.asIntN(64, timestamp);
    if (i === 0 || timestamp < minTs) minTs = timestamp;
    if (i === 0 || timestamp > maxTs) maxTs = timestamp;
    const key = readNullable(cursor);
    const value = readNullable(cursor);
    const headerCount = cursor.uvarint();
    const headers: RecordHeader[] = new Array(headerCount);
    for (let h = 0; h < headerCount; h++) {
      const keyLength = cursor.uvarint();
      const keyStart = cursor.pos;
      cursor.bytes(keyLength);
      const name = buf.toString('utf8', keyStart, keyStart + keyLength);
      headers[h] = [name, readNullable(cursor)];
    }
    if (cursor.pos !== end) throw new RangeError(`record ${i}'s length does not match its fields`);
    const timestampType: TimestampType = attrs & ATTR_LOG_APPEND_TIME ? 'LogAppendTime' : 'CreateTime';
    records[i] = { offset, timestamp, timestampType, key, value, headers };
  }
  if (cursor.pos !== cursor.end) throw new RangeError('bytes left after the last record');
  if (expected.recordCount > 0) {
    if (offset !== expected.lastOffset) {
      throw new RangeError(`last record offset ${offset} differs from the header's ${expected.lastOffset}`);
    }
    if (minTs !== expected.minTimestamp || maxTs !== expected.maxTimestamp) {
      throw new RangeError('record timestamps differ from the header');
    }
  }
  return records;
}

function readNullable(cursor: ByteCursor): Uint8Array | null {
  const n = cursor.uvarint();
  return n === 0 ? null : cursor.bytes(n - 1);
}
