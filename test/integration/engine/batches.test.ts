import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runBackup } from '../../../runtime/engine/backup.ts';
import { runRestore } from '../../../runtime/engine/restore.ts';
import { decompress } from '../../../runtime/format/compression.ts';
import { findPartition, readSegmentHeader } from '../../../runtime/format/index.ts';
import { COMPRESSION_MASK, readBatchHeader } from '../../../runtime/format/kafka-batch.ts';
import { uniqueName } from '../../env/fixture.ts';
import { createTopic, deleteTopic, produce } from '../../env/kafka-client.ts';
import {
  content,
  countProduces,
  fidelityRecords,
  kafkaPort,
  readTopic,
  tempRepository,
  testConnection,
} from './helpers.ts';

/**
 * Backup keeps Kafka's record batches as the broker sent them (format v2): a producer's compression
 * stays in the stored batch, and a restore still reproduces every record exactly.
 */
describe('backup stores record batches whole (format v2)', () => {
  const source = testConnection('source');
  const target = testConnection('target');
  const topics: [typeof source, string][] = [];
  let repo: Awaited<ReturnType<typeof tempRepository>>;

  before(async () => {
    repo = await tempRepository();
  });
  after(async () => {
    for (const [c, t] of topics) await deleteTopic(c, t).catch(() => {});
    await repo.cleanup();
  });

  const codecs = { gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;
  for (const [codec, bits] of Object.entries(codecs) as [keyof typeof codecs, number][]) {
    test(`${codec}-compressed batches are stored as produced and restore byte for byte`, async () => {
      const topic = uniqueName(`batch-${codec}`);
      await createTopic(source, topic, { partitions: 2 });
      topics.push([source, topic]);
      const records = fidelityRecords(1200, 2, bits);
      for (let i = 0; i < records.length; i += 300) {
        await produce(source, topic, records.slice(i, i + 300), { compression: codec });
      }
      const original = await readTopic(source, topic);
      assert.equal(original.flat().length, 1200, 'the topic holds what was produced');
      const backupId = `b-${codec}`;

      const sourceKafka = kafkaPort('source');
      const backup = await runBackup(
        { kafka: sourceKafka, repository: repo.repository },
        { backupId, topics: { include: [topic] }, segmentMaxBytes: 1024 },
      );
      await sourceKafka.close();
      assert.equal(backup.records, 1200);

      // Every stored segment is v2, and every batch in it carries the producer's codec.
      const opened = await repo.repository.open(backupId);
      const manifest = await opened.manifest();
      let batches = 0;
      for (const partition of [0, 1]) {
        const p = findPartition(manifest, topic, partition);
        assert.ok(p && p.segments.length > 1, 'the topic spans several segments');
        for (const segment of p.segments) {
          const bytes = await repo.repository.store.get(segment.key);
          const header = readSegmentHeader(bytes, segment.key);
          assert.equal(header.version, 2);
          const block = await decompress(
            header.compression,
            bytes.subarray(64, bytes.length - 8),
            header.uncompressedSize,
          );
          for (let pos = 0; pos < block.length; batches++) {
            const batch = readBatchHeader(block, pos);
            assert.ok(batch, 'whole batches only');
            assert.equal(batch.attributes & COMPRESSION_MASK, bits);
            pos += batch.size;
          }
        }
      }
      assert.ok(batches >= 4);

      // The restore produces the stored batches as they are: no record goes through the client's encoder.
      const targetKafka = kafkaPort('target');
      const calls = countProduces(targetKafka);
      const restored = await runRestore(
        { kafka: targetKafka, repository: repo.repository },
        { backupId, createTopics: true },
      );
      topics.push([target, topic]);
      assert.equal(restored.records, 1200);
      assert.equal(calls.records, 0);
      assert.equal(calls.batches, batches);
      const copy = await readTopic(target, topic);
      assert.deepEqual(
        copy.map((p) => p.map((r) => content(r, true))),
        original.map((p) => p.map((r) => content(r, true))),
      );
      // On the target too, every batch carries the producer's codec: nothing was re-compressed.
      for (const partition of [0, 1]) {
        const page = await targetKafka.fetchBatches({ topic, partition }, 0n);
        assert.equal(page.kind, 'batches');
        if (page.kind !== 'batches') continue;
        assert.ok(page.batches.length > 0);
        for (const b of page.batches) assert.equal(b.header.attributes & COMPRESSION_MASK, bits);
      }

      // With produceBatchSize below the stored batches' record counts, each is split into batches
      // of at most that many records: still no record re-encoded, the codec and every record kept.
      const split = `${topic}-split`;
      calls.batches = 0;
      const again = await runRestore(
        { kafka: targetKafka, repository: repo.repository },
        { backupId, createTopics: true, topicMapping: { [topic]: split }, produceBatchSize: 40 },
      );
      topics.push([target, split]);
      assert.equal(again.records, 1200);
      assert.equal(calls.records, 0);
      assert.ok(calls.batches > batches, `${calls.batches} produced for ${batches} stored batches`);
      assert.deepEqual(
        (await readTopic(target, split)).map((p) => p.map((r) => content(r, true))),
        original.map((p) => p.map((r) => content(r, true))),
      );
      for (const partition of [0, 1]) {
        const page = await targetKafka.fetchBatches({ topic: split, partition }, 0n);
        assert.equal(page.kind, 'batches');
        if (page.kind !== 'batches') continue;
        for (const b of page.batches) {
          assert.equal(b.header.attributes & COMPRESSION_MASK, bits);
          assert.ok(b.stats.recordCount <= 40);
        }
      }
      await targetKafka.close();
    });
  }
});
