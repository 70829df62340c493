import { decodeBatchRecords, encodeBatch, readBatchHeader } from '../../../runtime/format/kafka-batch.ts';
import type {
  BatchFetchResult,
  FetchOptions,
  FetchResult,
  GroupDescription,
  GroupOffset,
  KafkaPort,
  LogOffsets,
  ProduceRecord,
  TopicDescription,
  TopicSpec,
  Watermarks,
} from '../../../runtime/kafka/port.ts';
import { committedBatches } from '../../../runtime/kafka/record-batches.ts';
import { tpKey } from '../../../runtime/offsets/group-offsets.ts';
import type { KafkaRecord, TopicPartition } from '../../../runtime/record.ts';

/**
 * A cluster in memory behind the KafkaPort: enough for the use cases' tests (no transactions,
 * compaction or retention). Records keep their offsets; `produce` appends.
 */
export class MemoryKafka implements KafkaPort {
  readonly description: string;
  readonly topics = new Map<string, KafkaRecord[][]>();
  readonly groups = new Map<string, GroupOffset[]>();
  closed = 0;
  readonly #clusterId: string;

  constructor(clusterId: string) {
    this.#clusterId = clusterId;
    this.description = `kafka://${clusterId}:9092`;
  }

  /** Adds `count` records to each partition of a new topic. */
  seed(topic: string, partitions: number, count: number): void {
    this.topics.set(
      topic,
      Array.from({ length: partitions }, (_, p) =>
        Array.from({ length: count }, (_, i) => ({
          offset: BigInt(i),
          timestamp: 1_700_000_000_000n + BigInt(i),
          timestampType: 'CreateTime' as const,
          key: Buffer.from(`k${p}-${i}`),
          value: Buffer.from(`v${p}-${i}`),
          headers: [],
        })),
      ),
    );
  }

