import { crc32c } from '@node-rs/crc32';
import { compressionsAlgorithmsByBitmask } from '@platformatic/kafka';
import type { KafkaRecord, RecordHeader, TimestampType } from '../record.ts';
import { crc32cPatched } from './crc32c-patch.ts';
import { ByteCursor, unzigzag } from './varint.ts';

/**
 * Kafka's record batch (magic 2), the unit v2 segments store as the broker sent it
 * (docs/format/v2.md §3). Big-endian, as on the wire:
 *
 *   baseOffset i64 | batchLength i32 | partitionLeaderEpoch i32 | magic i8 = 2 | crc u32 (CRC-32C of
 *   everything after it) | attributes i16 | lastOffsetDelta i32 | baseTimestamp i64 | maxTimestamp i64 |
 *   producerId i64 | producerEpoch i16 | baseSequence i32 | recordCount i32 | records
 *
 * Records (compressed as a whole when attributes' low 3 bits are set) use zigzag varints:
 *   length | attributes i8 | timestampDelta varlong | offsetDelta varint | key | value | headers
 */

/** Bytes before the records: the batch header. */
export const BATCH_HEADER_LENGTH = 61;
/** baseOffset and batchLength precede what batchLength counts. */
const LENGTH_PREFIX = 12;
/** The CRC covers the bytes from attributes on. */
const CRC_START = 21;
const MAGIC_OFFSET = 16;
const CRC_OFFSET = 17;
const ATTRIBUTES_OFFSET = 21;
const LAST_OFFSET_DELTA_OFFSET = 23;
const BASE_TIMESTAMP_OFFSET = 27;
const MAX_TIMESTAMP_OFFSET = 35;
const PRODUCER_ID_OFFSET = 43;
const PRODUCER_EPOCH_OFFSET = 51;
const BASE_SEQUENCE_OFFSET = 53;
const RECORD_COUNT_OFFSET = 57;
/** The end of the header fields a produce re-stamps inside the CRC's range (attributes to base sequence). */
const STAMPED_END = RECORD_COUNT_OFFSET;

export const COMPRESSION_MASK = 0x07;
export const LOG_APPEND_TIME = 1 << 3;
export const TRANSACTIONAL = 1 << 4;
export const CONTROL = 1 << 5;

export interface BatchHeader {
  readonly baseOffset: bigint;
  /** Bytes of the whole batch, header included. */
  readonly size: number;
  readonly magic: number;
  readonly crc: number;
  readonly attributes: number;
  readonly lastOffsetDelta: number;
  readonly baseTimestamp: bigint;
  readonly maxTimestamp: bigint;
  readonly producerId: bigint;
  readonly producerEpoch: number;
  readonly baseSequence: number;
  readonly recordCount: number;
}

/** What a segment's header and the manifest say of the records of a batch (or of many). */
export interface BatchStats {
  readonly recordCount: number;
  readonly firstOffset: bigint;
  readonly lastOffset: bigint;
  readonly minTimestamp: bigint;
  readonly maxTimestamp: bigint;
}

/** What backup learns of a batch besides its stats, from one walk over its records. */
export interface BatchSummary {
  /** Offset ranges [start, end) inside the batch with no record (the log cleaner removed them). */
  readonly holes: readonly { readonly start: bigint; readonly end: bigint }[];
  /** Bytes of the records' keys, values and headers: what metrics and rate limits count. */
  readonly payloadBytes: number;
}

export class BatchFormatError extends RangeError {
  override readonly name = 'BatchFormatError';
}

