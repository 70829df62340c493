import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BackupRepository } from '../../../runtime/format/repository.ts';
import type { KafkaConnectionConfig } from '../../../runtime/kafka/connection.ts';
import { PlatformaticKafka } from '../../../runtime/kafka/platformatic-adapter.ts';
import type { KafkaPort } from '../../../runtime/kafka/port.ts';
import { FilesystemObjectStore } from '../../../runtime/storage/filesystem.ts';
import { need } from '../../env/fixture.ts';
import {
  type ConsumedRecord,
  endOffsets,
  type KafkaConnection,
  kafkaConnection,
  produce,
  readPartition,
  type TestRecord,
} from '../../env/kafka-client.ts';

export type Cluster = 'source' | 'target';

export function clusterConfig(cluster: Cluster): KafkaConnectionConfig {
  const kafka = need('kafka');
  return {
    bootstrapServers: [cluster === 'source' ? kafka.source.bootstrap : kafka.target.bootstrap],
    securityProtocol: 'PLAINTEXT',
    clientId: `engine-test-${cluster}`,
  };
}

export function testConnection(cluster: Cluster): KafkaConnection {
  return kafkaConnection(need('kafka'), cluster);
}

export function kafkaPort(
  cluster: Cluster,
  options: ConstructorParameters<typeof PlatformaticKafka>[1] = {},
) {
  return new PlatformaticKafka(clusterConfig(cluster), options);
}

/** Counts, as they happen, the port's record produces and its whole-batch produces. */
export function countProduces(port: KafkaPort): { records: number; batches: number } {
  const calls = { records: 0, batches: 0 };
  const produce = port.produce.bind(port);
  const produceBatch = port.produceBatch.bind(port);
  port.produce = (...args) => {
    calls.records++;
    return produce(...args);
  };
  port.produceBatch = (...args) => {
    calls.batches++;
    return produceBatch(...args);
  };
  return calls;
}

export async function tempRepository(): Promise<{
  dir: string;
  repository: BackupRepository;
  cleanup: () => Promise<void>;
}> {
  const dir = await mkdtemp(path.join(tmpdir(), 'engine-test-'));
  return {
    dir,
    repository: new BackupRepository(new FilesystemObjectStore(dir)),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/**
 * Deterministic records that exercise every fidelity rule: null and empty keys/values, binary bytes,
 * ordered headers with duplicate keys and null values, explicit timestamps (not monotonic).
 */
export function fidelityRecords(count: number, partitions: number, seed = 1): TestRecord[] {
  const base = 1_700_000_000_000n;
  const records: TestRecord[] = [];
  let x = seed;
  const rand = () => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x;
  };
  for (let i = 0; i < count; i++) {
    const kind = i % 7;
    const key = kind === 0 ? null : kind === 1 ? Buffer.alloc(0) : Buffer.from(`key-${i % 997}`);
    const len = rand() % 200;
    const value =
      kind === 2
        ? null
        : kind === 3
          ? Buffer.alloc(0)
          : Buffer.from(Array.from({ length: len }, () => rand() & 0xff));
    const headers: [string, Buffer | null][] =
      kind === 4
        ? [
            ['h', Buffer.from('1')],
            ['h', Buffer.from('2')],
            ['n', null],
            ['e', Buffer.alloc(0)],
          ]
        : kind === 5
          ? [['only', Buffer.from([0, 255, 1])]]
          : [];
    records.push({
      partition: i % partitions,
      key,
      value,
      headers,
      timestamp: base + BigInt(i * 10) - BigInt(rand() % 5000),
    });
  }
  return records;
}

export async function produceAll(
  connection: KafkaConnection,
  topic: string,
  records: readonly TestRecord[],
  chunk = 5000,
): Promise<void> {
  for (let i = 0; i < records.length; i += chunk)
    await produce(connection, topic, records.slice(i, i + chunk));
}

/**
 * The records of each partition of a topic, read back without a consumer group: `counts[p]` records
 * (default: the partition's end offset, right for topics without gaps).
 */
export async function readTopic(
  connection: KafkaConnection,
  topic: string,
  options: { readCommitted?: boolean; counts?: readonly number[] } = {},
): Promise<ConsumedRecord[][]> {
  const ends = await endOffsets(connection, topic);
  const out: ConsumedRecord[][] = [];
  for (let partition = 0; partition < ends.length; partition++) {
    const count = options.counts?.[partition] ?? Number(ends[partition]);
    out.push(
      count === 0
        ? []
        : await readPartition(connection, topic, {
            partition,
            count,
            readCommitted: options.readCommitted ?? false,
            timeoutMs: 120_000,
          }),
    );
  }
  return out;
}

/** The content a restore must reproduce: everything but the offset (and the timestamp type when asked). */
export function content(r: ConsumedRecord, withType = false): unknown {
  return {
    timestamp: r.timestamp,
    ...(withType ? { timestampType: r.timestampType } : {}),
    key: r.key === null ? null : r.key.toString('hex'),
    value: r.value === null ? null : r.value.toString('hex'),
    headers: r.headers.map(([k, v]) => [k.toString('utf8'), v === null ? null : v.toString('hex')]),
  };
}
