import { createHash, webcrypto } from 'node:crypto';
import zlib from 'node:zlib';
import type { KafkaRecord } from '../record.ts';
import { decodeBatchBlock, type StoredBatch, verifyBatchBlock } from './batch-block.ts';
import { COMPRESSION_CODES, compress, compressionFromCode, decompress } from './compression.ts';
import { decrypt, encrypt, NONCE_LENGTH, randomNonce, TAG_LENGTH } from './encryption.ts';
import {
  CorruptObjectError,
  EncryptionKeyError,
  FormatUsageError,
  UnsupportedFormatError,
} from './errors.ts';
import { decodeRecordBlock, RecordBlockEncoder, type RecordBlockStats } from './record-block.ts';
import type { Compression, EncryptionKey } from './types.ts';

/**
 * A segment object (docs/format/v1.md §3; v2.md §3 changes only what the payload holds):
 *   header (64 bytes, little-endian) | payload | crc32 u32 (IEEE, over header + payload) | "KBSE"
 * payload = the records block, compressed, then (optionally) AES-256-GCM encrypted with the header
 * as additional authenticated data: ciphertext || tag.
 */

export const SEGMENT_MAGIC = 0x4753424b; // "KBSG" read as little-endian u32
export const SEGMENT_END_MAGIC = 0x4553424b; // "KBSE"
/** Records block of v1 (docs/format/v1.md §3.1): our own record encoding. */
export const SEGMENT_VERSION = 1;
/** Batches block of v2 (docs/format/v2.md §3.1): Kafka's record batches as the broker sent them. */
export const BATCH_SEGMENT_VERSION = 2;
const KNOWN_VERSIONS = new Set([SEGMENT_VERSION, BATCH_SEGMENT_VERSION]);
export const HEADER_LENGTH = 64;
export const TRAILER_LENGTH = 8;
const ENCRYPTION_AES_256_GCM = 1;

export interface SegmentHeader extends RecordBlockStats {
  readonly version: number;
  readonly compression: Compression;
  readonly encrypted: boolean;
  /** Length of the records block before compression. */
  readonly uncompressedSize: number;
  readonly nonce: Uint8Array;
}

export interface EncodeSegmentOptions {
  /** Default zstd. */
  readonly compression?: Compression;
  readonly compressionLevel?: number;
  readonly encryption?: EncryptionKey;
  /** Only for golden tests: a fixed nonce. Never reuse a nonce with the same key in production. */
  readonly nonce?: Uint8Array;
}

export interface EncodedSegment {
  readonly bytes: Uint8Array;
  readonly header: SegmentHeader;
  /** Lower-case hex SHA-256 of `bytes`, as the manifest records it. */
  readonly sha256: string;
}

export interface DecodeSegmentOptions {
  /** The object key, named in errors. */
  readonly key: string;
  readonly encryption?: EncryptionKey;
  /** Verified before anything else is read, when given (the manifest's values). */
  readonly expectedSize?: number;
  readonly expectedSha256?: string;
}