function view(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The header of the batch at `pos`, or undefined when fewer bytes than the whole batch remain. */
export function readBatchHeader(bytes: Uint8Array, pos = 0): BatchHeader | undefined {
  const b = view(bytes);
  if (b.length - pos < LENGTH_PREFIX) return undefined;
  const size = b.readInt32BE(pos + 8) + LENGTH_PREFIX;
  if (size < BATCH_HEADER_LENGTH || b.length - pos < size) return undefined;
  return {
    baseOffset: b.readBigInt64BE(pos),
    size,
    magic: b.readInt8(pos + MAGIC_OFFSET),
    crc: b.readUInt32BE(pos + CRC_OFFSET),
    attributes: b.readInt16BE(pos + ATTRIBUTES_OFFSET),
    lastOffsetDelta: b.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET),
    baseTimestamp: b.readBigInt64BE(pos + BASE_TIMESTAMP_OFFSET),
    maxTimestamp: b.readBigInt64BE(pos + MAX_TIMESTAMP_OFFSET),
    producerId: b.readBigInt64BE(pos + PRODUCER_ID_OFFSET),
    producerEpoch: b.readInt16BE(pos + PRODUCER_EPOCH_OFFSET),
    baseSequence: b.readInt32BE(pos + BASE_SEQUENCE_OFFSET),
    recordCount: b.readInt32BE(pos + RECORD_COUNT_OFFSET),
  };
}

export function lastOffsetOf(header: BatchHeader): bigint {
  return header.baseOffset + BigInt(header.lastOffsetDelta);
}

/** True when the batch's CRC-32C (Kafka's own checksum) matches its bytes. */
export function batchCrcValid(batch: Uint8Array, header: BatchHeader): boolean {
  return crc32c(batch.subarray(CRC_START, header.size)) === header.crc;
}

/** Writes the CRC-32C of a batch whose header or records were changed. */
export function stampCrc(batch: Buffer): void {
  batch.writeUInt32BE(crc32c(batch.subarray(CRC_START)), CRC_OFFSET);
}

/** The records of a batch, decompressed when the producer compressed them. */
export function recordsBytes(batch: Uint8Array, header: BatchHeader): Buffer {
  const raw = view(batch).subarray(BATCH_HEADER_LENGTH, header.size);
  const codec = header.attributes & COMPRESSION_MASK;
  if (codec === 0) return raw;
  const algorithm = (
    compressionsAlgorithmsByBitmask as unknown as Record<number, { decompressSync(b: Buffer): Buffer }>
  )[codec];
  if (!algorithm) throw new BatchFormatError(`unknown compression ${codec} in a record batch`);
  return algorithm.decompressSync(raw);
}

/** One record as it sits in a batch: its offset and timestamp resolved, its bytes where they are. */
interface RawRecord {
  readonly offset: bigint;
  readonly timestamp: bigint;
  /** [start, end) of the record, length prefix included, in the records bytes. */
  readonly start: number;
  readonly end: number;
  /** Where its key length is. */
  readonly fields: number;
  /** Where its attributes byte is (after the length prefix), and where its offset delta is. */
  readonly body: number;
  readonly offsetDeltaAt: number;
}

function zigzag32(n: number): number {
  return n % 2 === 1 ? -(n + 1) / 2 : n / 2;
}

/**
 * Walks the records of a batch without materializing them (the backup's per-batch cost): the offset
 * and timestamp of each, and where its bytes are. Checks each record's length against its fields'
 * framing only as far as the walk reads.
 */
function* walkRecords(records: Buffer, header: BatchHeader): Generator<RawRecord> {
  const cursor = new ByteCursor(records, 0, records.length);
  const logAppend = (header.attributes & LOG_APPEND_TIME) !== 0;
  for (let i = 0; i < header.recordCount; i++) {
    const start = cursor.pos;
    const length = zigzag32(cursor.uvarint());
    const bodyStart = cursor.pos;
    const end = bodyStart + length;
    if (length < 0 || end > records.length) throw new BatchFormatError(`record ${i} runs past its batch`);
    cursor.u8(); // attributes, unused by Kafka
    const tsDelta = cursor.zigzagVarlong();
    const offsetDeltaAt = cursor.pos;
    const offsetDelta = zigzag32(cursor.uvarint());
    if (offsetDelta < 0) throw new BatchFormatError(`record ${i} lies before its batch's base offset`);
    const timestamp = logAppend
      ? header.maxTimestamp
      : BigInt.asIntN(
          64,
          header.baseTimestamp +
            (typeof tsDelta === 'number' ? BigInt(zigzag32(tsDelta)) : unzigzag(tsDelta)),
        );
    yield {
      offset: header.baseOffset + BigInt(offsetDelta),
      timestamp,
      start,
      end,
      fields: cursor.pos,
      body: bodyStart,
      offsetDeltaAt,
    };
    cursor.pos = end;
  }
  if (cursor.pos !== records.length)
    throw new BatchFormatError('bytes left after the last record of a batch');
}

