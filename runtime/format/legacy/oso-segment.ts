import zlib from 'node:zlib';
import type { KafkaRecord, RecordHeader } from '../../record.ts';
import { CorruptObjectError, UnsupportedFormatError } from '../errors.ts';
import { lz4 } from '../lz4.ts';

/**
 * Segments written by the Rust tool (osodevops/kafka-backup 0.x), read-only. Two kinds:
 *  - binary "KBAK" v1: header 32 B | one compressed block | crc32 (IEEE) u32 | "BKAE", little-endian,
 *    records as fixed-width fields (docs/format/oso-rust.md);
 *  - legacy JSON: an array of records with base64 key/value, compressed per the file extension.
 * What they lose (timestamp type, null header values) cannot be recovered; see oso-rust.md.
 */

const KBAK = Buffer.from('KBAK');
const BKAE = Buffer.from('BKAE');
const HEADER = 32;
const FOOTER = 8;

/** Headers the Rust tool appends to every record by default (include_offset_headers). */
export const INJECTED_HEADERS = ['x-original-offset', 'x-original-timestamp', 'x-source-cluster'];

export interface OsoSegmentHeader {
  readonly compression: 'none' | 'zstd' | 'lz4';
  readonly recordCount: number;
  readonly startOffset: bigint;
  readonly endOffset: bigint;
}

export interface OsoDecodeOptions {
  /** Drop the trailing x-original-* headers the Rust tool added (default true). */
  readonly stripInjectedHeaders?: boolean;
}

export function decodeOsoSegment(
  bytes: Uint8Array,
  key: string,
  options: OsoDecodeOptions = {},
): { header: OsoSegmentHeader | undefined; records: KafkaRecord[] } {
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const strip = options.stripInjectedHeaders ?? true;
  if (b.length >= 4 && b.subarray(0, 4).equals(KBAK)) {
    const { header, records } = decodeKbak(b, key);
    return { header, records: strip ? records.map(stripInjected) : records };
  }
  const records = decodeJsonSegment(b, key);
  return { header: undefined, records: strip ? records.map(stripInjected) : records };
}

function decodeKbak(b: Buffer, key: string): { header: OsoSegmentHeader; records: KafkaRecord[] } {
  if (b.length < HEADER + FOOTER) throw new CorruptObjectError(key, 'shorter than a KBAK header and footer');
  if (!b.subarray(b.length - 4).equals(BKAE)) {
    throw new CorruptObjectError(key, 'bad KBAK footer magic (truncated or trailing bytes)');
  }
  const crcEnd = b.length - FOOTER;
  if (zlib.crc32(b.subarray(0, crcEnd)) !== b.readUInt32LE(crcEnd))
    throw new CorruptObjectError(key, 'CRC-32 mismatch');
  const version = b.readUInt8(4);
  if (version !== 1) throw new UnsupportedFormatError(key, `KBAK segment version ${version}`);
  const code = b.readUInt8(5);
  const compression = (['none', 'zstd', 'lz4'] as const)[code];
  if (!compression) throw new UnsupportedFormatError(key, `KBAK compression code ${code}`);
  const count = b.readBigUInt64LE(8);
  if (count > 0xffffffffn) throw new CorruptObjectError(key, 'impossible record count');
  const header: OsoSegmentHeader = {
    compression,
    recordCount: Number(count),
    startOffset: b.readBigInt64LE(16),
    endOffset: b.readBigInt64LE(24),
  };
  const body = b.subarray(HEADER, crcEnd);
  let data: Buffer;
  try {
    data =
      compression === 'none'
        ? body
        : compression === 'zstd'
          ? zlib.zstdDecompressSync(body)
          : lz4().uncompressSync(body);
  } catch (cause) {
    throw new CorruptObjectError(key, `${compression} body does not decompress`, { cause });
  }
  let records: KafkaRecord[];
  try {
    records = parseKbakRecords(data);
  } catch (cause) {
    throw new CorruptObjectError(key, `records are malformed: ${(cause as Error).message}`, { cause });
  }
  if (records.length !== header.recordCount) {
    throw new CorruptObjectError(
      key,
      `holds ${records.length} records, its header says ${header.recordCount}`,
    );
  }
  const first = records[0];
  const last = records[records.length - 1];
  if (first && last && (first.offset !== header.startOffset || last.offset !== header.endOffset)) {
    throw new CorruptObjectError(key, 'record offsets disagree with the header');
  }
  return { header, records };
}