  #log(tp: TopicPartition): KafkaRecord[] {
    const log = this.topics.get(tp.topic)?.[tp.partition];
    if (!log) throw new Error(`no partition ${tp.topic}/${tp.partition}`);
    return log;
  }

  async clusterId(): Promise<string> {
    return this.#clusterId;
  }

  async listTopics(): Promise<string[]> {
    return [...this.topics.keys()].sort();
  }

  async describeTopics(topics: readonly string[]): Promise<TopicDescription[]> {
    return topics.flatMap((name) => {
      const t = this.topics.get(name);
      return t
        ? [
            {
              name,
              partitionCount: t.length,
              replicationFactor: 1,
              configs: {},
              compacted: false,
            },
          ]
        : [];
    });
  }

  async watermarks(partitions: readonly TopicPartition[]): Promise<Map<string, Watermarks>> {
    return new Map(
      partitions.map((tp) => [
        `${tp.topic}/${tp.partition}`,
        { logStartOffset: 0n, endOffset: BigInt(this.#log(tp).length) },
      ]),
    );
  }

  async fetch(tp: TopicPartition, offset: bigint, options: FetchOptions = {}): Promise<FetchResult> {
    const log = this.#log(tp);
    const end = BigInt(log.length);
    if (offset > end) return { kind: 'out-of-range', logStartOffset: 0n, lastStableOffset: end };
    const records = log.slice(
      Number(offset),
      Number(offset) + Math.max(1, Math.floor((options.maxBytes ?? 1e6) / 64)),
    );
    return {
      kind: 'records',
      records,
      nextOffset: offset + BigInt(records.length),
      skipped: [],
      logStartOffset: 0n,
      lastStableOffset: end,
      highWatermark: end,
      bytes: records.reduce((n, r) => n + (r.key?.length ?? 0) + (r.value?.length ?? 0), 0),
    };
  }

  /** fetch()'s records as producer-made batches of up to 8 records, through the real batch filter. */
  async fetchBatches(
    tp: TopicPartition,
    offset: bigint,
    options: FetchOptions = {},
  ): Promise<BatchFetchResult> {
    const page = await this.fetch(tp, offset, options);
    if (page.kind === 'out-of-range') return page;
    const chunks: Buffer[] = [];
    for (let i = 0; i < page.records.length; i += 8) chunks.push(encodeBatch(page.records.slice(i, i + 8)));
    const kept = committedBatches(Buffer.concat(chunks), null, offset);
    return {
      kind: 'batches',
      ...kept,
      nextOffset: page.nextOffset,
      logStartOffset: page.logStartOffset,
      lastStableOffset: page.lastStableOffset,
      highWatermark: page.highWatermark,
    };
  }

  async produce(tp: TopicPartition, records: readonly ProduceRecord[]): Promise<{ baseOffset: bigint }> {
    const log = this.#log(tp);
    const baseOffset = BigInt(log.length);
    for (const [i, r] of records.entries()) {
      log.push({ ...r, offset: baseOffset + BigInt(i), timestampType: 'CreateTime' });
    }
    return { baseOffset };
  }

  /** Decodes the batch (the real decoder) and appends its records, as a broker assigns offsets. */
  async produceBatch(
    tp: TopicPartition,
    batch: Uint8Array,
    recordCount: number,
  ): Promise<{ baseOffset: bigint }> {
    const header = readBatchHeader(batch);
    if (!header) throw new Error('not a whole record batch');
    const records = decodeBatchRecords(batch, header);
    if (records.length !== recordCount)
      throw new Error(`${records.length} records, the caller says ${recordCount}`);
    return this.produce(tp, records);
  }

  async createTopic(spec: TopicSpec): Promise<void> {
    this.topics.set(
      spec.name,
      Array.from({ length: spec.partitions }, () => []),
    );
  }

  async deleteTopics(topics: readonly string[]): Promise<void> {
    for (const t of topics) this.topics.delete(t);
  }

  async deleteRecords(): Promise<void> {
    throw new Error('not supported by MemoryKafka');
  }

  async listGroups(): Promise<string[]> {
    return [...this.groups.keys()].sort();
  }

  async describeGroups(groups: readonly string[]): Promise<Map<string, GroupDescription>> {
    return new Map(
      groups.map((group) => [
        group,
        { group, state: this.groups.has(group) ? 'Empty' : 'Dead', members: [] },
      ]),
    );
  }

  async committedOffsets(group: string): Promise<GroupOffset[]> {
    return [...(this.groups.get(group) ?? [])];
  }

  async commitOffsets(group: string, offsets: readonly GroupOffset[]): Promise<void> {
    const kept = (this.groups.get(group) ?? []).filter(
      (o) => !offsets.some((n) => n.topic === o.topic && n.partition === o.partition),
    );
    this.groups.set(group, [...kept, ...offsets]);
  }

  async deleteOffsets(group: string, partitions: readonly TopicPartition[]): Promise<void> {
    this.groups.set(
      group,
      (this.groups.get(group) ?? []).filter(
        (o) => !partitions.some((p) => p.topic === o.topic && p.partition === o.partition),
      ),
    );
  }

  async partitionCounts(topics: readonly string[]): Promise<Map<string, number>> {
    return new Map(topics.flatMap((t) => (this.topics.has(t) ? [[t, this.topics.get(t)?.length ?? 0]] : [])));
  }

  async logOffsets(partitions: readonly TopicPartition[]): Promise<Map<string, LogOffsets>> {
    return new Map(
      partitions.map((tp) => [
        tpKey(tp.topic, tp.partition),
        { earliest: 0n, latest: BigInt(this.#log(tp).length) },
      ]),
    );
  }

  async offsetsForTimestamp(
    partitions: readonly TopicPartition[],
    timestamp: bigint,
  ): Promise<Map<string, bigint>> {
    return new Map(
      partitions.map((tp) => [
        tpKey(tp.topic, tp.partition),
        this.#log(tp).find((r) => r.timestamp >= timestamp)?.offset ?? -1n,
      ]),
    );
  }

  async close(): Promise<void> {
    this.closed++;
  }
}