/**
 * Offsets and timestamps of a batch's records (decompressing them when needed): what backup learns
 * of every batch it stores, so one tight pass in plain numbers (offset and timestamp deltas), with
 * no object or bigint per record. A timestamp delta beyond 2^53 takes the walk below.
 */
export function batchStats(batch: Uint8Array, header: BatchHeader): BatchStats & BatchSummary {
  const records = recordsBytes(batch, header);
  const cursor = new ByteCursor(records, 0, records.length);
  const holes: { start: bigint; end: bigint }[] = [];
  let payloadBytes = 0;
  let count = 0;
  let firstDelta = 0;
  let lastDelta = 0;
  let minTs = 0;
  let maxTs = 0;
  const field = (end: number): void => {
    const n = zigzag32(cursor.uvarint());
    if (n > 0) {
      cursor.pos += n;
      payloadBytes += n;
    }
    if (cursor.pos > end) throw new BatchFormatError("a record's fields run past its length");
  };
  for (let i = 0; i < header.recordCount; i++) {
    const length = zigzag32(cursor.uvarint());
    const end = cursor.pos + length;
    if (length < 0 || end > records.length) throw new BatchFormatError(`record ${i} runs past its batch`);
    cursor.u8(); // attributes, unused by Kafka
    const tsDelta = cursor.zigzagVarlong();
    if (typeof tsDelta !== 'number') return batchStatsByWalk(records, header);
    const ts = zigzag32(tsDelta);
    const delta = zigzag32(cursor.uvarint());
    if (delta < 0) throw new BatchFormatError(`record ${i} lies before its batch's base offset`);
    field(end);
    field(end);
    const headerCount = zigzag32(cursor.uvarint());
    for (let h = 0; h < headerCount; h++) {
      field(end);
      field(end);
    }
    if (count === 0) {
      firstDelta = delta;
      minTs = ts;
      maxTs = ts;
    } else {
      if (delta <= lastDelta) throw new BatchFormatError('record offsets do not increase within a batch');
      if (delta > lastDelta + 1) {
        holes.push({
          start: header.baseOffset + BigInt(lastDelta + 1),
          end: header.baseOffset + BigInt(delta),
        });
      }
      if (ts < minTs) minTs = ts;
      if (ts > maxTs) maxTs = ts;
    }
    lastDelta = delta;
    count++;
    cursor.pos = end;
  }
  if (cursor.pos !== records.length)
    throw new BatchFormatError('bytes left after the last record of a batch');
  if (count > 0 && lastDelta > header.lastOffsetDelta) {
    throw new BatchFormatError("a record's offset lies beyond its batch's last offset");
  }
  const logAppend = (header.attributes & LOG_APPEND_TIME) !== 0;
  const min = logAppend ? header.maxTimestamp : header.baseTimestamp + BigInt(minTs);
  const max = logAppend ? header.maxTimestamp : header.baseTimestamp + BigInt(maxTs);
  // A timestamp past the 64-bit range wraps (as Kafka's does); the walk orders the wrapped values.
  if (BigInt.asIntN(64, min) !== min || BigInt.asIntN(64, max) !== max)
    return batchStatsByWalk(records, header);
  return {
    recordCount: count,
    firstOffset: count === 0 ? 0n : header.baseOffset + BigInt(firstDelta),
    lastOffset: count === 0 ? 0n : header.baseOffset + BigInt(lastDelta),
    minTimestamp: count === 0 ? 0n : min,
    maxTimestamp: count === 0 ? 0n : max,
    holes,
    payloadBytes,
  };
}

