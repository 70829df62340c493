import type { KafkaRecord, RecordHeader, TimestampType } from '../record.ts';
import {
  DEFAULT_SEGMENT_MAX_BYTES,
  fullBlockCapacity,
  grownCapacity,
  MIN_BLOCK_CAPACITY,
  nextBlockBuffer,
  recyclable,
} from './block-buffer.ts';
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
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const MAX_OFFSET_DELTA_BIG = BigInt(MAX_OFFSET_DELTA);
const TWO_52 = 2 ** 52;
const MAX_SAFE_BIG = BigInt(Number.MAX_SAFE_INTEGER);
/** Shared by every decoded record without headers (it is never mutated). */
const NO_HEADERS: readonly RecordHeader[] = Object.freeze([]);

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
  private prevOffsetNum = 0;
  private prevTsNum = 0;
  private readonly headerKeyBytes: Buffer[] = [];
  private readonly keyCache = new Map<string, Buffer>();
  private spare: Buffer | undefined;

  /** `fullCapacity`: what a full segment needs (fullBlockCapacity of the writer's maxBytes). */
  constructor(
    initialCapacity = MIN_BLOCK_CAPACITY,
    private readonly fullCapacity = fullBlockCapacity(DEFAULT_SEGMENT_MAX_BYTES),
  ) {
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
    // Number fast paths: offsets and millisecond timestamps are far below 2^53 in practice, and
    // bigint arithmetic allocates. The bigint paths keep every 64-bit value exact.
    const o = Number(offset);
    const t = Number(timestamp);
    let offsetDelta: number;
    if (this.count === 0) {
      if (offset < 0n || offset > I64_MAX)
        throw new FormatUsageError(`record offset ${offset} is out of range`);
      this.first = offset;
      this.minTs = timestamp;
      this.maxTs = timestamp;
      offsetDelta = 0;
    } else {
      if (o <= MAX_SAFE && this.prevOffsetNum <= MAX_SAFE) {
        offsetDelta = o - this.prevOffsetNum;
      } else {
        const delta = offset - this.prevOffset;
        offsetDelta = delta > MAX_OFFSET_DELTA_BIG ? Number.POSITIVE_INFINITY : Number(delta);
      }
      if (!(offsetDelta > 0)) {
        throw new FormatUsageError(
          `record offsets must increase within a segment: ${offset} follows ${this.prevOffset}`,
        );
      }
      if (offsetDelta > MAX_SAFE) throw new FormatUsageError('offset delta exceeds 2^53');
      if (timestamp < this.minTs) this.minTs = timestamp;
      else if (timestamp > this.maxTs) this.maxTs = timestamp;
    }
    let tsDelta: number | bigint;
    const d = t - this.prevTsNum;
    if (Number.isSafeInteger(t) && Number.isSafeInteger(this.prevTsNum) && d < TWO_52 && d > -TWO_52) {
      tsDelta = d >= 0 ? d * 2 : -d * 2 - 1;
    } else {
      if (timestamp > I64_MAX || timestamp < I64_MIN) {
        throw new FormatUsageError(`record timestamp ${timestamp} is not a 64-bit value`);
      }
      // 64-bit wrapping difference, so any two i64 timestamps have a delta that fits 64 bits.
      let diff = timestamp - this.prevTimestamp;
      if (diff > I64_MAX || diff < I64_MIN) diff = BigInt.asIntN(64, diff);
      tsDelta = zigzag(diff);
    }

    // Size first, so the record's length prefix can be written before its fields.
    let size =
      1 +
      uvarintSize(offsetDelta) +
      (typeof tsDelta === 'number' ? uvarintSize(tsDelta) : uvarlongSize(tsDelta));
    size += nullableSize(key) + nullableSize(value) + uvarintSize(headers.length);
    const keyBytes = this.headerKeyBytes;
    for (let i = 0; i < headers.length; i++) {
      const h = headers[i] as RecordHeader;
      const kb = this.encodeKey(h[0]);
      keyBytes[i] = kb;
      size += uvarintSize(kb.length) + kb.length + nullableSize(h[1]);
    }
    this.ensure(uvarintSize(size) + size);

    const buf = this.buf;
    let pos = writeUVarint(buf, this.pos, size);
    buf[pos++] = record.timestampType === 'LogAppendTime' ? ATTR_LOG_APPEND_TIME : 0;
    pos = writeUVarint(buf, pos, offsetDelta);
    pos = typeof tsDelta === 'number' ? writeUVarint(buf, pos, tsDelta) : writeUVarlong(buf, pos, tsDelta);
    pos = writeNullable(buf, pos, key);
    pos = writeNullable(buf, pos, value);
    pos = writeUVarint(buf, pos, headers.length);
    for (let i = 0; i < headers.length; i++) {
      const kb = keyBytes[i] as Buffer;
      pos = writeUVarint(buf, pos, kb.length);
      pos = copyBytes(buf, pos, kb);
      pos = writeNullable(buf, pos, (headers[i] as RecordHeader)[1]);
    }
    this.pos = pos;
    this.count++;
    this.prevOffset = offset;
    this.prevOffsetNum = o;
    this.prevTimestamp = timestamp;
    this.prevTsNum = t;
  }

  /** UTF-8 of a header key; header keys repeat, so they are cached (bounded). */
  private encodeKey(k: string): Buffer {
    let b = this.keyCache.get(k);
    if (b === undefined) {
      b = Buffer.from(k, 'utf8');
      if (this.keyCache.size < 4096) this.keyCache.set(k, b);
    }
    return b;
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
    this.buf = nextBlockBuffer(this.spare, block.length, this.fullCapacity);
    this.spare = undefined;
    this.pos = 0;
    this.count = 0;
    this.prevTimestamp = 0n;
    this.prevTsNum = 0;
    return { block, stats };
  }

  /**
   * Hands back a block from take() once nothing reads it any more (it has been compressed or copied
   * into the segment object), so the next segment reuses its memory instead of allocating anew.
   */
  recycle(block: Uint8Array): void {
    this.spare = recyclable(block, this.buf) ?? this.spare;
  }

  private ensure(extra: number): void {
    const needed = this.pos + extra;
    if (needed <= this.buf.length) return;
    const next = Buffer.allocUnsafe(grownCapacity(this.buf.length, needed, this.fullCapacity));
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
  return copyBytes(buf, writeUVarint(buf, pos, bytes.length + 1), bytes);
}