function parseKbakRecords(d: Buffer): KafkaRecord[] {
  const records: KafkaRecord[] = [];
  let pos = 0;
  const need = (n: number) => {
    if (pos + n > end) throw new RangeError('a field runs past the end of its record');
  };
  let end = d.length;
  while (pos < d.length) {
    if (pos + 4 > d.length) throw new RangeError('a record length runs past the end');
    const total = d.readUInt32LE(pos);
    pos += 4;
    end = pos + total;
    if (end > d.length) throw new RangeError('a record runs past the end');
    need(16);
    const timestamp = d.readBigInt64LE(pos);
    const offset = d.readBigInt64LE(pos + 8);
    pos += 16;
    const nullable = (): Uint8Array | null => {
      need(4);
      const len = d.readInt32LE(pos);
      pos += 4;
      if (len === -1) return null;
      if (len < 0) throw new RangeError(`negative length ${len}`);
      need(len);
      const v = d.subarray(pos, pos + len);
      pos += len;
      return v;
    };
    const key = nullable();
    const value = nullable();
    need(2);
    const count = d.readUInt16LE(pos);
    pos += 2;
    const headers: RecordHeader[] = [];
    for (let i = 0; i < count; i++) {
      need(2);
      const kl = d.readUInt16LE(pos);
      pos += 2;
      need(kl);
      const name = d.toString('utf8', pos, pos + kl);
      pos += kl;
      headers.push([name, nullable()]);
    }
    if (pos !== end) throw new RangeError('a record length does not match its fields');
    // The Rust tool keeps no timestamp type: CreateTime is what its restore produces.
    records.push({ offset, timestamp, timestampType: 'CreateTime', key, value, headers });
  }
  return records;
}

function decodeJsonSegment(b: Buffer, key: string): KafkaRecord[] {
  let text: string;
  try {
    const data = key.endsWith('.zst')
      ? zlib.zstdDecompressSync(b)
      : key.endsWith('.lz4')
        ? lz4().uncompressSync(b)
        : b;
    text = data.toString('utf8');
  } catch (cause) {
    throw new CorruptObjectError(key, 'legacy JSON segment does not decompress', { cause });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new CorruptObjectError(key, 'neither a KBAK segment nor a legacy JSON segment', { cause });
  }
  if (!Array.isArray(parsed)) throw new CorruptObjectError(key, 'legacy JSON segment is not an array');
  return parsed.map((r, i) => {
    const o = r as Record<string, unknown>;
    const bad = (what: string): never => {
      throw new CorruptObjectError(key, `legacy JSON record ${i}: ${what}`);
    };
    if (typeof o !== 'object' || o === null) bad('not an object');
    const int = (v: unknown, what: string): bigint =>
      typeof v === 'number' && Number.isInteger(v)
        ? BigInt(v)
        : typeof v === 'string' && /^-?\d+$/.test(v)
          ? BigInt(v)
          : bad(what);
    const b64 = (v: unknown, what: string): Uint8Array | null =>
      v === null || v === undefined ? null : typeof v === 'string' ? Buffer.from(v, 'base64') : bad(what);
    const headers: RecordHeader[] = Array.isArray(o.headers)
      ? o.headers.map((h: Record<string, unknown>) => [
          typeof h?.key === 'string' ? h.key : bad('header key'),
          b64(h.value, 'header value'),
        ])
      : [];
    return {
      offset: int(o.offset, 'offset'),
      timestamp: int(o.timestamp ?? 0, 'timestamp'),
      timestampType: 'CreateTime',
      key: b64(o.key, 'key'),
      value: b64(o.value, 'value'),
      headers,
    };
  });
}

/**
 * Removes the headers the Rust tool appended, only when they are the trailing ones and
 * x-original-offset holds this record's own offset (so a user's own header of that name survives).
 */
export function stripInjected(record: KafkaRecord): KafkaRecord {
  const h = record.headers;
  let cut = h.length;
  while (cut > 0 && INJECTED_HEADERS.includes((h[cut - 1] as RecordHeader)[0])) cut--;
  if (cut === h.length) return record;
  const tail = h.slice(cut);
  const offsetHeader = tail.find(([k]) => k === 'x-original-offset');
  const v = offsetHeader?.[1];
  if (v === undefined || v === null || v.length !== 8) return record;
  const original = Buffer.from(v.buffer, v.byteOffset, 8).readBigInt64LE(0);
  if (original !== record.offset) return record;
  return { ...record, headers: h.slice(0, cut) };
}