/** batchStats by walking the records with bigint offsets and timestamps: any value Kafka allows. */
export function batchStatsByWalk(records: Buffer, header: BatchHeader): BatchStats & BatchSummary {
  const holes: { start: bigint; end: bigint }[] = [];
  let payloadBytes = 0;
  let count = 0;
  let first = 0n;
  let last = 0n;
  let minTs = 0n;
  let maxTs = 0n;
  for (const r of walkRecords(records, header)) {
    payloadBytes += payloadOf(records, r);
    if (count === 0) {
      first = r.offset;
      minTs = r.timestamp;
      maxTs = r.timestamp;
    } else {
      if (r.offset <= last) throw new BatchFormatError('record offsets do not increase within a batch');
      if (r.offset > last + 1n) holes.push({ start: last + 1n, end: r.offset });
      if (r.timestamp < minTs) minTs = r.timestamp;
      if (r.timestamp > maxTs) maxTs = r.timestamp;
    }
    last = r.offset;
    count++;
  }
  if (count > 0 && last > lastOffsetOf(header)) {
    throw new BatchFormatError("a record's offset lies beyond its batch's last offset");
  }
  return {
    recordCount: count,
    firstOffset: first,
    lastOffset: last,
    minTimestamp: minTs,
    maxTimestamp: maxTs,
    holes,
    payloadBytes,
  };
}

/** Key, value and header bytes of one record, read from its length fields only. */
function payloadOf(records: Buffer, r: RawRecord): number {
  const cursor = new ByteCursor(records, r.fields, r.end);
  let bytes = 0;
  const skip = (): void => {
    const n = zigzag32(cursor.uvarint());
    if (n > 0) {
      cursor.pos += n;
      bytes += n;
    }
  };
  skip();
  skip();
  const headers = zigzag32(cursor.uvarint());
  for (let h = 0; h < headers; h++) {
    skip();
    skip();
  }
  if (cursor.pos > r.end) throw new BatchFormatError("a record's fields run past its length");
  return bytes;
}

/**
 * The records of a batch with offsets in [from, to), as a batch of its own: the same header (so
 * offset deltas keep their meaning), fewer records, uncompressed, a new CRC. Undefined when none is
 * left. For the rare fetch that starts or ends inside a batch (a resume of a record-level v1 backup,
 * a DeleteRecords inside a batch).
 */
export function sliceBatch(
  batch: Uint8Array,
  header: BatchHeader,
  from: bigint,
  to: bigint,
): { bytes: Buffer; header: BatchHeader } | undefined {
  const records = recordsBytes(batch, header);
  const kept: RawRecord[] = [];
  for (const r of walkRecords(records, header)) if (r.offset >= from && r.offset < to) kept.push(r);
  if (kept.length === 0) return undefined;
  const bodyLength = kept.reduce((n, r) => n + (r.end - r.start), 0);
  const out = Buffer.allocUnsafe(BATCH_HEADER_LENGTH + bodyLength);
  view(batch).copy(out, 0, 0, BATCH_HEADER_LENGTH);
  let pos = BATCH_HEADER_LENGTH;
  for (const r of kept) pos += records.copy(out, pos, r.start, r.end);
  const last = (kept.at(-1) as RawRecord).offset;
  out.writeInt32BE(out.length - LENGTH_PREFIX, 8);
  out.writeInt16BE(header.attributes & ~COMPRESSION_MASK, ATTRIBUTES_OFFSET);
  out.writeInt32BE(Number(last - header.baseOffset), LAST_OFFSET_DELTA_OFFSET);
  if ((header.attributes & LOG_APPEND_TIME) === 0) {
    const maxTs = kept.reduce((m, r) => (r.timestamp > m ? r.timestamp : m), kept[0]?.timestamp ?? 0n);
    out.writeBigInt64BE(maxTs, MAX_TIMESTAMP_OFFSET);
  }
  out.writeInt32BE(kept.length, RECORD_COUNT_OFFSET);
  stampCrc(out);
  return { bytes: out, header: readBatchHeader(out) as BatchHeader };
}

