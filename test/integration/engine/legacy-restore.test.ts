import assert from 'node:assert/strict';
import { cp } from 'node:fs/promises';
import path from 'node:path';
import { after, test } from 'node:test';
import { runRestore } from '../../../runtime/engine/restore.ts';
import type { KafkaRecord } from '../../../runtime/record.ts';
import { uniqueName } from '../../env/fixture.ts';
import { deleteTopic } from '../../env/kafka-client.ts';
import { kafkaPort, readTopic, tempRepository, testConnection } from './helpers.ts';

const FIXTURE = path.resolve(import.meta.dirname, '../../fixtures/format/oso-rust/oso-golden');
const target = testConnection('target');
const created: string[] = [];
after(async () => {
  for (const t of created) await deleteTopic(target, t).catch(() => {});
});

test('a backup written by the Rust tool restores into Kafka exactly as its reader decodes it', async () => {
  const repo = await tempRepository();
  const port = kafkaPort('target');
  try {
    await cp(FIXTURE, path.join(repo.dir, 'oso-golden'), { recursive: true });
    const backup = await repo.repository.open('oso-golden');
    const manifest = await backup.manifest();
    const suffix = uniqueName('oso');
    const mapping = Object.fromEntries(
      manifest.topics.map((t) => [t.metadata.name, `${t.metadata.name}-${suffix}`]),
    );
    const result = await runRestore(
      { kafka: port, repository: repo.repository },
      { backupId: 'oso-golden', topicMapping: mapping, createTopics: true },
    );
    created.push(...Object.values(mapping));
    let expectedTotal = 0;
    for (const topic of manifest.topics) {
      const name = mapping[topic.metadata.name] as string;
      const copy = await readTopic(target, name);
      for (const partition of topic.partitions) {
        const expected: KafkaRecord[] = [];
        for (const segment of partition.segments)
          expected.push(...(await backup.readSegment(segment)).records);
        expectedTotal += expected.length;
        const got = copy[partition.partition] ?? [];
        assert.deepEqual(
          got.map((r) => [
            r.timestamp,
            r.key?.toString('hex') ?? null,
            r.value?.toString('hex') ?? null,
            r.headers.map(([k, v]) => [k.toString(), v?.toString('hex') ?? null]),
          ]),
          expected.map((r) => [
            r.timestamp,
            r.key === null ? null : Buffer.from(r.key).toString('hex'),
            r.value === null ? null : Buffer.from(r.value).toString('hex'),
            r.headers.map(([k, v]) => [k, v === null ? null : Buffer.from(v).toString('hex')]),
          ]),
          `${name}/${partition.partition}`,
        );
      }
    }
    assert.ok(expectedTotal > 0);
    assert.equal(result.records, expectedTotal);
    // The restore's documents live beside the read-only backup, not inside it.
    assert.ok(await repo.repository.store.head(`_restores/oso-golden/${result.offsetMapping}.json`));
  } finally {
    await port.close();
    await repo.cleanup();
  }
});
