/**
 * Small Kafka helpers for tests, on @platformatic/kafka: connection options for each listener of the
 * test environment, creating and deleting topics, producing records, and reading a partition from an
 * explicit offset without joining a consumer group (so tests never leave groups or commits behind).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  Admin,
  Consumer,
  FetchIsolationLevels,
  IS_CONTROL,
  type MessageToProduce,
  type ProduceResult,
  Producer,
  type RecordsBatch,
  type SASLOptions,
} from '@platformatic/kafka';
import type { KafkaInfo, ScramUser } from './state.ts';

/** The listeners of the test environment: the source cluster's two, and the target cluster's one. */
export type KafkaListener = 'source' | 'source-sasl-ssl' | 'target';

/** What every @platformatic/kafka client needs to reach one listener (spread it into client options). */
export interface KafkaConnection {
  readonly bootstrapBrokers: string[];
  readonly tls?: { ca: Buffer };
  readonly sasl?: SASLOptions;
}

/**
 * Connection options for a listener. For `source-sasl-ssl`, `user` defaults to the first SCRAM user;
 * pass another user (or one with a wrong password) to test authentication.
 */
export function kafkaConnection(
  kafka: KafkaInfo,
  listener: KafkaListener,
  user?: ScramUser,
): KafkaConnection {
  switch (listener) {
    case 'source':
      return { bootstrapBrokers: [kafka.source.bootstrap] };
    case 'target':
      return { bootstrapBrokers: [kafka.target.bootstrap] };
    case 'source-sasl-ssl': {
      const login = user ?? kafka.source.saslSsl.users[0];
      if (!login) throw new Error('the source cluster has no SCRAM users');
      return {
        bootstrapBrokers: [kafka.source.saslSsl.bootstrap],
        tls: { ca: readFileSync(kafka.source.saslSsl.caFile) },
        sasl: { mechanism: login.mechanism, username: login.username, password: login.password },
      };
    }
  }
}

function clientId(role: string): string {
  return `test-${role}-${randomBytes(3).toString('hex')}`;
}

/** Runs `fn` with an Admin client and always closes it. */
export async function withAdmin<T>(
  connection: KafkaConnection,
  fn: (admin: Admin) => Promise<T>,
): Promise<T> {
  const admin = new Admin({ clientId: clientId('admin'), ...connection });
  try {
    return await fn(admin);
  } finally {
    await admin.close();
  }
}

export interface TopicOptions {
  readonly partitions?: number;
  /** Topic configs, e.g. `{ 'cleanup.policy': 'compact', 'message.timestamp.type': 'LogAppendTime' }`. */
  readonly configs?: Record<string, string>;
}

/**
 * Creates a topic and waits until every partition has a leader, so the next produce or fetch does
 * not race the metadata propagation. Returns the topic id.
 */
export async function createTopic(
  connection: KafkaConnection,
  topic: string,
  options: TopicOptions = {},
): Promise<string> {
  const partitions = options.partitions ?? 1;
  return withAdmin(connection, async (admin) => {
    const [created] = await admin.createTopics({
      topics: [topic],
      partitions,
      replicas: 1,
      configs: Object.entries(options.configs ?? {}).map(([name, value]) => ({ name, value })),
    });
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const metadata = await admin.metadata({ topics: [topic], forceUpdate: true });
      const described = metadata.topics.get(topic);
      if (described?.partitionsCount === partitions && described.partitions.every((p) => p.leader >= 0)) {
        return created?.id ?? described.id;
      }
      await sleep(100);
    }
    throw new Error(
      `topic ${topic} was created but its ${partitions} partition(s) got no leader within 30 s`,
    );
  });
}

export async function deleteTopic(connection: KafkaConnection, topic: string): Promise<void> {
  await withAdmin(connection, (admin) => admin.deleteTopics({ topics: [topic] }));
}

export async function listTopics(connection: KafkaConnection): Promise<string[]> {
  return withAdmin(connection, (admin) => admin.listTopics());
}

/** A record as a test writes it: strings are UTF-8; `null` is distinct from empty. */
export interface TestRecord {
  readonly partition?: number;
  readonly key?: string | Buffer | null;
  readonly value: string | Buffer | null;
  /** Ordered; duplicate keys and null values are kept. */
  readonly headers?: ReadonlyArray<readonly [string | Buffer, string | Buffer | null]>;
  readonly timestamp?: bigint;
}

const bytes = (v: string | Buffer): Buffer => (typeof v === 'string' ? Buffer.from(v) : v);
const nullableBytes = (v: string | Buffer | null | undefined): Buffer | undefined =>
  v === null || v === undefined ? undefined : bytes(v);