const NO_HEADERS: readonly RecordHeader[] = Object.freeze([]);

/** The records of a batch as the engine sees them (restore, verification, validation). */
export function decodeBatchRecords(batch: Uint8Array, header: BatchHeader): KafkaRecord[] {
  const records = recordsBytes(batch, header);
  const timestampType: TimestampType = header.attributes & LOG_APPEND_TIME ? 'LogAppendTime' : 'CreateTime';
  const out: KafkaRecord[] = [];
  for (const r of walkRecords(records, header)) {
    const cursor = new ByteCursor(records, r.start, r.end);
    cursor.uvarint();
    cursor.u8();
    cursor.zigzagVarlong();
    cursor.uvarint();
    const key = nullableBytes(cursor);
    const value = nullableBytes(cursor);
    const headerCount = zigzag32(cursor.uvarint());
    if (headerCount < 0) throw new BatchFormatError('negative header count');
    const headers: RecordHeader[] = headerCount === 0 ? (NO_HEADERS as RecordHeader[]) : [];
    for (let h = 0; h < headerCount; h++) {
      const keyLength = zigzag32(cursor.uvarint());
      if (keyLength < 0) throw new BatchFormatError('a header key is null');
      const keyStart = cursor.pos;
      cursor.bytes(keyLength);
      headers.push([records.toString('utf8', keyStart, keyStart + keyLength), nullableBytes(cursor)]);
    }
    if (cursor.pos !== r.end) throw new BatchFormatError("a record's length does not match its fields");
    out.push({ offset: r.offset, timestamp: r.timestamp, timestampType, key, value, headers });
  }
  return out;
}

function nullableBytes(cursor: ByteCursor): Uint8Array | null {
  const n = zigzag32(cursor.uvarint());
  if (n < -1) throw new BatchFormatError('negative length');
  return n === -1 ? null : cursor.bytes(n);
}

/** A control batch's marker type: 0 abort, 1 commit (the key of its one record). */
export function controlType(batch: Uint8Array, header: BatchHeader): number | undefined {
  const records = recordsBytes(batch, header);
  const cursor = new ByteCursor(records, 0, records.length);
  try {
    cursor.uvarint();
    cursor.u8();
    cursor.zigzagVarlong();
    cursor.uvarint();
    const key = nullableBytes(cursor);
    if (!key || key.length < 4) return undefined;
    return view(key).readInt16BE(2);
  } catch {
    return undefined;
  }
}

export interface EncodeBatchOptions {
  /** Default: the first record's offset (offset deltas then keep the records' offsets). */
  readonly baseOffset?: bigint;
  /** Number the records 0, 1, 2... instead of keeping their offsets' spacing (what a producer sends). */
  readonly contiguous?: boolean;
  readonly producerId?: bigint;
  readonly producerEpoch?: number;
  readonly baseSequence?: number;
  readonly partitionLeaderEpoch?: number;
}

function zigzagSize(n: number): number {
  let v = n >= 0 ? n * 2 : -n * 2 - 1;
  let size = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    size++;
  }
  return size;
}

