import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  type Compression,
  CorruptObjectError,
  decodeSegment,
  EncryptionKeyError,
  encodeSegment,
  PartitionSegmentWriter,
} from '../../../runtime/format/index.ts';
import { recordsArb, sameRecords } from './arbitraries.ts';

const compressions: Compression[] = ['zstd', 'lz4', 'gzip', 'none'];
const key = { key: Uint8Array.from({ length: 32 }, (_, i) => i) };

describe('segment codec', () => {
  for (const compression of compressions) {
    for (const encrypted of [false, true]) {
      test(`encode -> decode is the identity (${compression}${encrypted ? ', encrypted' : ''})`, async () => {
        await fc.assert(
          fc.asyncProperty(recordsArb(), async (records) => {
            const enc = await encodeSegment(records, {
              compression,
              ...(encrypted ? { encryption: key } : {}),
            });
            const dec = await decodeSegment(enc.bytes, {
              key: 'seg',
              expectedSha256: enc.sha256,
              expectedSize: enc.bytes.length,
              ...(encrypted ? { encryption: key } : {}),
            });
            assert.ok(sameRecords(dec.records, records), 'decoded records differ');
            assert.equal(dec.header.recordCount, records.length);
            assert.equal(dec.header.compression, compression);
          }),
          { numRuns: 60 },
        );
      });
    }
  }

  test('incompressible records larger than one compression chunk come back whole', async () => {
    // Compressed output past 1 MiB is produced in several chunks and joined: every codec, 3 MiB.
    const value = randomBytes(3 * 1024 * 1024);
    const records = [
      {
        offset: 7n,
        timestamp: 1_700_000_000_000n,
        timestampType: 'CreateTime' as const,
        key: null,
        value,
        headers: [],
      },
    ];
    for (const compression of compressions) {
      const enc = await encodeSegment(records, { compression });
      assert.ok(enc.bytes.length > value.length, `${compression}: random bytes do not shrink`);
      const dec = await decodeSegment(enc.bytes, {
        key: 'seg',
        expectedSha256: enc.sha256,
        expectedSize: enc.bytes.length,
      });
      assert.ok(sameRecords(dec.records, records), `${compression}: decoded records differ`);
    }
  });

  test('null and empty keys, values and header values stay distinct', async () => {
    const empty = new Uint8Array(0);
    const records = [
      {
        offset: 0n,
        timestamp: 1n,
        timestampType: 'CreateTime' as const,
        key: null,
        value: empty,
        headers: [],
      },
      {
        offset: 1n,
        timestamp: 1n,
        timestampType: 'CreateTime' as const,
        key: empty,
        value: null,
        headers: [['h', null] as const, ['h', empty] as const, ['h', null] as const],
      },
    ];
    const enc = await encodeSegment(records, { compression: 'none' });
    const dec = await decodeSegment(enc.bytes, { key: 'seg' });
    assert.equal(dec.records[0]?.key, null);
    assert.equal(dec.records[0]?.value?.length, 0);
    assert.equal(dec.records[1]?.key?.length, 0);
    assert.equal(dec.records[1]?.value, null);
    assert.deepEqual(
      dec.records[1]?.headers.map(([k, v]) => [k, v === null ? null : v.length]),
      [
        ['h', null],
        ['h', 0],
        ['h', null],
      ],
    );
  });

  for (const withManifest of [true, false]) {
    test(`any single-byte change is detected and names the object (${withManifest ? 'with' : 'without'} manifest checksum)`, async () => {
      await fc.assert(
        fc.asyncProperty(
          recordsArb(10),
          fc.constantFrom(...compressions),
          fc.boolean(),
          fc.nat(),
          fc.integer({ min: 1, max: 255 }),
          async (records, compression, encrypted, at, xor) => {
            const enc = await encodeSegment(records, {
              compression,
              ...(encrypted ? { encryption: key } : {}),
            });
            const bytes = Buffer.from(enc.bytes);
            const pos = at % bytes.length;
            bytes[pos] = (bytes[pos] as number) ^ xor;
            await assert.rejects(
              decodeSegment(bytes, {
                key: 'topics/t/0/seg',
                ...(withManifest ? { expectedSha256: enc.sha256 } : {}),
                ...(encrypted ? { encryption: key } : {}),
              }),
              (e: unknown) => e instanceof CorruptObjectError && e.key === 'topics/t/0/seg',
            );
          },
        ),
        { numRuns: 300 },
      );
    });
  }

  test('any truncation or extension is detected and names the object', async () => {
    await fc.assert(
      fc.asyncProperty(
        recordsArb(10),
        fc.constantFrom(...compressions),
        fc.nat(),
        async (records, compression, n) => {
          const enc = await encodeSegment(records, { compression });
          const cut = n % enc.bytes.length;
          for (const damaged of [
            enc.bytes.subarray(0, cut),
            Buffer.concat([enc.bytes, Buffer.from([n & 0xff])]),
          ]) {
            await assert.rejects(
              decodeSegment(damaged, { key: 'k1' }),
              (e: unknown) => e instanceof CorruptObjectError && e.key === 'k1',
            );
            await assert.rejects(
              decodeSegment(damaged, { key: 'k1', expectedSize: enc.bytes.length }),
              (e: unknown) => e instanceof CorruptObjectError && e.key === 'k1' && /size/.test(e.reason),
            );
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  test('an encrypted segment without a key, or with another key, is refused', async () => {
    const records = [
      {
        offset: 7n,
        timestamp: 1n,
        timestampType: 'CreateTime' as const,
        key: null,
        value: null,
        headers: [],
      },
    ];
    const enc = await encodeSegment(records, { encryption: key });
    await assert.rejects(decodeSegment(enc.bytes, { key: 'k' }), EncryptionKeyError);
    await assert.rejects(
      decodeSegment(enc.bytes, { key: 'k', encryption: { key: new Uint8Array(32) } }),
      (e: unknown) => e instanceof CorruptObjectError && /authentication/.test(e.reason),
    );
    assert.equal(Buffer.from(enc.bytes).includes(Buffer.from('kafka')), false);
  });

  test('encryption uses a fresh nonce per object', async () => {
    const records = [
      {
        offset: 0n,
        timestamp: 0n,
        timestampType: 'CreateTime' as const,
        key: null,
        value: null,
        headers: [],
      },
    ];
    const a = await encodeSegment(records, { encryption: key });
    const b = await encodeSegment(records, { encryption: key });
    assert.notDeepEqual(a.header.nonce, b.header.nonce);
    assert.notEqual(a.sha256, b.sha256);
  });
});

describe('PartitionSegmentWriter', () => {
  test('seals at the record threshold and the segments together hold every record in order', async () => {
    await fc.assert(
      fc.asyncProperty(recordsArb(60), fc.integer({ min: 1, max: 7 }), async (records, maxRecords) => {
        const writer = new PartitionSegmentWriter(
          { topic: 't', partition: 3 },
          { compression: 'lz4', maxRecords },
        );
        const out = [];
        for (const r of records) {
          if (writer.append(r)) out.push(await writer.seal());
        }
        out.push(await writer.seal());
        const decoded = [];
        for (const s of out) {
          if (!s) continue;
          assert.equal(s.topic, 't');
          assert.equal(s.partition, 3);
          assert.ok(s.header.recordCount <= maxRecords);
          decoded.push(...(await decodeSegment(s.bytes, { key: 'x', expectedSha256: s.sha256 })).records);
        }
        assert.ok(sameRecords(decoded, records));
      }),
      { numRuns: 40 },
    );
  });

  test('appending while earlier segments are still being sealed (buffers recycled) loses nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        recordsArb(80),
        fc.integer({ min: 1, max: 9 }),
        fc.constantFrom(...compressions),
        async (records, maxRecords, compression) => {
          const writer = new PartitionSegmentWriter(
            { topic: 't', partition: 0 },
            { compression, maxRecords, maxBytes: 4096 },
          );
          const pending = [];
          for (const r of records) if (writer.append(r)) pending.push(writer.seal());
          pending.push(writer.seal());
          const decoded = [];
          for (const s of await Promise.all(pending)) {
            if (s)
              decoded.push(...(await decodeSegment(s.bytes, { key: 'x', expectedSha256: s.sha256 })).records);
          }
          assert.ok(sameRecords(decoded, records));
        },
      ),
      { numRuns: 60 },
    );
  });

  test('seals at the byte threshold', async () => {
    const writer = new PartitionSegmentWriter(
      { topic: 't', partition: 0 },
      { compression: 'none', maxBytes: 10_000 },
    );
    let sealed = 0;
    for (let i = 0; i < 100; i++) {
      const full = writer.append({
        offset: BigInt(i),
        timestamp: 0n,
        timestampType: 'CreateTime',
        key: null,
        value: new Uint8Array(1000),
        headers: [],
      });
      if (full) {
        const s = await writer.seal();
        assert.ok(s && s.header.uncompressedSize >= 10_000 && s.header.uncompressedSize < 11_100);
        sealed++;
      }
    }
    // Each record encodes to 1007 bytes, so every 10th record crosses 10,000 bytes.
    assert.equal(sealed, 10);
    assert.equal(writer.bufferedRecords, 0);
  });

  test('refuses offsets that do not increase', () => {
    const writer = new PartitionSegmentWriter({ topic: 't', partition: 0 });
    const r = {
      offset: 5n,
      timestamp: 0n,
      timestampType: 'CreateTime' as const,
      key: null,
      value: null,
      headers: [],
    };
    writer.append(r);
    assert.throws(() => writer.append(r), /offsets must increase/);
  });
});
