/**
 * In-process micro-benchmark of the v1 segment codec (not a test; nothing asserted):
 *   ./node_modules/.bin/node --import tsx bench/format-codec.ts [records] [valueBytes]
 * Encodes 1 KiB records (3 headers) through PartitionSegmentWriter into 16 MiB segments for each
 * codec, then decodes them with verification, and prints MB/s of record payload (key + value), by wall
 * time and per CPU second of this process (all threads; steadier on a shared machine).
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
// Values about half compressible: a unique random half and a repeated JSON-like half.
const half = Math.floor(valueBytes / 2);
const random = randomBytes(count * half);
const text = Buffer.from(
  '{"customer":"c-000123","items":[{"sku":"A-1","qty":2}],"status":"NEW"} '.repeat(64),
);
const records: KafkaRecord[] = Array.from({ length: count }, (_, i) => ({
  offset: BigInt(i),
  timestamp: 1_700_000_000_000n + BigInt(i),
  timestampType: 'CreateTime',
  key: Buffer.from(`key-${i % 1000}`),
  value: Buffer.concat([random.subarray(i * half, (i + 1) * half), text.subarray(0, valueBytes - half)]),
  headers: [
    ['trace-id', Buffer.from('0123456789abcdef')],
    ['source', Buffer.from('bench')],
    ['empty', null],
  ],
}));
const payload = records.reduce((n, r) => n + (r.key?.length ?? 0) + (r.value?.length ?? 0), 0);
const mb = payload / 1e6;

// Warm-up, so the first codec measured is not also paying for the JIT.
{
  const w = new PartitionSegmentWriter(
    { topic: 'warmup', partition: 0 },
    { compression: 'none', maxBytes: 1 << 20 },
  );
  for (const r of records.slice(0, 20_000)) {
    if (w.append(r)) {
      const s = (await w.seal()) as SealedSegment;
      await decodeSegment(s.bytes, { key: 'warmup', expectedSha256: s.sha256 });
    }
  }
}

for (const compression of ['none', 'lz4', 'zstd', 'gzip'] as Compression[]) {
  for (const encrypted of [false, true]) {
    const options = { compression, ...(encrypted ? { encryption: { key: randomBytes(32) } } : {}) };
    const writer = new PartitionSegmentWriter({ topic: 'bench', partition: 0 }, options);
    // Each sealed segment is decoded and dropped at once, as in a real backup/restore, so memory
    // stays at one segment and the garbage collector sees a realistic load.
    const time = { encodeMs: 0, encodeCpuMs: 0, decodeMs: 0, decodeCpuMs: 0 };
    let stored = 0;
    let decoded = 0;
    const decode = async (s: SealedSegment) => {
      const t = performance.now();
      const cpu = process.cpuUsage();
      const { records: out } = await decodeSegment(s.bytes, {
        key: 'bench',
        expectedSha256: s.sha256,
        expectedSize: s.bytes.length,
        ...(encrypted ? { encryption: options.encryption } : {}),
      });
      decoded += out.length;
      stored += s.bytes.length;
      time.decodeMs += performance.now() - t;
      time.decodeCpuMs += cpuMs(process.cpuUsage(cpu));
    };
    let t = performance.now();
    let cpu = process.cpuUsage();
    for (const r of records) {
      if (writer.append(r)) {
        const s = (await writer.seal()) as SealedSegment;
        time.encodeMs += performance.now() - t;
        time.encodeCpuMs += cpuMs(process.cpuUsage(cpu));
        await decode(s);
        t = performance.now();
        cpu = process.cpuUsage();
      }
    }
    const last = await writer.seal();
    time.encodeMs += performance.now() - t;
    time.encodeCpuMs += cpuMs(process.cpuUsage(cpu));
    if (last) await decode(last);
    if (decoded !== count) throw new Error('decode lost records');
    const rate = (ms: number) => (mb / (ms / 1000)).toFixed(0).padStart(5);
    console.log(
      `${(compression + (encrypted ? '+aes' : '')).padEnd(9)} encode ${rate(time.encodeMs)} MB/s wall, ` +
        `${rate(time.encodeCpuMs)} MB/s per CPU-s | decode+verify ${rate(time.decodeMs)} MB/s wall, ` +
        `${rate(time.decodeCpuMs)} MB/s per CPU-s | stored/payload ${(stored / payload).toFixed(2)}`,
    );
  }
}

function cpuMs(u: NodeJS.CpuUsage): number {
  return (u.user + u.system) / 1000;
}
