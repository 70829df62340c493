/**
 * In-process micro-benchmark of the v1 segment codec (not a test; nothing asserted):
 *   ./node_modules/.bin/node --import tsx bench/format-codec.ts [records] [valueBytes]
 * Encodes 1 KiB records (3 headers) through PartitionSegmentWriter into 16 MiB segments for each
 * codec, then decodes them with verification, and prints MB/s of record payload.
 */
import { randomBytes } from 'node:crypto';
import {
  type Compression,
  decodeSegment,
  PartitionSegmentWriter,
  type SealedSegment,
} from '../runtime/format/index.ts';
import type { KafkaRecord } from '../runtime/record.ts';

const count = Number(process.argv[2] ?? 200_000);
const valueBytes = Number(process.argv[3] ?? 1024);
const pool = randomBytes(valueBytes * 64);
// Semi-compressible values: random slices repeated, like typical JSON-ish payloads.
const records: KafkaRecord[] = Array.from({ length: count }, (_, i) => ({
  offset: BigInt(i),
  timestamp: 1_700_000_000_000n + BigInt(i),
  timestampType: 'CreateTime',
  key: Buffer.from(`key-${i % 1000}`),
  value: pool.subarray((i % 64) * (valueBytes / 2), (i % 64) * (valueBytes / 2) + valueBytes),
  headers: [
    ['trace-id', Buffer.from('0123456789abcdef')],
    ['source', Buffer.from('bench')],
    ['empty', null],
  ],
}));
const payload = records.reduce((n, r) => n + (r.key?.length ?? 0) + (r.value?.length ?? 0), 0);
const mb = payload / 1e6;

for (const compression of ['none', 'lz4', 'zstd', 'gzip'] as Compression[]) {
  for (const encrypted of [false, true]) {
    const options = { compression, ...(encrypted ? { encryption: { key: randomBytes(32) } } : {}) };
    const writer = new PartitionSegmentWriter({ topic: 'bench', partition: 0 }, options);
    let t = performance.now();
    const sealed: SealedSegment[] = [];
    for (const r of records) if (writer.append(r)) sealed.push((await writer.seal())!);
    const last = await writer.seal();
    if (last) sealed.push(last);
    const encodeMs = performance.now() - t;
    const stored = sealed.reduce((n, s) => n + s.bytes.length, 0);
    t = performance.now();
    let decoded = 0;
    for (const s of sealed) {
      decoded += (
        await decodeSegment(s.bytes, {
          key: 'bench',
          expectedSha256: s.sha256,
          expectedSize: s.bytes.length,
          ...(encrypted ? { encryption: options.encryption } : {}),
        })
      ).records.length;
    }
    const decodeMs = performance.now() - t;
    if (decoded !== count) throw new Error('decode lost records');
    console.log(
      `${(compression + (encrypted ? '+aes' : '')).padEnd(9)} encode ${(mb / (encodeMs / 1000)).toFixed(0).padStart(5)} MB/s ` +
        `(${(((count / encodeMs) * 1000) / 1e6).toFixed(2)} M rec/s)  decode+verify ${(mb / (decodeMs / 1000)).toFixed(0).padStart(5)} MB/s ` +
        `(${(((count / decodeMs) * 1000) / 1e6).toFixed(2)} M rec/s)  ratio ${(stored / payload).toFixed(2)}`,
    );
  }
}
