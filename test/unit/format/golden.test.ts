import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import {
  BackupRepository,
  CorruptObjectError,
  decodeSegment,
  encodeSegment,
  findPartition,
  type KafkaRecord,
  planPartition,
  readSegmentHeader,
  selectRecords,
  UnsupportedFormatError,
} from '../../../runtime/format/index.ts';
import { readBatchHeader } from '../../../runtime/format/kafka-batch.ts';
import { encodeBatchBlock } from '../../../runtime/format/segment.ts';
import { FilesystemObjectStore } from '../../../runtime/storage/filesystem.ts';
import {
  GOLDEN_KEY,
  GOLDEN_NONCE,
  GOLDEN_RECORDS,
  GOLDEN_STATS,
} from '../../fixtures/format/golden-records.ts';
import { recordsToJson } from '../../fixtures/format/records-json.ts';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/format');
const read = (p: string) => readFileSync(path.join(fixtures, p));
const expectedJson = JSON.parse(read('v1/records.json').toString('utf8'));

describe('golden fixtures, format v1', () => {
  test('records.json is the golden record set', () => {
    assert.deepEqual(recordsToJson(GOLDEN_RECORDS), expectedJson);
  });

  for (const compression of ['none', 'zstd', 'lz4', 'gzip']) {
    for (const encrypted of [false, true]) {
      const file = `v1/segment-${compression}${encrypted ? '-aes256gcm' : ''}.kbs`;
      test(`${file} decodes to the golden records`, async () => {
        const decoded = await decodeSegment(read(file), {
          key: file,
          ...(encrypted ? { encryption: GOLDEN_KEY } : {}),
        });
        assert.deepEqual(recordsToJson(decoded.records), expectedJson);
        assert.equal(decoded.header.compression, compression);
        assert.equal(decoded.header.firstOffset, 100n);
        assert.equal(decoded.header.lastOffset, 112n);
        assert.equal(decoded.header.minTimestamp, -1n);
        assert.equal(decoded.header.maxTimestamp, 1_700_000_001_000n);
      });
    }
  }

  test('re-encoding the golden records gives the committed bytes (compression none, with and without a fixed nonce)', async () => {
    const plain = await encodeSegment(GOLDEN_RECORDS, { compression: 'none' });
    assert.ok(Buffer.from(plain.bytes).equals(read('v1/segment-none.kbs')));
    const sealed = await encodeSegment(GOLDEN_RECORDS, {
      compression: 'none',
      encryption: GOLDEN_KEY,
      nonce: GOLDEN_NONCE,
    });
    assert.ok(Buffer.from(sealed.bytes).equals(read('v1/segment-none-aes256gcm.kbs')));
  });

  test('the header layout is as specified (docs/format/v1.md §3)', () => {
    const b = read('v1/segment-none.kbs');
    assert.equal(b.subarray(0, 4).toString('latin1'), 'KBSG');
    assert.equal(b.readUInt16LE(4), 1);
    assert.equal(b.readUInt8(6), 0);
    assert.equal(b.readUInt8(7), 0);
    assert.equal(b.readUInt32LE(12), 5);
    assert.equal(b.subarray(b.length - 4).toString('latin1'), 'KBSE');
    assert.equal(readSegmentHeader(b, 'x').uncompressedSize, b.length - 72);
  });

  test('the committed v1 backup reads back: runs, gaps, metadata, documents, records', async () => {
    const repo = new BackupRepository(new FilesystemObjectStore(path.join(fixtures, 'v1/backup')));
    assert.deepEqual(
      (await repo.list()).map((b) => [b.backupId, b.format]),
      [['golden-v1', 'kafka-backup-v1']],
    );
    const backup = await repo.open('golden-v1');
    const m = await backup.manifest();
    assert.deepEqual(
      m.runs.map((r) => r.runId),
      ['run-1', 'run-2'],
    );
    assert.deepEqual(m.topics[0]?.metadata, {
      name: 'orders',
      partitionCount: 2,
      replicationFactor: 3,
      configs: { 'cleanup.policy': 'compact' },
    });
    const p = findPartition(m, 'orders', 0)!;
    assert.deepEqual(p.covered, [{ start: 90n, end: 113n }]);
    assert.deepEqual(
      p.gaps.map((g) => [g.start, g.end, g.reason]),
      [[90n, 100n, 'retention']],
    );
    const records: KafkaRecord[] = [];
    for (const r of planPartition(p).reads)
      records.push(...selectRecords((await backup.readSegment(r.segment)).records, r, {}));
    assert.deepEqual(recordsToJson(records), expectedJson);
    assert.deepEqual(await backup.getDocument('consumer-groups/run-2'), {
      groups: [{ groupId: 'billing', offsets: { orders: { '0': '113' } } }],
    });
  });
});

