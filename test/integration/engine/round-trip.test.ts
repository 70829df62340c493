import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runBackup } from '../../../runtime/engine/backup.ts';
import { runRestore } from '../../../runtime/engine/restore.ts';
import { uniqueName } from '../../env/fixture.ts';
import { createTopic, deleteTopic } from '../../env/kafka-client.ts';
import {
  content,
  fidelityRecords,
  kafkaPort,
  produceAll,
  readTopic,
  tempRepository,
  testConnection,
} from './helpers.ts';

describe('engine round trip (filesystem)', () => {
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

  test('backs up and restores records byte for byte, into another cluster', async () => {
    const topic = uniqueName('rt');
    await createTopic(source, topic, { partitions: 3 });
    topics.push([source, topic]);
    await produceAll(source, topic, fidelityRecords(3000, 3));
    const original = await readTopic(source, topic);

    const sourceKafka = kafkaPort('source');
    const backup = await runBackup(
      { kafka: sourceKafka, repository: repo.repository },
      { backupId: 'b1', topics: { include: [topic] }, segmentMaxBytes: 64 * 1024 },
    );
    await sourceKafka.close();
    assert.equal(backup.records, 3000);

    const targetKafka = kafkaPort('target');
    const restored = await runRestore(
      { kafka: targetKafka, repository: repo.repository },
      { backupId: 'b1', createTopics: true },
    );
    await targetKafka.close();
    topics.push([target, topic]);
    assert.equal(restored.records, 3000);
    const copy = await readTopic(target, topic);
    assert.deepEqual(
      copy.map((p) => p.map((r) => content(r, true))),
      original.map((p) => p.map((r) => content(r, true))),
    );
  });
});
