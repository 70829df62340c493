import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Consumer, FetchIsolationLevels } from '@platformatic/kafka';
import { runBackup } from '../../../runtime/engine/backup.ts';
import { runRestore } from '../../../runtime/engine/restore.ts';
import { PlatformaticKafka } from '../../../runtime/kafka/platformatic-adapter.ts';
import { need, uniqueName } from '../../env/fixture.ts';
import { createTopic, deleteTopic, endOffsets, produce, withAdmin } from '../../env/kafka-client.ts';
import {
  countProduces,
  fidelityRecords,
  kafkaPort,
  produceAll,
  tempRepository,
  testConnection,
} from './helpers.ts';

const source = testConnection('source');
const target = testConnection('target');

/** The record batches of a partition as stored by the broker: producer id and record count of each. */
async function batches(topic: string, partition: number): Promise<{ producerId: bigint; records: number }[]> {
  const consumer = new Consumer({
    clientId: 'batch-reader',
    groupId: 'unused',
    bootstrapBrokers: [need('kafka').target.bootstrap],
  });
  try {
    const metadata = await consumer.metadata({ topics: [topic] });
    const t = metadata.topics.get(topic);
    assert.ok(t);
    const out: { producerId: bigint; records: number }[] = [];
    let next = 0n;
    const end = (await endOffsets(target, topic))[partition] ?? 0n;
    while (next < end) {
      const response = await consumer.fetch({
        node: t.partitions[partition]?.leader as number,
        isolationLevel: FetchIsolationLevels.READ_UNCOMMITTED,
        maxWaitTime: 100,
        topics: [
          {
            topicId: t.id,
            partitions: [
              {
                partition,
                fetchOffset: next,
                currentLeaderEpoch: -1,
                lastFetchedEpoch: -1,
                partitionMaxBytes: 1 << 20,
              },
            ],
          },
        ],
      });
      for (const b of response.responses[0]?.partitions[0]?.records ?? []) {
        const last = b.firstOffset + BigInt(b.lastOffsetDelta) + 1n;
        if (last <= next) continue;
        out.push({ producerId: b.producerId, records: b.records.length });
        next = last;
      }
    }
    return out;
  } finally {
    await consumer.close();
  }
}