describe('golden fixtures, format v2 (Kafka batches)', () => {
  const expectedV2 = JSON.parse(read('v2/records.json').toString('utf8'));
  const block = read('v2/batches-block.bin');

  test('v2 records.json is the golden record set', () => {
    assert.deepEqual(recordsToJson(GOLDEN_RECORDS), expectedV2);
  });

  for (const compression of ['none', 'zstd', 'lz4', 'gzip']) {
    for (const encrypted of [false, true]) {
      const file = `v2/segment-${compression}${encrypted ? '-aes256gcm' : ''}.kbs`;
      test(`${file} decodes to the golden records`, async () => {
        const decoded = await decodeSegment(read(file), {
          key: file,
          ...(encrypted ? { encryption: GOLDEN_KEY } : {}),
        });
        assert.deepEqual(recordsToJson(decoded.records), expectedV2);
        assert.equal(decoded.header.version, 2);
        assert.equal(decoded.header.compression, compression);
        assert.equal(decoded.header.minTimestamp, -1n);
        assert.equal(decoded.header.maxTimestamp, 1_700_000_001_000n);
      });
    }
  }

  test('the batches block holds batches as the broker sent them: a gzip batch with a compaction hole, a LogAppendTime batch', () => {
    const first = readBatchHeader(block, 0);
    assert.ok(first);
    assert.equal(first.baseOffset, 100n);
    assert.equal(first.attributes & 0x07, 1, 'gzip, as the producer compressed it');
    assert.equal(first.lastOffsetDelta, 10, 'offset deltas keep the compaction hole');
    const second = readBatchHeader(block, first.size);
    assert.ok(second);
    assert.equal(second.attributes & 0x08, 0x08, 'LogAppendTime');
  });

  test('framing the batches block again gives the committed bytes (compression none, with and without a fixed nonce)', async () => {
    const plain = await encodeBatchBlock(block, GOLDEN_STATS, { compression: 'none' });
    assert.ok(Buffer.from(plain.bytes).equals(read('v2/segment-none.kbs')));
    const sealed = await encodeBatchBlock(block, GOLDEN_STATS, {
      compression: 'none',
      encryption: GOLDEN_KEY,
      nonce: GOLDEN_NONCE,
    });
    assert.ok(Buffer.from(sealed.bytes).equals(read('v2/segment-none-aes256gcm.kbs')));
  });

  test('a batch altered inside the segment is named by its CRC-32C, even when the segment CRC is fixed up', async () => {
    const b = Buffer.from(read('v2/segment-none.kbs'));
    b[64 + 70] = (b[64 + 70] as number) ^ 0x01;
    b.writeUInt32LE(zlib.crc32(b.subarray(0, b.length - 8)), b.length - 8);
    await assert.rejects(
      decodeSegment(b, { key: 'altered.kbs' }),
      (e: Error) =>
        e instanceof CorruptObjectError && /altered\.kbs/.test(e.message) && /CRC-32C/.test(e.message),
    );
  });

  test('a reader refuses a segment version it does not know, asking for an upgrade', () => {
    const b = Buffer.from(read('v2/segment-none.kbs'));
    b.writeUInt16LE(3, 4);
    b.writeUInt32LE(zlib.crc32(b.subarray(0, b.length - 8)), b.length - 8);
    assert.throws(() => readSegmentHeader(b, 'future.kbs'), UnsupportedFormatError);
  });
});