/**
 * The client's message form of test records. Headers go through a Map whose keys are distinct Buffer
 * objects, which keeps duplicate header keys and their order; undefined key/value/header value are
 * written as null (length -1), an empty Buffer as empty.
 */
function toMessages(topic: string, records: readonly TestRecord[]): MessageToProduce[] {
  return records.map((r) => ({
    topic,
    partition: r.partition,
    key: nullableBytes(r.key),
    value: nullableBytes(r.value) as Buffer,
    headers: new Map(
      (r.headers ?? []).map(([k, v]): [Buffer, Buffer] => [
        Buffer.from(bytes(k)),
        nullableBytes(v) as Buffer,
      ]),
    ),
    timestamp: r.timestamp,
  }));
}

/**
 * Produces records to one topic (acks=all) and returns their offsets. Idempotent unless asked
 * otherwise: the client retries a request for several partitions whole when one of them fails (on a
 * new topic, a partition whose leader is not ready yet), and without idempotence the broker appends
 * the partitions that had succeeded a second time. Seen as 100 or 150 duplicated records in about
 * one engine-suite run in six.
 */
export async function produce(
  connection: KafkaConnection,
  topic: string,
  records: readonly TestRecord[],
  options: { readonly idempotent?: boolean; readonly compression?: 'gzip' | 'snappy' | 'lz4' | 'zstd' } = {},
): Promise<ProduceResult> {
  const producer = new Producer({
    clientId: clientId('producer'),
    ...connection,
    idempotent: options.idempotent ?? true,
    ...(options.compression ? { compression: options.compression } : {}),
  });
  try {
    return await producer.send({ acks: -1, messages: toMessages(topic, records) });
  } finally {
    await producer.close();
  }
}

export interface TestTransaction {
  readonly records: readonly TestRecord[];
  readonly outcome: 'commit' | 'abort';
}

/**
 * Produces each group of records in its own transaction, all from one transactional producer (one
 * producer id, as a real application would), committing or aborting each as asked.
 */
export async function produceTransactions(
  connection: KafkaConnection,
  topic: string,
  transactions: readonly TestTransaction[],
): Promise<void> {
  const producer = new Producer({
    clientId: clientId('tx-producer'),
    ...connection,
    idempotent: true,
    transactionalId: clientId('tx'),
  });
  try {
    for (const { records, outcome } of transactions) {
      const transaction = await producer.beginTransaction();
      await transaction.send({ messages: toMessages(topic, records) });
      await (outcome === 'commit' ? transaction.commit() : transaction.abort());
    }
  } finally {
    await producer.close();
  }
}

/** A record as read back from a partition, with everything a backup must preserve. */
export interface ConsumedRecord {
  readonly offset: bigint;
  readonly timestamp: bigint;
  readonly timestampType: 'CreateTime' | 'LogAppendTime';
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Array<[Buffer, Buffer | null]>;
}

export interface ReadOptions {
  readonly partition?: number;
  readonly fromOffset?: bigint;
  /** Stop after this many records. */
  readonly count: number;
  /** Read committed data only: stop at the last stable offset and skip aborted transactions. */
  readonly readCommitted?: boolean;
  readonly timeoutMs?: number;
}

const LOG_APPEND_TIME = 0b1000;
const IS_TRANSACTIONAL = 0b1_0000;

/** An entry of a Fetch response's `abortedTransactions`. */
export interface AbortedTransaction {
  readonly producerId: bigint;
  readonly firstOffset: bigint;
}

/**
 * The batches of one fetch response a read_committed consumer delivers, computed as the Java consumer
 * does: a transactional batch is dropped while its producer has an aborted transaction open, which
 * starts at the `firstOffset` the broker lists and ends at that producer's ABORT marker.
 * @platformatic/kafka's own filter (2.12.1) keeps one range per producer per response, so a second
 * aborted transaction of the same producer in one response leaks through; this runs after it and is
 * what makes `readCommitted` exact.
 */
export function committedBatches(
  batches: readonly RecordsBatch[],
  aborted: readonly AbortedTransaction[],
): RecordsBatch[] {
  const pending = [...aborted].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : 1));
  const abortedProducers = new Set<bigint>();
  const visible: RecordsBatch[] = [];
  for (const batch of batches) {
    const lastOffset = batch.firstOffset + BigInt(batch.lastOffsetDelta);
    while (pending.length > 0 && (pending[0] as AbortedTransaction).firstOffset <= lastOffset) {
      abortedProducers.add((pending.shift() as AbortedTransaction).producerId);
    }
    if (batch.attributes & IS_CONTROL) {
      // control record key: int16 version, int16 type (0 = ABORT, 1 = COMMIT)
      if (batch.records[0]?.key?.readInt16BE(2) === 0) abortedProducers.delete(batch.producerId);
      visible.push(batch);
    } else if (!(batch.attributes & IS_TRANSACTIONAL) || !abortedProducers.has(batch.producerId)) {
      visible.push(batch);
    }
  }
  return visible;
}