export interface DecodedSegment {
  readonly header: SegmentHeader;
  readonly records: KafkaRecord[];
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * SHA-256 on the libuv thread pool (WebCrypto digest jobs run off the event loop), so hashing a
 * 16 MiB segment overlaps with fetching and decoding instead of stalling them.
 */
export async function sha256HexAsync(bytes: Uint8Array): Promise<string> {
  if (bytes.length < 64 * 1024) return sha256Hex(bytes);
  return Buffer.from(await webcrypto.subtle.digest('SHA-256', bytes)).toString('hex');
}

export async function encodeSegment(
  records: readonly KafkaRecord[],
  options: EncodeSegmentOptions = {},
): Promise<EncodedSegment> {
  const encoder = new RecordBlockEncoder(1024);
  for (const record of records) encoder.append(record);
  const { block, stats } = encoder.take();
  return encodeRecordBlock(block, stats, options);
}

/** Frames an already encoded records block (what PartitionSegmentWriter produces). */
export function encodeRecordBlock(
  block: Uint8Array,
  stats: RecordBlockStats,
  options: EncodeSegmentOptions = {},
): Promise<EncodedSegment> {
  return frameSegment(SEGMENT_VERSION, block, stats, options);
}

/** Frames a batches block (what PartitionBatchWriter produces) as a v2 segment. */
export function encodeBatchBlock(
  block: Uint8Array,
  stats: RecordBlockStats,
  options: EncodeSegmentOptions = {},
): Promise<EncodedSegment> {
  return frameSegment(BATCH_SEGMENT_VERSION, block, stats, options);
}

async function frameSegment(
  version: number,
  block: Uint8Array,
  stats: RecordBlockStats,
  options: EncodeSegmentOptions,
): Promise<EncodedSegment> {
  if (stats.recordCount === 0) throw new FormatUsageError('a segment holds at least one record');
  if (stats.recordCount > 0xffffffff || block.length > 0xffffffff) {
    throw new FormatUsageError('a segment holds at most 2^32-1 records and 4 GiB');
  }
  const compression = options.compression ?? 'zstd';
  const encrypted = options.encryption !== undefined;
  const nonce = encrypted ? (options.nonce ?? randomNonce()) : new Uint8Array(NONCE_LENGTH);
  if (nonce.length !== NONCE_LENGTH) throw new FormatUsageError('the nonce must be 12 bytes');
  const header: SegmentHeader = {
    ...stats,
    version,
    compression,
    encrypted,
    uncompressedSize: block.length,
    nonce,
  };
  const headerBytes = writeHeader(header);
  const compressed = await compress(compression, block, options.compressionLevel);
  const payload = options.encryption
    ? encrypt(options.encryption, nonce, headerBytes, compressed)
    : compressed;
  const bytes = Buffer.allocUnsafe(HEADER_LENGTH + payload.length + TRAILER_LENGTH);
  bytes.set(headerBytes, 0);
  bytes.set(payload, HEADER_LENGTH);
  const crcEnd = HEADER_LENGTH + payload.length;
  bytes.writeUInt32LE(zlib.crc32(bytes.subarray(0, crcEnd)), crcEnd);
  bytes.writeUInt32LE(SEGMENT_END_MAGIC, crcEnd + 4);
  return { bytes, header, sha256: await sha256HexAsync(bytes) };
}

function writeHeader(h: SegmentHeader): Buffer {
  const b = Buffer.alloc(HEADER_LENGTH);
  b.writeUInt32LE(SEGMENT_MAGIC, 0);
  b.writeUInt16LE(h.version, 4);
  b.writeUInt8(COMPRESSION_CODES[h.compression], 6);
  b.writeUInt8(h.encrypted ? ENCRYPTION_AES_256_GCM : 0, 7);
  b.writeUInt32LE(0, 8); // flags
  b.writeUInt32LE(h.recordCount, 12);
  b.writeBigInt64LE(h.firstOffset, 16);
  b.writeBigInt64LE(h.lastOffset, 24);
  b.writeBigInt64LE(h.minTimestamp, 32);
  b.writeBigInt64LE(h.maxTimestamp, 40);
  b.writeUInt32LE(h.uncompressedSize, 48);
  b.set(h.nonce, 52);
  return b;
}

/**
 * Verifies the frame (size, magic, version, CRC) and returns the header. Does not decrypt or decode.
 * Throws CorruptObjectError naming `key`.
 */
export function readSegmentHeader(bytes: Uint8Array, key: string): SegmentHeader {
  const b = asBuffer(bytes);
  if (b.length < HEADER_LENGTH + TRAILER_LENGTH) {
    throw new CorruptObjectError(key, `only ${b.length} bytes, shorter than a segment's header and trailer`);
  }
  if (b.readUInt32LE(0) !== SEGMENT_MAGIC) throw new CorruptObjectError(key, 'bad magic (not a segment)');
  const version = b.readUInt16LE(4);
  const crcEnd = b.length - TRAILER_LENGTH;
  if (b.readUInt32LE(crcEnd + 4) !== SEGMENT_END_MAGIC) {
    throw new CorruptObjectError(key, 'bad end magic (the object is truncated or has trailing bytes)');
  }
  const crc = zlib.crc32(b.subarray(0, crcEnd));
  if (crc !== b.readUInt32LE(crcEnd)) throw new CorruptObjectError(key, 'CRC-32 mismatch');
  if (!KNOWN_VERSIONS.has(version)) throw new UnsupportedFormatError(key, `segment version ${version}`);
  const compression = compressionFromCode(b.readUInt8(6));
  if (compression === undefined) throw new UnsupportedFormatError(key, `compression code ${b.readUInt8(6)}`);
  const encryption = b.readUInt8(7);
  if (encryption > ENCRYPTION_AES_256_GCM)
    throw new UnsupportedFormatError(key, `encryption code ${encryption}`);
  const flags = b.readUInt32LE(8);
  if (flags !== 0) throw new UnsupportedFormatError(key, `flags ${flags}`);
  const header: SegmentHeader = {
    version,
    compression,
    encrypted: encryption === ENCRYPTION_AES_256_GCM,
    recordCount: b.readUInt32LE(12),
    firstOffset: b.readBigInt64LE(16),
    lastOffset: b.readBigInt64LE(24),
    minTimestamp: b.readBigInt64LE(32),
    maxTimestamp: b.readBigInt64LE(40),
    uncompressedSize: b.readUInt32LE(48),
    nonce: b.subarray(52, 64),
  };
  if (header.recordCount === 0 || header.lastOffset < header.firstOffset || header.firstOffset < 0n) {
    throw new CorruptObjectError(key, 'header holds an impossible offset range or record count');
  }
  if (header.encrypted && crcEnd - HEADER_LENGTH < TAG_LENGTH) {
    throw new CorruptObjectError(key, 'encrypted payload shorter than its authentication tag');
  }
  return header;
}

/**
 * Verifies and decodes a segment object: size and SHA-256 against the manifest (when given), frame
 * and CRC, authentication tag, decompressed length, and every record against the header. Nothing is
 * returned unless all of it holds.
 */
export async function decodeSegment(
  bytes: Uint8Array,
  options: DecodeSegmentOptions,
): Promise<DecodedSegment> {
  const { header, block } = await openSegment(bytes, options);
  try {
    const records =
      header.version === BATCH_SEGMENT_VERSION
        ? decodeBatchBlock(block, header)
        : decodeRecordBlock(block, header);
    return { header, records };
  } catch (cause) {
    throw new CorruptObjectError(options.key, `records block is malformed: ${message(cause)}`, { cause });
  }
}

/** A verified v2 segment's batches, kept whole (docs/format/v2.md §3.2): what a restore produces as they are. */
export interface SegmentBatches {
  readonly header: SegmentHeader;
  readonly batches: readonly StoredBatch[];
}

/**
 * Verifies a segment as decodeSegment() does and, for a v2 segment, returns its batches without
 * decoding a record; a v1 segment's records otherwise (there are no batches to keep).
 */
export async function decodeSegmentContent(
  bytes: Uint8Array,
  options: DecodeSegmentOptions,
): Promise<SegmentBatches | DecodedSegment> {
  if (readSegmentHeader(bytes, options.key).version !== BATCH_SEGMENT_VERSION) {
    return decodeSegment(bytes, options);
  }
  const { header, block } = await openSegment(bytes, options);
  try {
    return { header, batches: verifyBatchBlock(block, header) };
  } catch (cause) {
    throw new CorruptObjectError(options.key, `records block is malformed: ${message(cause)}`, { cause });
  }
}

/** Size, SHA-256, frame, CRC, authentication tag and decompressed length: the block, checked. */
async function openSegment(
  bytes: Uint8Array,
  options: DecodeSegmentOptions,
): Promise<{ header: SegmentHeader; block: Uint8Array }> {
  const { key } = options;
  await verifyStoredObject(bytes, options);
  const header = readSegmentHeader(bytes, key);
  const b = asBuffer(bytes);
  let payload: Uint8Array = b.subarray(HEADER_LENGTH, b.length - TRAILER_LENGTH);
  if (header.encrypted) {
    if (!options.encryption) {
      throw new EncryptionKeyError(`segment '${key}' is encrypted: supply the backup's encryption key`);
    }
    try {
      payload = decrypt(options.encryption, header.nonce, b.subarray(0, HEADER_LENGTH), payload);
    } catch (cause) {
      throw new CorruptObjectError(key, 'AES-256-GCM authentication failed (altered bytes or a wrong key)', {
        cause,
      });
    }
  }
  try {
    return { header, block: await decompress(header.compression, payload, header.uncompressedSize) };
  } catch (cause) {
    throw new CorruptObjectError(
      key,
      `${header.compression} payload does not decompress: ${message(cause)}`,
      {
        cause,
      },
    );
  }
}

/** Size and SHA-256 checks against what the manifest recorded. */
export async function verifyStoredObject(
  bytes: Uint8Array,
  options: { readonly key: string; readonly expectedSize?: number; readonly expectedSha256?: string },
): Promise<void> {
  if (options.expectedSize !== undefined && bytes.length !== options.expectedSize) {
    throw new CorruptObjectError(
      options.key,
      `size ${bytes.length} bytes, the manifest recorded ${options.expectedSize}`,
    );
  }
  if (options.expectedSha256 !== undefined && (await sha256HexAsync(bytes)) !== options.expectedSha256) {
    throw new CorruptObjectError(options.key, 'SHA-256 differs from the manifest');
  }
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
