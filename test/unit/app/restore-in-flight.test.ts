import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { backup } from '../../../runtime/app/backup.ts';
import { restore } from '../../../runtime/app/restore.ts';
import { KafkaError } from '../../../runtime/kafka/port.ts';
import type { TopicPartition } from '../../../runtime/record.ts';
import { MemoryKafka } from './memory-kafka.ts';
import { memoryPorts, storage } from './memory-ports.ts';

/**
 * A target that keeps several batches of a partition in flight, as the Kafka port does when it
 * writes idempotently: each batch is appended when it is sent (in call order), its acknowledgement
 * comes later and out of order. `failAt` (a call number, every partition counted) is refused, and
 * so is every later batch of its partition, as the broker refuses a sequence that skips one.
 */
class PipelinedTarget extends MemoryKafka {
  readonly batchesInFlight = 4;
  failAt: number | undefined;
  inFlight = 0;
  mostInFlight = 0;
  #calls = 0;
  readonly #refused = new Set<string>();

  /** Writes everything again from now on. */
  heal(): void {
    this.failAt = undefined;
    this.#refused.clear();
  }

  override async produceBatch(
    tp: TopicPartition,
    batch: Uint8Array,
    recordCount: number,
  ): Promise<{ baseOffset: bigint }> {
    const call = this.#calls++;
    const key = `${tp.topic}/${tp.partition}`;
    this.inFlight++;
    this.mostInFlight = Math.max(this.mostInFlight, this.inFlight);
    try {
      if (call === this.failAt || this.#refused.has(key)) {
        this.#refused.add(key);
        await delay(1);
        throw new KafkaError(`write to ${key} refused`, { retriable: false });
      }
      const written = super.produceBatch(tp, batch, recordCount);
      await delay(Math.floor(Math.random() * 6));
      return await written;
    } finally {
      this.inFlight--;
    }
  }
}

function setup() {
  const source = new MemoryKafka('source');
  // 60 records a partition: 8 batches each (the memory cluster fetches batches of 8).
  source.seed('orders', 3, 60);
  const target = new PipelinedTarget('target');
  const ports = memoryPorts({ 'source:9092': source, 'target:9092': target });
  return { source, target, ports };
}

const backupSpec = {
  kafkaCluster: { bootstrapServers: ['source:9092'] },
  topics: ['orders'],
  storage,
  backupId: 'b1',
};
const restoreSpec = {
  kafkaCluster: { bootstrapServers: ['target:9092'] },
  backupRef: { backupId: 'b1', storage },
  topicMapping: { orders: 'orders-copy' },
  createTopics: true,
};

const values = (cluster: MemoryKafka, topic: string) =>
  cluster.topics.get(topic)?.map((p) => p.map((r) => Buffer.from(r.value ?? []).toString()));

describe('a restore keeps several whole batches of a partition in flight', () => {
  test('acknowledged out of order, the records land in order and are mapped to where they landed', async () => {
    const { source, target, ports } = setup();
    assert.equal((await backup(backupSpec, ports)).outcome, 'complete');
    const restored = await restore(restoreSpec, ports);
    assert.equal(restored.outcome, 'complete');
    assert.ok(target.mostInFlight > 1, `at most ${target.mostInFlight} batch in flight`);
    assert.deepEqual(values(target, 'orders-copy'), values(source, 'orders'));
    assert.deepEqual(
      restored.partitions.map((p) => [p.partition, p.records, p.endOffset]),
      [
        [0, 60, '60'],
        [1, 60, '60'],
        [2, 60, '60'],
      ],
    );
  });

  test('a batch refused mid-window fails the run; its checkpoint counts only what landed, and the rerun writes the rest once', async () => {
    for (const failAt of [0, 5, 13]) {
      const { source, target, ports } = setup();
      await backup(backupSpec, ports);
      target.failAt = failAt;
      await assert.rejects(restore(restoreSpec, ports), /refused/);
      const landed = target.topics.get('orders-copy')?.map((p) => p.length) ?? [];
      assert.ok(
        landed.some((n) => n < 60),
        `failing call ${failAt} left something to write: ${landed}`,
      );
      target.heal();
      const resumed = await restore(restoreSpec, ports);
      assert.equal(resumed.outcome, 'complete');
      assert.equal(resumed.resumed, true);
      assert.deepEqual(values(target, 'orders-copy'), values(source, 'orders'), `failing call ${failAt}`);
    }
  });
});