describe('restore options on real Kafka', { timeout: 300_000 }, () => {
  const cleanup: [typeof source, string][] = [];
  let repo: Awaited<ReturnType<typeof tempRepository>>;
  let topic: string;
  before(async () => {
    repo = await tempRepository();
    topic = uniqueName('opts');
    await createTopic(source, topic, { partitions: 2 });
    cleanup.push([source, topic]);
    await produceAll(source, topic, fidelityRecords(2000, 2, 8));
    const port = kafkaPort('source');
    try {
      await runBackup(
        { kafka: port, repository: repo.repository },
        { backupId: 'older', topics: { include: [topic] } },
      );
      await runBackup(
        { kafka: port, repository: repo.repository },
        { backupId: 'newer', topics: { include: [topic] } },
      );
    } finally {
      await port.close();
    }
  });
  after(async () => {
    for (const [c, t] of cleanup) await deleteTopic(c, t).catch(() => {});
    await repo.cleanup();
  });

  test('idempotent producer and produceBatchSize: every batch has a producer id and at most that many records', async () => {
    const to = uniqueName('idem');
    cleanup.push([target, to]);
    const port = kafkaPort('target', { produceAcks: -1, produceTimeoutMs: 5000 });
    const calls = countProduces(port);
    try {
      const result = await runRestore(
        { kafka: port, repository: repo.repository },
        { topicMapping: { [topic]: to }, createTopics: true, produceBatchSize: 150 },
      );
      // The stored batches hold more than 150 records: they are split, not re-encoded record by record.
      assert.equal(calls.records, 0, 'no record went through the record-by-record path');
      assert.ok(calls.batches >= Math.ceil(2000 / 150), `${calls.batches} batches produced`);
      assert.equal(result.backupId, 'newer', 'without a backup id the latest backup is restored');
      for (const p of [0, 1]) {
        const stored = await batches(to, p);
        assert.equal(
          stored.reduce((n, b) => n + b.records, 0),
          1000,
        );
        assert.ok(
          stored.every((b) => b.producerId >= 0n),
          'written by an idempotent producer',
        );
        assert.ok(
          stored.every((b) => b.records <= 150),
          'no batch larger than produceBatchSize',
        );
      }
    } finally {
      await port.close();
    }
  });

  test('produceAcks 1 writes without idempotence', async () => {
    const to = uniqueName('acks1');
    cleanup.push([target, to]);
    const port = kafkaPort('target', { produceAcks: 1 });
    try {
      await runRestore(
        { kafka: port, repository: repo.repository },
        { backupId: 'older', topicMapping: { [topic]: to }, createTopics: true },
      );
      assert.ok((await batches(to, 0)).every((b) => b.producerId === -1n));
    } finally {
      await port.close();
    }
  });

  // The timeout guards against waiting on answers that never come: each whole batch would stall for
  // the client's request timeout.
  test('produceAcks 0 writes every record without waiting for an answer (whole batches included)', {
    timeout: 30_000,
  }, async () => {
    const to = uniqueName('acks0');
    cleanup.push([target, to]);
    const port = kafkaPort('target', { produceAcks: 0 });
    const calls = countProduces(port);
    try {
      const result = await runRestore(
        { kafka: port, repository: repo.repository },
        { backupId: 'older', topicMapping: { [topic]: to }, createTopics: true },
      );
      assert.ok(result.records > 0);
      // Unacknowledged writes land shortly after they are sent.
      const deadline = Date.now() + 15_000;
      let landed = 0n;
      while (Date.now() < deadline) {
        landed = (await endOffsets(target, to)).reduce((a, b) => a + b, 0n);
        if (landed >= BigInt(result.records)) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.equal(landed, BigInt(result.records));
      assert.ok(calls.batches > 0, 'the stored batches were produced whole');
    } finally {
      await port.close();
    }
  });

  test('existing target records are kept (appended after) unless purgeTopics is set', async () => {
    const to = uniqueName('purge');
    cleanup.push([target, to]);
    await createTopic(target, to, { partitions: 2 });
    await produce(target, to, [
      { partition: 0, key: 'old', value: 'old' },
      { partition: 1, key: 'old', value: 'old' },
    ]);
    const port = kafkaPort('target');
    try {
      const before = await endOffsets(target, to);
      assert.ok(before.some((o) => o > 0n));
      await runRestore(
        { kafka: port, repository: repo.repository },
        { backupId: 'older', topicMapping: { [topic]: to }, restoreId: 'append' },
      );
      const appended = await endOffsets(target, to);
      assert.deepEqual(
        appended,
        before.map((o) => o + 1000n),
      );
      await runRestore(
        { kafka: port, repository: repo.repository },
        { backupId: 'older', topicMapping: { [topic]: to }, purgeTopics: true, restoreId: 'purge' },
      );
      assert.deepEqual(
        await endOffsets(target, to),
        appended.map((o) => o + 1000n),
      );
      const starts = await withAdmin(target, (admin) =>
        admin.listOffsets({
          topics: [
            { name: to, partitions: [0, 1].map((partitionIndex) => ({ partitionIndex, timestamp: -2n })) },
          ],
        }),
      );
      assert.deepEqual(
        [0, 1].map((p) => starts[0]?.partitions.find((x) => x.partitionIndex === p)?.offset),
        appended,
        'the purge deleted everything written before this restore',
      );
    } finally {
      await port.close();
    }
  });

  test('connectionsPerBroker is applied: more connections when asked for more', async () => {
    const wide = uniqueName('wide');
    await createTopic(source, wide, { partitions: 8 });
    cleanup.push([source, wide]);
    await produce(source, wide, fidelityRecords(400, 8));
    const counts: number[] = [];
    for (const connectionsPerBroker of [1, 3]) {
      const configured = new PlatformaticKafka({
        bootstrapServers: [need('kafka').source.bootstrap],
        securityProtocol: 'PLAINTEXT',
        connection: { connectionsPerBroker },
      });
      try {
        await runBackup(
          { kafka: configured, repository: repo.repository },
          { backupId: uniqueName('cpb'), topics: { include: [wide] }, maxConcurrentPartitions: 8 },
        );
        counts.push(configured.openConnections);
      } finally {
        await configured.close();
      }
    }
    assert.equal(counts[0], 2, 'one admin connection and one fetch connection');
    assert.ok(
      (counts[1] ?? 0) > (counts[0] ?? 0),
      `more fetch connections with connectionsPerBroker 3: ${counts}`,
    );
  });
});