/** TypedArray.set has a fixed cost that dominates for the short keys and headers most records carry. */
function copyBytes(buf: Buffer, pos: number, bytes: Uint8Array): number {
  const n = bytes.length;
  if (n < 32) {
    for (let i = 0; i < n; i++) buf[pos + i] = bytes[i] as number;
  } else {
    buf.set(bytes, pos);
  }
  return pos + n;
}

/**
 * Decodes a records block. Keys, values and header values are views into `block` (no copies).
 * Throws RangeError on malformed data and Error on a mismatch with `expected`; the segment decoder
 * names the object in a CorruptObjectError.
 */
export function decodeRecordBlock(block: Uint8Array, expected: RecordBlockStats): KafkaRecord[] {
  const buf = Buffer.isBuffer(block) ? block : Buffer.from(block.buffer, block.byteOffset, block.byteLength);
  // A record takes at least 7 bytes: refuse impossible counts before allocating for them.
  if (expected.recordCount * 7 > buf.length)
    throw new RangeError(`${expected.recordCount} records cannot fit ${buf.length} bytes`);
  const cursor = new ByteCursor(buf, 0, buf.length);
  const records: KafkaRecord[] = new Array(expected.recordCount);
  // Offsets and timestamps are tracked as Numbers while exact (one BigInt per value instead of
  // several); the bigint path takes over past 2^53.
  let offset = expected.firstOffset;
  let offsetNum = Number(offset);
  const offsetsSafe = expected.lastOffset <= MAX_SAFE_BIG;
  let timestamp = 0n;
  let tsNum = 0;
  let tsSafe = true;
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
    if (offsetsSafe) {
      offsetNum += offsetDelta;
      if (offsetNum > MAX_SAFE) throw new RangeError(`record ${i}'s offset passes the header's last offset`);
      offset = offsetDelta === 0 ? offset : BigInt(offsetNum);
    } else {
      offset += BigInt(offsetDelta);
    }
    const z = cursor.zigzagVarlong();
    if (typeof z === 'number' && tsSafe) {
      const next = tsNum + (z % 2 === 1 ? -(z + 1) / 2 : z / 2);
      if (Number.isSafeInteger(next)) {
        tsNum = next;
        timestamp = BigInt(next);
      } else {
        timestamp = BigInt.asIntN(64, timestamp + unzigzag(BigInt(z)));
        tsNum = Number(timestamp);
        tsSafe = Number.isSafeInteger(tsNum);
      }
    } else {
      timestamp = BigInt.asIntN(64, timestamp + unzigzag(BigInt(z)));
      tsNum = Number(timestamp);
      tsSafe = Number.isSafeInteger(tsNum);
    }
    if (i === 0 || timestamp < minTs) minTs = timestamp;
    if (i === 0 || timestamp > maxTs) maxTs = timestamp;
    const key = readNullable(cursor);
    const value = readNullable(cursor);
    const headerCount = cursor.uvarint();
    const headers: RecordHeader[] =
      headerCount === 0 ? (NO_HEADERS as RecordHeader[]) : new Array(headerCount);
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