function writeZigzag(buf: Buffer, pos: number, n: number): number {
  let v = n >= 0 ? n * 2 : -n * 2 - 1;
  while (v >= 128) {
    buf[pos++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  buf[pos++] = v;
  return pos;
}

function writeZigzagBig(buf: Buffer, pos: number, n: bigint): number {
  let v = BigInt.asUintN(64, (n << 1n) ^ (n >> 63n));
  while (v >= 128n) {
    buf[pos++] = Number(v & 0x7fn) | 0x80;
    v >>= 7n;
  }
  buf[pos++] = Number(v);
  return pos;
}

function zigzagBigSize(n: bigint): number {
  let v = BigInt.asUintN(64, (n << 1n) ^ (n >> 63n));
  let size = 1;
  while (v >= 128n) {
    v >>= 7n;
    size++;
  }
  return size;
}

const utf8 = new TextEncoder();

/**
 * Encodes records of one partition as one uncompressed record batch, the way a producer does.
 * Records with LogAppendTime become a LogAppendTime batch whose max timestamp is theirs. Used where
 * a batch must be made rather than kept: the memory Kafka of unit tests, golden fixtures, and
 * restores that cut or remap (docs/format/v2.md §4).
 */
export function encodeBatch(records: readonly KafkaRecord[], options: EncodeBatchOptions = {}): Buffer {
  const first = records[0];
  if (!first) throw new BatchFormatError('a record batch holds at least one record');
  const logAppend = first.timestampType === 'LogAppendTime';
  const baseOffset = options.baseOffset ?? first.offset;
  const baseTimestamp = first.timestamp;
  let maxTimestamp = first.timestamp;
  const parts: { delta: bigint; offsetDelta: number; headerKeys: Uint8Array[]; size: number }[] = [];
  let body = 0;
  for (const [i, r] of records.entries()) {
    if (r.timestamp > maxTimestamp) maxTimestamp = r.timestamp;
    const offsetDelta = options.contiguous ? i : Number(r.offset - baseOffset);
    const delta = logAppend ? 0n : r.timestamp - baseTimestamp;
    const headerKeys = r.headers.map(([k]) => utf8.encode(k));
    let size = 1 + zigzagBigSize(delta) + zigzagSize(offsetDelta);
    size += r.key === null ? 1 : zigzagSize(r.key.length) + r.key.length;
    size += r.value === null ? 1 : zigzagSize(r.value.length) + r.value.length;
    size += zigzagSize(r.headers.length);
    for (const [h, [, v]] of r.headers.entries()) {
      const k = headerKeys[h] as Uint8Array;
      size += zigzagSize(k.length) + k.length + (v === null ? 1 : zigzagSize(v.length) + v.length);
    }
    parts.push({ delta, offsetDelta, headerKeys, size });
    body += zigzagSize(size) + size;
  }
  const out = Buffer.allocUnsafe(BATCH_HEADER_LENGTH + body);
  out.writeBigInt64BE(baseOffset, 0);
  out.writeInt32BE(out.length - LENGTH_PREFIX, 8);
  out.writeInt32BE(options.partitionLeaderEpoch ?? -1, 12);
  out.writeInt8(2, MAGIC_OFFSET);
  out.writeInt16BE(logAppend ? LOG_APPEND_TIME : 0, ATTRIBUTES_OFFSET);
  out.writeInt32BE((parts.at(-1) as { offsetDelta: number }).offsetDelta, LAST_OFFSET_DELTA_OFFSET);
  out.writeBigInt64BE(logAppend ? maxTimestamp : baseTimestamp, BASE_TIMESTAMP_OFFSET);
  out.writeBigInt64BE(maxTimestamp, MAX_TIMESTAMP_OFFSET);
  out.writeBigInt64BE(options.producerId ?? -1n, PRODUCER_ID_OFFSET);
  out.writeInt16BE(options.producerEpoch ?? -1, PRODUCER_EPOCH_OFFSET);
  out.writeInt32BE(options.baseSequence ?? -1, BASE_SEQUENCE_OFFSET);
  out.writeInt32BE(records.length, RECORD_COUNT_OFFSET);
  let pos = BATCH_HEADER_LENGTH;
  for (const [i, r] of records.entries()) {
    const p = parts[i] as (typeof parts)[number];
    pos = writeZigzag(out, pos, p.size);
    out[pos++] = 0;
    pos = writeZigzagBig(out, pos, p.delta);
    pos = writeZigzag(out, pos, p.offsetDelta);
    pos = writeNullable(out, pos, r.key);
    pos = writeNullable(out, pos, r.value);
    pos = writeZigzag(out, pos, r.headers.length);
    for (const [h, [, v]] of r.headers.entries()) {
      const k = p.headerKeys[h] as Uint8Array;
      pos = writeZigzag(out, pos, k.length);
      out.set(k, pos);
      pos += k.length;
      pos = writeNullable(out, pos, v);
    }
  }
  stampCrc(out);
  return out;
}

function writeNullable(out: Buffer, pos: number, bytes: Uint8Array | null): number {
  if (bytes === null) return writeZigzag(out, pos, -1);
  pos = writeZigzag(out, pos, bytes.length);
  out.set(bytes, pos);
  return pos + bytes.length;
}

/**
 * A batch of more than `maxRecords` records as consecutive batches of at most that many, each as a
 * producer writes one: its own base offset, offset deltas 0..n-1, the original base timestamp (so
 * every record keeps its timestamp delta), the original codec and a new CRC. Only each record's
 * offset delta is rewritten; its key, value and headers are copied, never decoded. Restore bounds the
 * records per produce request (produceBatchSize) this way instead of re-encoding every record.
 * The records must follow each other without holes and carry CreateTime (restore checks both).
 */
export function splitBatch(
  batch: Uint8Array,
  header: BatchHeader,
  maxRecords: number,
): { bytes: Buffer; header: BatchHeader; stats: BatchStats & BatchSummary }[] {
  if (!(maxRecords >= 1)) throw new BatchFormatError('a split batch holds at least one record');
  const records = recordsBytes(batch, header);
  const all = [...walkRecords(records, header)];
  const codec = header.attributes & COMPRESSION_MASK;
  const pieces: { bytes: Buffer; header: BatchHeader; stats: BatchStats & BatchSummary }[] = [];
  for (let i = 0; i < all.length; i += maxRecords) {
    const chunk = all.slice(i, i + maxRecords);
    const sizes = chunk.map((r, delta) => r.offsetDeltaAt - r.body + zigzagSize(delta) + (r.end - r.fields));
    const bodyLength = sizes.reduce((n, size) => n + zigzagSize(size) + size, 0);
    const out = Buffer.allocUnsafe(BATCH_HEADER_LENGTH + bodyLength);
    view(batch).copy(out, 0, 0, BATCH_HEADER_LENGTH);
    let pos = BATCH_HEADER_LENGTH;
    let minTs = (chunk[0] as RawRecord).timestamp;
    let maxTs = minTs;
    let payloadBytes = 0;
    for (const [delta, r] of chunk.entries()) {
      pos = writeZigzag(out, pos, sizes[delta] as number);
      pos += records.copy(out, pos, r.body, r.offsetDeltaAt);
      pos = writeZigzag(out, pos, delta);
      pos += records.copy(out, pos, r.fields, r.end);
      if (r.timestamp < minTs) minTs = r.timestamp;
      if (r.timestamp > maxTs) maxTs = r.timestamp;
      payloadBytes += payloadOf(records, r);
    }
    out.writeBigInt64BE((chunk[0] as RawRecord).offset, 0);
    out.writeInt32BE(out.length - LENGTH_PREFIX, 8);
    out.writeInt16BE(header.attributes & ~COMPRESSION_MASK, ATTRIBUTES_OFFSET);
    out.writeInt32BE(chunk.length - 1, LAST_OFFSET_DELTA_OFFSET);
    out.writeBigInt64BE(maxTs, MAX_TIMESTAMP_OFFSET);
    out.writeInt32BE(chunk.length, RECORD_COUNT_OFFSET);
    stampCrc(out);
    const bytes = codec === 0 ? out : compressBatch(out, CODEC_NAMES[codec] as BatchCodec);
    // What batchStats would read back, known already: no need to decompress the piece again.
    const stats = {
      recordCount: chunk.length,
      firstOffset: (chunk[0] as RawRecord).offset,
      lastOffset: (chunk.at(-1) as RawRecord).offset,
      minTimestamp: minTs,
      maxTimestamp: maxTs,
      holes: [],
      payloadBytes,
    };
    pieces.push({ bytes, header: readBatchHeader(bytes) as BatchHeader, stats });
  }
  return pieces;
}

export type BatchCodec = 'gzip' | 'snappy' | 'lz4' | 'zstd';
const CODEC_BITS: Readonly<Record<BatchCodec, number>> = { gzip: 1, snappy: 2, lz4: 3, zstd: 4 };
const CODEC_NAMES: Readonly<Record<number, BatchCodec>> = Object.fromEntries(
  Object.entries(CODEC_BITS).map(([name, bits]) => [bits, name as BatchCodec]),
);

/** An uncompressed batch with its records compressed as a producer configured with `codec` does. */
export function compressBatch(batch: Uint8Array, codec: BatchCodec): Buffer {
  const header = readBatchHeader(batch);
  if (!header) throw new BatchFormatError('not a whole record batch');
  if ((header.attributes & COMPRESSION_MASK) !== 0)
    throw new BatchFormatError('the batch is already compressed');
  const algorithm = (
    compressionsAlgorithmsByBitmask as unknown as Record<number, { compressSync(b: Buffer): Buffer }>
  )[CODEC_BITS[codec]] as { compressSync(b: Buffer): Buffer };
  const compressed = algorithm.compressSync(view(batch).subarray(BATCH_HEADER_LENGTH, header.size));
  const out = Buffer.allocUnsafe(BATCH_HEADER_LENGTH + compressed.length);
  view(batch).copy(out, 0, 0, BATCH_HEADER_LENGTH);
  out.set(compressed, BATCH_HEADER_LENGTH);
  out.writeInt32BE(out.length - LENGTH_PREFIX, 8);
  out.writeInt16BE(header.attributes | CODEC_BITS[codec], ATTRIBUTES_OFFSET);
  stampCrc(out);
  return out;
}

export interface ProducerStamp {
  readonly producerId: bigint;
  readonly producerEpoch: number;
  readonly baseSequence: number;
}

/**
 * Re-stamps a stored batch, in place, for the producer that writes it to the target: base offset 0
 * and no leader epoch (the broker assigns both), this producer's id, epoch and sequence, not
 * transactional (a restore commits no transaction), and the CRC-32C brought up to date. Records,
 * their compression and timestamps are untouched.
 *
 * The batch's CRC must be valid, as every stored batch's is when read (verifyBatchBlock): the new
 * one is derived from it and the changed header bytes alone, without a pass over the records. Were
 * it not, the broker would refuse the batch as corrupt (CORRUPT_MESSAGE), never store it.
 */
export function stampForProduce(batch: Uint8Array, stamp: ProducerStamp): void {
  const b = view(batch);
  const header = readBatchHeader(b);
  if (!header || header.size !== b.length) throw new BatchFormatError('not exactly one whole record batch');
  const before = Buffer.from(b.subarray(CRC_START, STAMPED_END));
  b.writeBigInt64BE(0n, 0);
  b.writeInt32BE(-1, 12);
  b.writeInt16BE(header.attributes & ~TRANSACTIONAL, ATTRIBUTES_OFFSET);
  b.writeBigInt64BE(stamp.producerId, PRODUCER_ID_OFFSET);
  b.writeInt16BE(stamp.producerEpoch, PRODUCER_EPOCH_OFFSET);
  b.writeInt32BE(stamp.baseSequence, BASE_SEQUENCE_OFFSET);
  const crc = crc32cPatched(header.crc, before, b.subarray(CRC_START, STAMPED_END), b.length - STAMPED_END);
  b.writeUInt32BE(crc, CRC_OFFSET);
}