/**
 * Reads `count` records of one partition from an explicit offset with plain Fetch requests, without
 * joining a consumer group. Control records (transaction markers) are skipped.
 */
export async function readPartition(
  connection: KafkaConnection,
  topic: string,
  options: ReadOptions,
): Promise<ConsumedRecord[]> {
  const partition = options.partition ?? 0;
  // groupId is mandatory in the options, but fetch() never talks to the group coordinator.
  const consumer = new Consumer({
    clientId: clientId('reader'),
    groupId: clientId('unused-group'),
    ...connection,
  });
  try {
    const metadata = await consumer.metadata({ topics: [topic] });
    const described = metadata.topics.get(topic);
    const leader = described?.partitions[partition]?.leader;
    if (!described || leader === undefined) throw new Error(`topic ${topic} has no partition ${partition}`);
    const records: ConsumedRecord[] = [];
    let next = options.fromOffset ?? 0n;
    const deadline = Date.now() + (options.timeoutMs ?? 15_000);
    while (records.length < options.count) {
      if (Date.now() > deadline) {
        throw new Error(
          `read ${records.length} of ${options.count} records from ${topic}-${partition} before the timeout`,
        );
      }
      const response = await consumer.fetch({
        node: leader,
        maxWaitTime: 200,
        isolationLevel: options.readCommitted
          ? FetchIsolationLevels.READ_COMMITTED
          : FetchIsolationLevels.READ_UNCOMMITTED,
        topics: [
          {
            topicId: described.id,
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
      const fetched = response.responses[0]?.partitions[0];
      if (fetched && fetched.errorCode !== 0) {
        throw new Error(
          `fetch of ${topic}-${partition} at offset ${next} failed with error code ${fetched.errorCode}`,
        );
      }
      const batches = fetched?.records ?? [];
      const visible = options.readCommitted
        ? committedBatches(batches, fetched?.abortedTransactions ?? [])
        : batches;
      for (const batch of visible) {
        if (batch.attributes & IS_CONTROL) continue;
        const logAppend = (batch.attributes & LOG_APPEND_TIME) !== 0;
        for (const record of batch.records) {
          const offset = batch.firstOffset + BigInt(record.offsetDelta);
          if (offset < next || records.length >= options.count) continue;
          records.push({
            offset,
            timestamp: logAppend ? batch.maxTimestamp : batch.firstTimestamp + record.timestampDelta,
            timestampType: logAppend ? 'LogAppendTime' : 'CreateTime',
            key: record.key,
            value: record.value,
            headers: record.headers.map(([k, v]): [Buffer, Buffer | null] => [k ?? Buffer.alloc(0), v]),
          });
        }
      }
      // Advance past everything fetched, including filtered batches and control markers.
      for (const batch of batches) {
        const batchEnd = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n;
        if (batchEnd > next) next = batchEnd;
      }
    }
    return records;
  } finally {
    await consumer.close();
  }
}

/** The high watermark (next offset to be written) of each partition of a topic. */
export async function endOffsets(connection: KafkaConnection, topic: string): Promise<bigint[]> {
  const consumer = new Consumer({
    clientId: clientId('offsets'),
    groupId: clientId('unused-group'),
    ...connection,
  });
  try {
    // explicit: a Consumer defaults to read_committed, which would give the last stable offset
    const offsets = await consumer.listOffsets({
      topics: [topic],
      isolationLevel: FetchIsolationLevels.READ_UNCOMMITTED,
    });
    return offsets.get(topic) ?? [];
  } finally {
    await consumer.close();
  }
}

/**
 * Finds an error in the tree @platformatic/kafka builds (AggregateError `errors` and `cause` chains):
 * a refused SCRAM login surfaces as MultipleErrors > NetworkError > cause AuthenticationError >
 * cause ResponseError > errors ProtocolError(apiId 'SASL_AUTHENTICATION_FAILED').
 */
export type KafkaErrorNode = Error & Record<string, unknown>;

export function findInErrorTree(
  error: unknown,
  match: (e: KafkaErrorNode) => boolean,
): KafkaErrorNode | undefined {
  const seen = new Set<unknown>();
  const queue: unknown[] = [error];
  while (queue.length > 0) {
    const e = queue.shift();
    if (!(e instanceof Error) || seen.has(e)) continue;
    seen.add(e);
    if (match(e as KafkaErrorNode)) return e as KafkaErrorNode;
    if (e.cause !== undefined) queue.push(e.cause);
    if (e instanceof AggregateError) queue.push(...e.errors);
  }
  return undefined;
}
