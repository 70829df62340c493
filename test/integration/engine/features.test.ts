import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runBackup } from '../../../runtime/engine/backup.ts';
import { murmur2Partition } from '../../../runtime/engine/partitioner.ts';
import { runRestore } from '../../../runtime/engine/restore.ts';
import { offsetMappingFromDocument } from '../../../runtime/offsets/offset-mapping.ts';
import { uniqueName } from '../../env/fixture.ts';
import {
  type ConsumedRecord,
  createTopic,
  deleteTopic,
  endOffsets,
  produce,
  produceTransactions,
  type TestRecord,
  withAdmin,
} from '../../env/kafka-client.ts';
import {
  content,
  fidelityRecords,
  kafkaPort,
  produceAll,
  readTopic,
  tempRepository,
  testConnection,
} from './helpers.ts';

const source = testConnection('source');
const target = testConnection('target');

describe('engine features against real Kafka', { timeout: 600_000 }, () => {
  const cleanup: [typeof source, string][] = [];
  let repo: Awaited<ReturnType<typeof tempRepository>>;
  const src = kafkaPort('source');
  const dst = kafkaPort('target');
  const deps = () => ({ kafka: src, repository: repo.repository });
  const restoreDeps = () => ({ kafka: dst, repository: repo.repository });

  before(async () => {
    repo = await tempRepository();
  });
  after(async () => {
    await src.close();
    await dst.close();
    for (const [c, t] of cleanup) await deleteTopic(c, t).catch(() => {});
    await repo.cleanup();
  });

  async function sourceTopic(prefix: string, partitions: number, configs?: Record<string, string>) {
    const name = uniqueName(prefix);
    await createTopic(source, name, { partitions, ...(configs ? { configs } : {}) });
    cleanup.push([source, name]);
    return name;
  }
  const targetName = (name: string) => {
    cleanup.push([target, name]);
    return name;
  };

  describe('point-in-time windows, offsets, mapping and repartitioning', () => {
    let topic: string;
    let records: TestRecord[];
    let original: ConsumedRecord[][];
    before(async () => {
      topic = await sourceTopic('pitr', 3);
      records = fidelityRecords(6000, 3, 3);
      await produceAll(source, topic, records);
      original = await readTopic(source, topic);
      await runBackup(deps(), {
        backupId: 'features',
        topics: { include: [topic] },
        segmentMaxBytes: 16 * 1024,
      });
    });

    test('a pitr window restores exactly the records whose timestamps lie inside it (inclusive)', async () => {
      const all = original.flat();
      const sorted = all.map((r) => r.timestamp).sort((a, b) => (a < b ? -1 : 1));
      const startTime = sorted[1000] as bigint;
      const endTime = sorted[4000] as bigint;
      const to = targetName(`${topic}-window`);
      const result = await runRestore(restoreDeps(), {
        backupId: 'features',
        topicMapping: { [topic]: to },
        createTopics: true,
        bounds: { startTime, endTime },
      });
      const copy = await readTopic(target, to);
      const expected = original.map((p) =>
        p.filter((r) => r.timestamp >= startTime && r.timestamp <= endTime),
      );
      assert.equal(result.records, expected.flat().length);
      assert.deepEqual(
        copy.map((p) => p.map((r) => content(r))),
        expected.map((p) => p.map((r) => content(r))),
      );
    });

    test('toOffset restores each partition up to and including that offset', async () => {
      const to = targetName(`${topic}-upto`);
      await runRestore(restoreDeps(), {
        backupId: 'features',
        topicMapping: { [topic]: to },
        createTopics: true,
        bounds: { toOffset: 99n },
      });
      assert.deepEqual(await endOffsets(target, to), [100n, 100n, 100n]);
    });

    test('rename + repartition by murmur2: every keyed record lands where the Java partitioner puts it', async () => {
      const to = targetName(`${topic}-re`);
      const result = await runRestore(restoreDeps(), {
        backupId: 'features',
        topicMapping: { [topic]: to },
        repartitioning: { [to]: { strategy: 'murmur2', targetPartitions: 5 } },
        createTopics: true,
      });
      assert.equal(result.records, 6000);
      const copy = await readTopic(target, to);
      assert.equal(copy.length, 5);
      assert.equal(copy.flat().length, 6000);
      for (const [p, partition] of copy.entries()) {
        for (const r of partition) {
          if (r.key !== null) assert.equal(p, murmur2Partition(r.key, 5), 'murmur2 placement');
        }
      }
      const expectedCounts = new Array(5).fill(0);
      let rr = 0;
      for (const part of original) {
        for (const r of part) expectedCounts[r.key === null ? rr++ % 5 : murmur2Partition(r.key, 5)]++;
      }
      // Null keys are spread round-robin in restore order, so only the total per partition is compared.
      assert.deepEqual(
        copy.map((p) => p.length),
        expectedCounts,
      );
    });

    test('partition mapping and the stored offset mapping', async () => {
      const to = targetName(`${topic}-pm`);
      const result = await runRestore(restoreDeps(), {
        backupId: 'features',
        topics: [topic],
        topicMapping: { [topic]: to },
        partitionMapping: { 0: 2, 2: 0 },
        createTopics: true,
      });
      const copy = await readTopic(target, to);
      assert.deepEqual(
        copy[2]?.map((r) => content(r)),
        original[0]?.map((r) => content(r)),
      );
      assert.deepEqual(
        copy[0]?.map((r) => content(r)),
        original[2]?.map((r) => content(r)),
      );
      const backup = await repo.repository.openForWrite('features');
      const doc = await backup.getDocument(result.offsetMapping as string);
      const mapping = offsetMappingFromDocument(doc);
      const p0 = mapping.partitions.find((m) => m.sourcePartition === 0);
      assert.equal(p0?.targetPartition, 2);
      assert.deepEqual(p0?.ranges, [{ source: 0n, target: 0n, count: original[0]?.length }]);
    });

    test('a dry run reports the plan and writes nothing', async () => {
      const to = `${topic}-dry`;
      const result = await runRestore(restoreDeps(), {
        backupId: 'features',
        topicMapping: { [topic]: to },
        createTopics: true,
        dryRun: true,
      });
      assert.equal(result.dryRun, true);
      assert.equal(result.plan.maxRecords, 6000);
      assert.equal(result.plan.topics[0]?.target, to);
      assert.ok(result.plan.timeRange);
      assert.ok(!(await dst.listTopics()).includes(to), 'no topic created');
    });
  });

  test('transactional topic: aborted records and markers never become data; their offsets are a recorded gap', async () => {
    const topic = await sourceTopic('txn', 1);
    const tx = (n: number, tag: string): TestRecord[] =>
      Array.from({ length: n }, (_, i) => ({ key: `${tag}-${i}`, value: `${tag}-value-${i}` }));
    await produceTransactions(source, topic, [
      { records: tx(5, 'c1'), outcome: 'commit' },
      { records: tx(4, 'a1'), outcome: 'abort' },
      { records: tx(3, 'c2'), outcome: 'commit' },
      { records: tx(6, 'a2'), outcome: 'abort' },
      { records: tx(2, 'c3'), outcome: 'commit' },
    ]);
    await produce(source, topic, [{ key: 'plain', value: 'after' }]);
    const result = await runBackup(deps(), { backupId: uniqueName('txn'), topics: { include: [topic] } });
    assert.equal(result.records, 11);
    // 4 + 6 aborted records and 5 markers (one per transaction).
    assert.equal(result.gaps.transactionMarkers, 15);
    assert.equal(result.gaps.compaction, 0);
    const to = targetName(`${topic}-copy`);
    await runRestore(restoreDeps(), {
      backupId: result.backupId,
      topicMapping: { [topic]: to },
      createTopics: true,
    });
    const copy = await readTopic(target, to);
    assert.deepEqual(
      copy[0]?.map((r) => r.key?.toString()),
      [...tx(5, 'c1'), ...tx(3, 'c2'), ...tx(2, 'c3'), { key: 'plain' }].map((r) => r.key),
    );
  });

  test('compacted topic: offset holes are recorded as compaction gaps and the survivors restored', async () => {
    const topic = await sourceTopic('compact', 1, {
      'cleanup.policy': 'compact',
      'segment.ms': '100',
      'min.cleanable.dirty.ratio': '0.01',
      'delete.retention.ms': '100',
      'min.compaction.lag.ms': '0',
    });
    for (let round = 0; round < 20; round++) {
      await produce(
        source,
        topic,
        Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: `round-${round}` })),
      );
    }
    // Wait for the cleaner to remove superseded records (the active segment is never cleaned): the
    // first offsets then have holes.
    const deadline = Date.now() + 180_000;
    for (;;) {
      await produce(source, topic, [{ key: 'tick', value: String(Date.now()) }]);
      const page = await src.fetch({ topic, partition: 0 }, 0n);
      const first = page.kind === 'records' ? page.records.slice(0, 100) : [];
      if (first.some((r, i) => r.offset !== BigInt(i))) break;
      if (Date.now() > deadline) throw new Error('the log cleaner did not compact the topic within 180 s');
      await new Promise((r) => setTimeout(r, 1000));
    }
    const result = await runBackup(deps(), { backupId: uniqueName('compact'), topics: { include: [topic] } });
    assert.ok(result.gaps.compaction > 0, 'the cleaner left holes that the backup recorded');
    const covered = result.partitions[0];
    assert.equal(
      BigInt(result.records) + BigInt(result.gaps.compaction) + BigInt(result.gaps.transactionMarkers),
      (covered?.endOffset ?? 0n) - (covered?.startOffset ?? 0n),
      'every offset is either a record or a gap',
    );
    const to = targetName(`${topic}-copy`);
    await runRestore(restoreDeps(), {
      backupId: result.backupId,
      topicMapping: { [topic]: to },
      createTopics: true,
    });
    const restored = await readTopic(target, to, { counts: [result.records] });
    assert.equal(restored[0]?.length, result.records);
    const described = await dst.describeTopics([to]);
    assert.equal(described[0]?.configs['cleanup.policy'], 'compact', 'captured configs are restored');
  });

  test('records deleted before they were read are a recorded retention gap, never silent', async () => {
    const topic = await sourceTopic('retention', 1);
    await produce(source, topic, fidelityRecords(100, 1));
    const backupId = uniqueName('retention');
    const first = await runBackup(deps(), { backupId, topics: { include: [topic] } });
    assert.equal(first.records, 100);
    await produce(source, topic, fidelityRecords(100, 1));
    await withAdmin(source, (admin) =>
      admin.deleteRecords({ topics: [{ name: topic, partitions: [{ partition: 0, offset: 150n }] }] }),
    );
    const second = await runBackup(deps(), { backupId, topics: { include: [topic] } });
    assert.equal(second.records, 50);
    assert.equal(second.gaps.retention, 50);
    const manifest = await (await repo.repository.openForWrite(backupId)).manifest();
    const gaps = manifest.topics[0]?.partitions[0]?.gaps ?? [];
    assert.deepEqual(
      gaps.map((g) => [g.start, g.end, g.reason]),
      [[100n, 150n, 'retention']],
    );
  });

  test('a backup id holds one cluster: continuing it from another cluster is refused', async () => {
    const name = uniqueName('onecluster');
    await createTopic(source, name, { partitions: 1 });
    await createTopic(target, name, { partitions: 1 });
    cleanup.push([source, name], [target, name]);
    const backupId = uniqueName('cluster');
    await runBackup(deps(), { backupId, topics: { include: [name] } });
    await assert.rejects(
      runBackup({ kafka: dst, repository: repo.repository }, { backupId, topics: { include: [name] } }),
      (error: Error & { kind?: string }) =>
        error.kind === 'conflict' && /another backup id/.test(error.message),
    );
  });

  test('an interrupted repartitioning restore resumes exactly: every target partition gets its records once, in order', async (t) => {
    const name = await sourceTopic('repart-resume', 3);
    await produceAll(source, name, fidelityRecords(3000, 3, 21));
    const original = await readTopic(source, name);
    const backupId = uniqueName('repart');
    await runBackup(deps(), { backupId, topics: { include: [name] }, segmentMaxBytes: 8 * 1024 });
    const to = targetName(`${name}-4`);
    const options = {
      backupId,
      topicMapping: { [name]: to },
      repartitioning: { [to]: { strategy: 'murmur2' as const, targetPartitions: 4 } },
      createTopics: true,
      produceBatchSize: 40,
    };
    // A port whose 25th produce fails, like a crash in the middle of a chunk spread over 4 partitions.
    let calls = 0;
    const failing = new Proxy(dst, {
      get(target, prop, receiver) {
        if (prop === 'produce') {
          return async (...args: Parameters<typeof dst.produce>) => {
            if (++calls === 25) throw new Error('injected produce failure');
            return target.produce(...args);
          };
        }
        const value = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    await assert.rejects(runRestore({ kafka: failing, repository: repo.repository }, options), /injected/);
    await new Promise((r) => setTimeout(r, 500)); // let produces still in flight land
    const written = (await endOffsets(target, to)).reduce((a, b) => a + Number(b), 0);
    assert.ok(written > 0 && written < 3000, `a partial restore (${written})`);
    const resumed = await runRestore(restoreDeps(), options);
    assert.equal(resumed.resumed, true);
    assert.equal(resumed.records, 3000 - written, 'the resume produced only what was missing');
    t.diagnostic(`records found on the targets beyond the checkpoint: ${resumed.reconciled}`);

    const expected: ConsumedRecord[][] = [[], [], [], []];
    let rr = 0;
    for (const partition of original) {
      for (const r of partition) {
        const p = r.key === null ? rr++ % 4 : murmur2Partition(r.key, 4);
        expected[p]?.push(r);
      }
    }
    const copy = await readTopic(target, to);
    assert.deepEqual(
      copy.map((p) => p.map((r) => content(r))),
      expected.map((p) => p.map((r) => content(r))),
    );
  });

  test('restoring a topic onto itself on its own cluster is refused unless purgeTopics is set', async () => {
    const name = await sourceTopic('self', 1);
    await produce(source, name, fidelityRecords(10, 1));
    const backupId = uniqueName('self');
    await runBackup(deps(), { backupId, topics: { include: [name] } });
    await assert.rejects(
      runRestore({ kafka: src, repository: repo.repository }, { backupId }),
      (error: Error & { kind?: string }) =>
        error.kind === 'config' && /duplicate every record/.test(error.message),
    );
    const purged = await runRestore(
      { kafka: src, repository: repo.repository },
      { backupId, purgeTopics: true },
    );
    assert.equal(purged.records, 10);
    assert.deepEqual(await endOffsets(source, name), [20n]);
  });
});
