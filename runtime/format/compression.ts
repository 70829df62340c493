import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { lz4 } from './lz4.ts';
import type { Compression } from './types.ts';

/**
 * Codecs of v1 segments. zstd and gzip are Node's built-in zlib (run on the libuv thread pool, so
 * compression overlaps with fetching); lz4 is the LZ4 frame format via lz4-napi (lz4_flex, prebuilt).
 */

const zstdCompress = promisify(zlib.zstdCompress);
const zstdDecompress = promisify(zlib.zstdDecompress);
const gzip = promisify(zlib.gzip);
const gunzip = promisify(zlib.gunzip);

export const COMPRESSION_CODES: Readonly<Record<Compression, number>> = { none: 0, zstd: 1, lz4: 2, gzip: 3 };

export function compressionFromCode(code: number): Compression | undefined {
  return (['none', 'zstd', 'lz4', 'gzip'] as const)[code];
}

export const DEFAULT_ZSTD_LEVEL = 3;

/**
 * zlib's one-shot helpers stream in 16 KiB chunks by default, one thread-pool round trip each: a
 * 16 MiB segment then takes a thousand of them (3-4x slower). Decompressing, one output chunk the
 * size of the data does it in one.
 */
function chunkFor(bytes: number): number {
  return Math.max(64 * 1024, Math.min(bytes + 1024, 64 * 1024 * 1024));
}

/**
 * Compressing, the output is usually a fraction of the input, and every chunk is a fresh buffer:
 * a chunk the size of a 16 MiB segment allocated 16 MiB to hold ~1 MiB, and each such buffer pushes
 * V8 towards a full collection (external memory). Chunks of at most 1 MiB cost nothing measurable
 * on incompressible data (16 round trips instead of one).
 */
function compressChunkFor(bytes: number): number {
  return Math.min(chunkFor(bytes), 1024 * 1024);
}

export async function compress(codec: Compression, data: Uint8Array, level?: number): Promise<Uint8Array> {
  switch (codec) {
    case 'none':
      return data;
    case 'zstd':
      return zstdCompress(data, {
        chunkSize: compressChunkFor(data.length),
        params: {
          [zlib.constants.ZSTD_c_compressionLevel]: level ?? DEFAULT_ZSTD_LEVEL,
          [zlib.constants.ZSTD_c_checksumFlag]: 0,
        },
      });
    case 'gzip':
      return gzip(data, { level: level ?? 6, chunkSize: compressChunkFor(data.length) });
    case 'lz4':
      return lz4().compressFrame(data);
  }
}

/** Decompresses and checks the result has exactly `expectedLength` bytes. */
export async function decompress(
  codec: Compression,
  data: Uint8Array,
  expectedLength: number,
): Promise<Uint8Array> {
  let out: Uint8Array;
  switch (codec) {
    case 'none':
      out = data;
      break;
    case 'zstd':
      out = await zstdDecompress(data, {
        maxOutputLength: Math.max(1, expectedLength),
        chunkSize: chunkFor(expectedLength),
      });
      break;
    case 'gzip':
      out = await gunzip(data, {
        maxOutputLength: Math.max(1, expectedLength),
        chunkSize: chunkFor(expectedLength),
      });
      break;
    case 'lz4':
      out = await lz4().decompressFrame(data);
      break;
  }
  if (out.length !== expectedLength) {
    throw new RangeError(`decompressed to ${out.length} bytes, the header says ${expectedLength}`);
  }
  return out;
}