describe('golden fixtures, the Rust tool (oso-rust)', () => {
  const repo = new BackupRepository(new FilesystemObjectStore(path.join(fixtures, 'oso-rust')));

  test('its backup is found, opened and mapped onto our model', async () => {
    assert.deepEqual(
      (await repo.list({ includeLegacy: true })).map((b) => [b.backupId, b.format]),
      [['oso-golden', 'oso-rust']],
    );
    const backup = await repo.open('oso-golden');
    assert.equal(backup.format, 'oso-rust');
    const m = await backup.manifest();
    assert.deepEqual(
      m.topics.map((t) => [t.metadata.name, t.metadata.partitionCount]),
      [
        ['legacy', 1],
        ['orders', 2],
      ],
    );
    const p0 = findPartition(m, 'orders', 0)!;
    assert.deepEqual(
      p0.gaps.map((g) => [g.start, g.end, g.reason]),
      [[90n, 100n, 'retention']],
    );
    assert.ok(p0.segments.every((s) => !s.timestampsAreBounds && s.sha256 === undefined));
  });

  test('KBAK segments (zstd, lz4, none) decode; injected x-original-* headers are stripped', async () => {
    const backup = await repo.open('oso-golden');
    const m = await backup.manifest();
    const records: KafkaRecord[] = [];
    for (const p of [0, 1]) {
      for (const s of findPartition(m, 'orders', p)!.segments)
        records.push(...(await backup.readSegment(s)).records);
    }
    // What survives their format: null header values became empty, every timestamp type is CreateTime.
    const expected = GOLDEN_RECORDS.map((r) => ({
      ...r,
      timestampType: 'CreateTime' as const,
      headers: r.headers.map(([k, v]) => [k, v ?? new Uint8Array(0)] as const),
    }));
    assert.deepEqual(recordsToJson(records), recordsToJson(expected));
  });

  test('a legacy JSON segment decodes', async () => {
    const backup = await repo.open('oso-golden');
    const s = findPartition(await backup.manifest(), 'legacy', 0)!.segments[0]!;
    const { records } = await backup.readSegment(s);
    assert.deepEqual(
      records.map((r) => [
        r.offset,
        r.key && Buffer.from(r.key).toString(),
        r.value && Buffer.from(r.value).toString(),
      ]),
      [
        [0n, null, 'old'],
        [1n, 'k', null],
      ],
    );
  });

  test('their consumer group snapshot is readable as a document', async () => {
    const backup = await repo.open('oso-golden');
    const snap = (await backup.getDocument('consumer-groups-snapshot')) as { groups: { group_id: string }[] };
    assert.equal(snap.groups[0]?.group_id, 'billing');
  });
});

describe('the Rust format: damage is detected and named', () => {
  test('any single-byte change in a KBAK segment is refused with its key', async () => {
    const { decodeOsoSegment } = await import('../../../runtime/format/legacy/oso-segment.ts');
    const { CorruptObjectError } = await import('../../../runtime/format/index.ts');
    const key = 'oso-golden/topics/orders/partition=0/segment-00000000000000000110.bin.lz4';
    const original = read(`oso-rust/${key}`);
    for (let i = 0; i < original.length; i++) {
      const b = Buffer.from(original);
      b[i] = (b[i] as number) ^ 0x5a;
      assert.throws(
        () => decodeOsoSegment(b, key),
        (e: unknown) => e instanceof CorruptObjectError && e.key === key,
        `byte ${i}`,
      );
    }
    assert.throws(() => decodeOsoSegment(original.subarray(0, original.length - 3), key), CorruptObjectError);
  });
});

describe('v1 JSON objects carry their own checksum', () => {
  test('any single-byte change in a commit is named when the manifest is read', async () => {
    const { MemoryObjectStore } = await import('../../../runtime/storage/memory.ts');
    const { CorruptObjectError } = await import('../../../runtime/format/index.ts');
    const fc = (await import('fast-check')).default;
    const source = new FilesystemObjectStore(path.join(fixtures, 'v1/backup'));
    const commitKey = 'golden-v1/commits/0000000000.json';
    const original = Buffer.from(await source.get(commitKey));
    await fc.assert(
      fc.asyncProperty(fc.nat(original.length - 1), fc.integer({ min: 1, max: 255 }), async (at, xor) => {
        const mem = new MemoryObjectStore();
        for await (const info of source.list('')) await mem.put(info.key, await source.get(info.key));
        const damaged = Buffer.from(original);
        damaged[at] = (damaged[at] as number) ^ xor;
        await mem.put(commitKey, damaged);
        const backup = await new BackupRepository(mem).open('golden-v1');
        await assert.rejects(
          backup.manifest(),
          (e: unknown) => e instanceof CorruptObjectError && e.key === commitKey,
        );
      }),
      { numRuns: 150 },
    );
  });
});
