import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { Admin } from '@platformatic/kafka';
import { runBackup } from '../../../runtime/engine/backup.ts';
import { PlatformaticKafka } from '../../../runtime/kafka/platformatic-adapter.ts';
import { need, uniqueName } from '../../env/fixture.ts';
import {
  createTopic,
  deleteTopic,
  endOffsets,
  produce,
  produceTransactions,
  withAdmin,
} from '../../env/kafka-client.ts';
import { fidelityRecords, kafkaPort, produceAll, tempRepository, testConnection } from './helpers.ts';

const source = testConnection('source');

describe('Kafka port on the real cluster', { timeout: 300_000 }, () => {
  const topics: string[] = [];
  after(async () => {
    for (const t of topics) await deleteTopic(source, t).catch(() => {});
  });

  test('SASL_SSL with SCRAM-SHA-512 and a private CA: reads and writes; a wrong password fails clearly', async () => {
    const kafka = need('kafka');
    const user = kafka.source.saslSsl.users[0];
    assert.ok(user);
    const topic = uniqueName('sasl');
    await createTopic(source, topic, { partitions: 1 });
    topics.push(topic);
    const port = new PlatformaticKafka({
      bootstrapServers: [kafka.source.saslSsl.bootstrap],
      securityProtocol: 'SASL_SSL',
      tls: { ca: readFileSync(kafka.source.saslSsl.caFile, 'utf8') },
      sasl: { mechanism: 'SCRAM-SHA-512', username: user.username, password: user.password },
      connection: { connectionsPerBroker: 2 },
    });
    try {
      await port.produce({ topic, partition: 0 }, [
        { key: null, value: new Uint8Array([1]), headers: [['a', null]], timestamp: 5n },
      ]);
      const page = await port.fetch({ topic, partition: 0 }, 0n);
      assert.equal(page.kind, 'records');
      assert.deepEqual(
        page.kind === 'records' ? page.records.map((r) => [r.offset, r.timestamp, r.headers]) : [],
        [[0n, 5n, [['a', null]]]],
      );
    } finally {
      await port.close();
    }
    const wrong = new PlatformaticKafka({
      bootstrapServers: [kafka.source.saslSsl.bootstrap],
      securityProtocol: 'SASL_SSL',
      tls: { ca: readFileSync(kafka.source.saslSsl.caFile, 'utf8') },
      sasl: { mechanism: 'SCRAM-SHA-512', username: user.username, password: 'not-the-password' },
      connection: { connectTimeoutMs: 3000 },
    });
    try {
      await assert.rejects(wrong.listTopics(), (error: Error) => {
        assert.equal(error.name, 'KafkaError');
        assert.doesNotMatch(error.message, /not-the-password/);
        return true;
      });
    } finally {
      await wrong.close();
    }
  });

  test('a backup joins and creates no consumer group on the protected cluster', async () => {
    const topic = uniqueName('nogroup');
    await createTopic(source, topic, { partitions: 2 });
    topics.push(topic);
    await produce(source, topic, fidelityRecords(200, 2));
    assert.deepEqual(await endOffsets(source, topic), [100n, 100n], 'the topic holds what was produced');
    const port = kafkaPort('source');
    const repo = await tempRepository();
    try {
      const before = await port.listGroups();
      const result = await runBackup(
        { kafka: port, repository: repo.repository },
        { backupId: 'g', topics: { include: [topic] } },
      );
      assert.equal(result.records, 200);
      assert.deepEqual(await port.listGroups(), before);
    } finally {
      await port.close();
      await repo.cleanup();
    }
  });

  test("Kafka's internal topics are refused by name, not blamed on the cluster; other '__' topics are described", async () => {
    // A transaction makes the broker create __transaction_state.
    const topic = uniqueName('tx-made');
    await createTopic(source, topic, { partitions: 1 });
    topics.push(topic);
    await produceTransactions(source, topic, [{ records: fidelityRecords(3, 1), outcome: 'commit' }]);
    const lookalike = uniqueName('__connect-offsets');
    await createTopic(source, lookalike, { partitions: 2 });
    topics.push(lookalike);
    const port = kafkaPort('source');
    try {
      assert.ok((await port.listTopics({ includeInternal: true })).includes('__transaction_state'));
      await assert.rejects(
        port.describeTopics([lookalike, '__transaction_state']),
        /__transaction_state: Kafka's internal topic is not backed up by this version.*consumerGroupSnapshot/,
      );
      const [described] = await port.describeTopics([lookalike]);
      assert.equal(described?.partitionCount, 2, 'a topic that only looks internal is an ordinary topic');
    } finally {
      await port.close();
    }
  });

  test('a topic the port creates answers for every partition at once, without a retry', async () => {
    // The broker names a new partition's leader a little before the partition serves requests; a
    // restore's first request in that window waited out the client's 250 ms retry delay.
    const port = kafkaPort('source');
    const probe = new Admin({ clientId: uniqueName('no-retries'), ...source, retries: 0 });
    try {
      for (let i = 0; i < 3; i++) {
        const topic = uniqueName('created');
        topics.push(topic);
        await port.createTopic({ name: topic, partitions: 6, replicationFactor: 1, configs: {} });
        const partitions = Array.from({ length: 6 }, (_, partitionIndex) => ({
          partitionIndex,
          timestamp: -1n,
        }));
        const listed = await probe.listOffsets({ topics: [{ name: topic, partitions }] });
        assert.deepEqual(
          listed.flatMap((t) => t.partitions.map((p) => [p.partitionIndex, p.offset])).sort(),
          Array.from({ length: 6 }, (_, p) => [p, 0n]),
        );
      }
    } finally {
      await probe.close();
      await port.close();
    }
  });

  test('fetching below the log start reports out-of-range with the real log start', async () => {
    const topic = uniqueName('oor');
    await createTopic(source, topic, { partitions: 1 });
    topics.push(topic);
    await produce(source, topic, fidelityRecords(50, 1));
    await withAdmin(source, (admin) =>
      admin.deleteRecords({ topics: [{ name: topic, partitions: [{ partition: 0, offset: 20n }] }] }),
    );
    const port = kafkaPort('source');
    try {
      const page = await port.fetch({ topic, partition: 0 }, 5n);
      assert.deepEqual(page, { kind: 'out-of-range', logStartOffset: 20n, lastStableOffset: 50n });
    } finally {
      await port.close();
    }
  });

  test('retention deleting records during a backup: the skipped offsets are a recorded gap', async () => {
    const topic = uniqueName('midrun');
    await createTopic(source, topic, { partitions: 1 });
    topics.push(topic);
    // Small produce batches, so each fetch returns a few hundred records and the run takes a while.
    await produceAll(source, topic, fidelityRecords(5000, 1), 200);
    const port = kafkaPort('source');
    const repo = await tempRepository();
    let deleted: Promise<unknown> | undefined;
    try {
      const result = await runBackup(
        {
          kafka: port,
          repository: repo.repository,
          onProgress: (p) => {
            if (p.records >= 200 && !deleted) {
              deleted = withAdmin(source, (admin) =>
                admin.deleteRecords({
                  topics: [{ name: topic, partitions: [{ partition: 0, offset: 3000n }] }],
                }),
              );
            }
          },
        },
        {
          backupId: 'midrun',
          topics: { include: [topic] },
          fetchMaxBytes: 8 * 1024,
          rateLimits: { recordsPerSec: 1000 },
        },
      );
      await deleted;
      assert.ok(result.gaps.retention > 0, 'a retention gap was recorded');
      assert.equal(result.records + result.gaps.retention, 5000, 'every offset is a record or a gap');
      const manifest = await (await repo.repository.openForWrite('midrun')).manifest();
      const gap = manifest.topics[0]?.partitions[0]?.gaps.find((g) => g.reason === 'retention');
      assert.equal(gap?.end, 3000n);
    } finally {
      await port.close();
      await repo.cleanup();
    }
  });

  test('consumer group offsets: commit, read back and snapshot with a backup', async () => {
    const topic = uniqueName('groups');
    await createTopic(source, topic, { partitions: 2 });
    topics.push(topic);
    await produce(source, topic, fidelityRecords(100, 2));
    const group = uniqueName('app');
    const port = kafkaPort('source');
    const repo = await tempRepository();
    try {
      await port.commitOffsets(group, [
        { topic, partition: 0, offset: 10n },
        { topic, partition: 1, offset: 20n },
      ]);
      const offsets = await port.committedOffsets(group);
      assert.deepEqual(
        offsets.filter((o) => o.topic === topic).sort((a, b) => a.partition - b.partition),
        [
          { topic, partition: 0, offset: 10n },
          { topic, partition: 1, offset: 20n },
        ],
      );
      assert.equal((await port.describeGroups([group])).get(group)?.members.length, 0);
      await runBackup(
        { kafka: port, repository: repo.repository },
        { backupId: 'snap', topics: { include: [topic] }, consumerGroupSnapshot: true },
      );
      const doc = await (await repo.repository.openForWrite('snap')).getDocument<{
        groups: Record<string, Record<string, Record<string, string>>>;
      }>('consumer-groups/latest');
      assert.deepEqual(doc?.groups[group], { [topic]: { 0: '10', 1: '20' } });
      await withAdmin(source, (admin) => admin.deleteGroups({ groups: [group] })).catch(() => {});
    } finally {
      await port.close();
      await repo.cleanup();
    }
  });
});
