/**
 * The Kafka port on @platformatic/kafka.
 *
 * Why not kafkajs: its consumer can only read through a consumer group (subscribe + group join);
 * there is no public API to assign partitions and fetch from explicit offsets without joining a
 * group on the protected cluster, and it has had no release since 2023 (no Kafka 4.x testing).
 * @platformatic/kafka is maintained, pure JavaScript (no native addon), tested against Kafka
 * 3.5-4.2, and exposes its protocol layer: backup sends Fetch requests itself to each partition's
 * leader (no group, no fetch session) at READ_COMMITTED and filters aborted transactions and
 * control batches in record-batches.ts (the Java consumer's algorithm), and restore uses its
 * idempotent producer.
 *
 * connectionsPerBroker is applied by running that many independent clients (each holds one
 * connection per broker) and pinning every partition to one of them.
 */
import {
  Admin,
  type ConnectionPoolEventPayload,
  type fetchV17,
  kGetApi,
  kGetConnection,
  Producer,
} from '@platformatic/kafka';
import { stampForProduce } from '../format/kafka-batch.ts';
import type { Logger } from '../log.ts';
import { silentLogger } from '../log.ts';
import { partitionKey, type TopicPartition } from '../record.ts';
import { clientOptions } from './client-options.ts';
import {
  connectionProblems,
  DEFAULT_CONNECTIONS_PER_BROKER,
  type KafkaConnectionConfig,
} from './connection.ts';
import { diagnoseKafkaFailure, type KafkaFailureContext, partitionErrorFailure } from './failures.ts';
import { PlatformaticGroupAdmin } from './platformatic-group-admin.ts';
import {
  type BatchFetchOptions,
  type BatchFetchResult,
  type FetchOptions,
  type FetchResult,
  type GroupDescription,
  type GroupOffset,
  KafkaError,
  type KafkaPort,
  type LogOffsets,
  type ProduceRecord,
  type TopicDescription,
  type TopicSpec,
  type Watermarks,
} from './port.ts';
import { gatherRecords, type RawFetchPartition, type RawFetchResponse, rawFetchApi } from './raw-fetch.ts';
import { type RawProduceResponse, rawProduceApi } from './raw-produce.ts';
import { ReadBuffers } from './read-buffers.ts';
import {
  committedBatches,
  DamagedBatchError,
  decodeCommitted,
  forLender,
  type WireBatch,
} from './record-batches.ts';

const READ_COMMITTED = 1;

/** How long a new topic may take to have every partition led and answering. */
const TOPIC_READY_TIMEOUT_MS = 10_000;
const TOPIC_RESOURCE = 2;
const DYNAMIC_TOPIC_CONFIG = 1;
const ERROR_OFFSET_OUT_OF_RANGE = 1;
/** Errors after which the partition's leader must be looked up again. */
const STALE_METADATA_ERRORS = new Set([3, 5, 6, 74, 75, 100]);
const FETCH_ATTEMPTS = 8;
/**
 * Produce errors a retry cannot fix: out-of-order or duplicate sequence, invalid producer epoch,
 * unknown producer id, record too large, invalid record (the target's limits or validation).
 */
const FATAL_PRODUCE_ERRORS = new Set([45, 46, 47, 59, 10, 87, 2]);
/** Kafka's OUT_OF_ORDER_SEQUENCE_NUMBER: fatal, unless the batch overtook one still in flight. */
const OUT_OF_ORDER_SEQUENCE = 45;
/**
 * A fetch stops retrying once this long has passed (or twice requestTimeoutMs, if longer). Without a
 * budget, attempts multiply with the client's own retries and a silent broker took ~48 min to fail.
 */
const FETCH_RETRY_BUDGET_MS = 30_000;

export interface PlatformaticKafkaOptions {
  readonly logger?: Logger;
  /** Broker-side timeout of a produce request (produceTimeoutMs). */
  readonly produceTimeoutMs?: number;
  /** -1 (all, idempotent), 1 (leader) or 0 (none). */
  readonly produceAcks?: -1 | 0 | 1;
  /** Compression of produced batches. */
  readonly produceCompression?: 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
  /**
   * Told of every request this port retries (the first connection, fetches), with the class of the
   * failure (a KafkaFailureKind, `no-leader`, `kafka-error-<code>`, or `other`): live metrics.
   */
  readonly onRetry?: (failureClass: string) => void;
}

type FetchResponse = fetchV17.FetchResponse;
/** The fields both the client's Fetch parser and raw-fetch.ts give a partition. */
type FetchResponsePartition = Omit<RawFetchPartition, 'records'> & { records?: unknown };
type Api = ((...args: unknown[]) => void) & { version: number };
type Broker = { host: string; port: number };

interface ClientLike {
  metadata(options: { topics: string[]; forceUpdate?: boolean }): Promise<{
    brokers: Map<number, Broker>;
    topics: Map<
      string,
      { id: string; partitions: { leader: number; replicas: number[] }[]; partitionsCount: number }
    >;
    id: string;
  }>;
  clearMetadata(): void;
}

export class PlatformaticKafka implements KafkaPort {
  readonly description: string;
  readonly #config: KafkaConnectionConfig;
  readonly #options: PlatformaticKafkaOptions;
  readonly #log: Logger;
  readonly #admin: Admin;
  readonly #groups: PlatformaticGroupAdmin;
  readonly #fetchers: Admin[] = [];
  /** What the fetch connections read into (read-buffers.ts; the bundled CLI's clients use it). */
  readonly #readBuffers = new ReadBuffers();
  readonly #producers: (Producer | undefined)[];
  readonly #slots: number;
  /**
   * Idempotent writes (acks = all) keep up to four batches of a partition in flight: the broker
   * remembers a producer's last five per partition, so a retried one is still recognised.
   */
  readonly batchesInFlight: number;

  constructor(config: KafkaConnectionConfig, options: PlatformaticKafkaOptions = {}) {
    const problems = connectionProblems(config);
    if (problems.length > 0)
      throw new KafkaError(`invalid Kafka connection settings: ${problems.join('; ')}`);
    this.#config = config;
    this.#options = options;
    this.#log = options.logger ?? silentLogger;
    this.description = `kafka://${config.bootstrapServers.join(',')}`;
    this.#slots = config.connection?.connectionsPerBroker ?? DEFAULT_CONNECTIONS_PER_BROKER;
    this.batchesInFlight = (options.produceAcks ?? -1) === -1 ? 4 : 1;
    this.#admin = new Admin(this.#baseOptions('admin'));
    this.#watchSockets(this.#admin);
    this.#groups = new PlatformaticGroupAdmin(this.#admin);
    this.#producers = new Array(this.#slots).fill(undefined);
  }

  /** What error messages may name about this connection (never a secret value). */
  get #failureContext(): KafkaFailureContext {
    const c = this.#config;
    return {
      securityProtocol: c.securityProtocol,
      bootstrapServers: c.bootstrapServers,
      ...(c.tls?.caSource ? { caSource: c.tls.caSource } : {}),
      ...(c.sasl ? { sasl: { mechanism: c.sasl.mechanism, username: c.sasl.username } } : {}),
    };
  }

  /**
   * The first request of a run, attempted one connection at a time (no client-level retries), so
   * that a terminal failure (authentication, TLS verification, authorization) ends it at once and a
   * retriable one (refused, timed out, not resolved) is reported once with its attempts and time.
   */
  async #connect<T>(what: string, operation: () => Promise<T>): Promise<T> {
    const options = this.#baseOptions('admin');
    const attempts = options.retries + 1;
    const started = Date.now();
    let last: KafkaError | undefined;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        return await wrap(what, operation, this.#failureContext);
      } catch (error) {
        if (!(error instanceof KafkaError)) throw error;
        this.#log.warn('kafka connection attempt failed', {
          attempt,
          of: attempts,
          reason: error.failure?.kind ?? 'unknown',
          terminal: !error.retriable,
        });
        if (!error.retriable) throw error;
        last = error;
        if (attempt < attempts) {
          this.#options.onRetry?.(error.failure?.kind ?? 'other');
          await sleep(options.retryDelay * attempt);
        }
      }
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(1).replace(/\.0$/, '');
    const cause = last?.failure?.message ?? last?.message ?? 'failed';
    throw new KafkaError(`could not ${what}: ${cause}, ${attempts} attempts over ${seconds} s`, {
      retriable: true,
      cause: last,
      ...(last?.failure ? { failure: last.failure } : {}),
    });
  }

  /** The first connection of this port, made once (again after a failure) before any admin request. */
  #connected: Promise<unknown> | undefined;

  #ensureConnected(): Promise<unknown> {
    // Each attempt on a client of its own without retries: the library retries a timed-out
    // connection itself (and a client keeps its failed connection), so the summary's count and
    // time would otherwise be wrong (6 attempts taking 47 s at a 1 s timeout).
    this.#connected ??= this.#connect('connect to the cluster', async () => {
      const probe = new Admin({ ...this.#baseOptions('connect'), retries: 0 });
      try {
        return await probe.metadata({ topics: [] });
      } finally {
        await probe.close().catch(() => {});
      }
    }).catch((error: unknown) => {
      this.#connected = undefined;
      throw error;
    });
    return this.#connected;
  }

  async #wrap<T>(what: string, operation: () => Promise<T>): Promise<T> {
    await this.#ensureConnected();
    return wrap(what, operation, this.#failureContext);
  }

  #baseOptions(role: string) {
    return clientOptions(this.#config, role);
  }

  #connections = 0;

  /** Broker connections currently open by this port (all its clients): shows connectionsPerBroker at work. */
  get openConnections(): number {
    return this.#connections;
  }

  /** TCP keepalive and Nagle settings are applied to every socket as it connects. */
  #watchSockets(client: Admin | Producer): void {
    const settings = this.#config.connection;
    client.on('client:broker:disconnect', () => {
      this.#connections--;
    });
    client.on('client:broker:connect', ({ connection }: ConnectionPoolEventPayload) => {
      this.#connections++;
      const socket = connection.socket;
      if (!socket) return;
      socket.setNoDelay(settings?.tcpNodelay ?? true);
      if (settings?.tcpKeepalive !== false)
        socket.setKeepAlive(true, (settings?.keepaliveTimeSecs ?? 60) * 1000);
    });
  }

  #slotOf(tp: TopicPartition): number {
    let h = 0;
    const key = partitionKey(tp);
    for (let i = 0; i < key.length; i++) h = (h * 31 + key.charCodeAt(i)) | 0;
    return Math.abs(h) % this.#slots;
  }

  #fetcher(tp: TopicPartition): Admin {
    const slot = this.#slotOf(tp);
    let client = this.#fetchers[slot];
    if (!client) {
      // fetch() retries itself within a time budget: one client-level retry keeps each attempt short.
      client = new Admin({
        ...this.#baseOptions(`fetch-${slot}`),
        retries: 1,
        // Not one of the client's options: its Connection hands it to socketReadOptions().
        ...({ readBuffers: this.#readBuffers } as object),
      });
      this.#watchSockets(client);
      this.#fetchers[slot] = client;
    }
    return client;
  }

  #producer(tp: TopicPartition): Producer {
    const slot = this.#slotOf(tp);
    let producer = this.#producers[slot];
    if (!producer) {
      const acks = this.#options.produceAcks ?? -1;
      producer = new Producer({
        ...this.#baseOptions(`produce-${slot}`),
        // Idempotence needs acks=all; with acks 0 or 1 a retried request can be written twice.
        idempotent: acks === -1,
        acks,
        retries: 10,
        timeout: this.#options.produceTimeoutMs ?? 30_000,
        compression: this.#options.produceCompression ?? 'none',
        autocreateTopics: false,
      });
      this.#watchSockets(producer);
      this.#producers[slot] = producer;
    }
    return producer;
  }

  async clusterId(): Promise<string> {
    await this.#ensureConnected();
    const metadata = await this.#wrap('read the cluster metadata', () =>
      this.#admin.metadata({ topics: [] }),
    );
    return metadata.id;
  }

  async listTopics(options: { includeInternal?: boolean } = {}): Promise<string[]> {
    const names = await this.#wrap('list topics', () =>
      this.#admin.listTopics({ includeInternals: options.includeInternal ?? false }),
    );
    return [...names].sort();
  }

  /**
   * Kafka's own internal topics (`__consumer_offsets`, `__transaction_state`...) are listed, but the
   * client keeps no metadata for them (partitions, leaders), so they can be neither described nor
   * read here: say so, rather than wait for partitions that never come and blame the cluster.
   */
  async #refuseInternal(topics: readonly string[]): Promise<void> {
    const visible = new Set(await this.listTopics());
    const internal = topics.filter((t) => !visible.has(t));
    if (internal.length === 0) return;
    throw new KafkaError(
      `${internal.join(', ')}: Kafka's internal ${internal.length === 1 ? 'topic is' : 'topics are'} not backed up ` +
        'by this version (its client cannot read their partitions). Leave them out of topics (a pattern ' +
        'selects them only with includeInternalTopics; excludeTopics leaves them out); consumer group offsets ' +
        'are saved with consumerGroupSnapshot',
      { retriable: false },
    );
  }

  /**
   * Topics the user may not describe are left out of every listing, as if they did not exist;
   * asked for by name, the broker says which it refuses (an ACL to grant, not a topic to create).
   */
  async #refuseHidden(topics: readonly string[]): Promise<void> {
    // One by one (only names a listing missed, so few): the refusal then names exactly the topic.
    // A client without retries: the answer for a topic that does not exist (the usual case: a
    // restore's new target) is final, and the shared admin would retry it for over a second.
    const probe = new Admin({ ...this.#baseOptions('describe'), retries: 0 });
    try {
      for (const topic of topics) await this.#refuseIfHidden(probe, topic);
    } finally {
      await probe.close().catch(() => {});
    }
  }

  async #refuseIfHidden(probe: Admin, topic: string): Promise<void> {
    try {
      await this.#wrap(`describe topic ${topic}`, () => probe.metadata({ topics: [topic] }));
    } catch (error) {
      // Anything but a refusal (an unknown topic): it does not exist, as the listing says.
      if (!(error instanceof KafkaError) || error.failure?.kind !== 'not-authorized') return;
      const broker = this.#config.bootstrapServers.join(',');
      const failure = partitionErrorFailure(29, topic, broker, this.#failureContext) ?? error.failure;
      throw new KafkaError(`could not describe topic ${topic}: ${failure.message}`, {
        cause: error,
        failure,
      });
    }
  }

  async describeTopics(topics: readonly string[]): Promise<TopicDescription[]> {
    if (topics.length === 0) return [];
    const all = new Set(await this.listTopics({ includeInternal: true }));
    const existing = topics.filter((t) => all.has(t));
    const unlisted = topics.filter((t) => !all.has(t));
    if (unlisted.length > 0) await this.#refuseHidden(unlisted);
    if (existing.length === 0) return [];
    // A topic whose metadata comes back without partitions (an error answer, e.g. no leader yet) must
    // not be taken for an empty topic: ask again, then fail.
    let metadata = await this.#wrap('describe topics', () =>
      this.#admin.metadata({ topics: existing, forceUpdate: true }),
    );
    for (let attempt = 1; attempt < 5; attempt++) {
      const incomplete = existing.filter((t) => {
        const m = metadata.topics.get(t);
        return !m || m.partitionsCount < 1 || m.partitions.length !== m.partitionsCount;
      });
      if (incomplete.length === 0) break;
      if (attempt === 1) await this.#refuseInternal(incomplete);
      if (attempt === 4) {
        throw new KafkaError(
          `the metadata of ${incomplete.join(', ')} lists no partitions; is the cluster healthy?`,
          {
            retriable: true,
          },
        );
      }
      await sleep(250 * attempt);
      metadata = await this.#wrap('describe topics', () =>
        this.#admin.metadata({ topics: existing, forceUpdate: true }),
      );
    }
    const configs = await this.#wrap('describe topic configs', () =>
      this.#admin.describeConfigs({
        resources: existing.map((name) => ({ resourceType: TOPIC_RESOURCE, resourceName: name })),
      }),
    );
    const configsByTopic = new Map<string, Record<string, string>>();
    const compacted = new Set<string>();
    for (const resource of configs) {
      const set: Record<string, string> = {};
      for (const entry of resource.configs) {
        if (
          entry.name === 'cleanup.policy' &&
          typeof entry.value === 'string' &&
          entry.value.includes('compact')
        ) {
          compacted.add(resource.resourceName);
        }
        if (
          entry.configSource === DYNAMIC_TOPIC_CONFIG &&
          !entry.isSensitive &&
          typeof entry.value === 'string'
        ) {
          set[entry.name] = entry.value;
        }
      }
      configsByTopic.set(resource.resourceName, set);
    }
    return existing.map((name) => {
      const topic = metadata.topics.get(name);
      if (!topic) throw new KafkaError(`topic '${name}' disappeared while it was being described`);
      return {
        name,
        partitionCount: topic.partitionsCount,
        replicationFactor: topic.partitions[0]?.replicas.length ?? 1,
        configs: configsByTopic.get(name) ?? {},
        compacted: compacted.has(name),
      };
    });
  }

  async watermarks(partitions: readonly TopicPartition[]): Promise<Map<string, Watermarks>> {
    // A missing or negative offset (an error answer) must never be taken for "empty": that would
    // silently skip data. Ask again, then fail.
    let problem = '';
    for (let attempt = 0; attempt < 5; attempt++) {
      if (attempt > 0) {
        this.#admin.clearMetadata();
        await sleep(200 * attempt);
      }
      const result = await this.#listWatermarks(partitions);
      const bad = partitions.filter((tp) => {
        const m = result.get(partitionKey(tp));
        return !m || m.logStartOffset < 0n || m.endOffset < 0n || m.endOffset < m.logStartOffset;
      });
      if (bad.length === 0) return result;
      problem = bad
        .map(
          (tp) =>
            `${partitionKey(tp)}: ${JSON.stringify(result.get(partitionKey(tp)) ?? null, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}`,
        )
        .join(', ');
      this.#log.warn('partition offsets incomplete; asking again', { attempt, problem });
    }
    throw new KafkaError(`could not read the offsets of ${problem} from ${this.description}`, {
      retriable: true,
    });
  }

  async #listWatermarks(partitions: readonly TopicPartition[]): Promise<Map<string, Watermarks>> {
    const result = new Map<string, Watermarks>();
    if (partitions.length === 0) return result;
    const byTopic = new Map<string, number[]>();
    for (const tp of partitions) byTopic.set(tp.topic, [...(byTopic.get(tp.topic) ?? []), tp.partition]);
    const list = (timestamp: bigint) =>
      this.#wrap('list partition offsets', () =>
        this.#admin.listOffsets({
          topics: [...byTopic].map(([name, ps]) => ({
            name,
            partitions: ps.map((partitionIndex) => ({ partitionIndex, timestamp })),
          })),
          isolationLevel: READ_COMMITTED,
        }),
      );
    const [earliest, latest] = await Promise.all([list(-2n), list(-1n)]);
    const start = new Map<string, bigint>();
    for (const t of earliest)
      for (const p of t.partitions) start.set(`${t.name}/${p.partitionIndex}`, p.offset);
    for (const t of latest) {
      for (const p of t.partitions) {
        const key = `${t.name}/${p.partitionIndex}`;
        const logStartOffset = start.get(key);
        if (logStartOffset !== undefined) result.set(key, { logStartOffset, endOffset: p.offset });
      }
    }
    return result;
  }

  async fetch(tp: TopicPartition, offset: bigint, options: FetchOptions = {}): Promise<FetchResult> {
    const got = await this.#fetchPartition(tp, offset, options, false);
    if (got.kind === 'out-of-range') return got;
    const { partition } = got;
    const decoded = decodeCommitted(
      (partition.records ?? []) as unknown as WireBatch[],
      partition.abortedTransactions,
      offset,
    );
    return {
      kind: 'records',
      records: decoded.records,
      nextOffset: decoded.nextOffset,
      skipped: decoded.skipped,
      bytes: decoded.bytes,
      logStartOffset: partition.logStartOffset,
      lastStableOffset: partition.lastStableOffset,
      highWatermark: partition.highWatermark,
    };
  }

  async fetchBatches(
    tp: TopicPartition,
    offset: bigint,
    options: BatchFetchOptions = {},
  ): Promise<BatchFetchResult> {
    // A batch damaged on the way (its CRC-32C fails) is fetched again, within the same attempts.
    for (let attempt = 1; ; attempt++) {
      const got = await this.#fetchPartition(tp, offset, options, true);
      if (got.kind === 'out-of-range') return got;
      const { partition, release } = got;
      try {
        // Read into memory that is read into again once released: copied out first, always.
        const { bytes, lent } = gatherRecords(
          partition.records as readonly Buffer[],
          options.into,
          release !== undefined,
        );
        const kept = committedBatches(bytes, partition.abortedTransactions, offset);
        return {
          kind: 'batches',
          ...kept,
          batches: lent ? forLender(kept.batches, bytes) : kept.batches,
          logStartOffset: partition.logStartOffset,
          lastStableOffset: partition.lastStableOffset,
          highWatermark: partition.highWatermark,
        };
      } catch (error) {
        if (!(error instanceof DamagedBatchError) || attempt >= 3) {
          throw new KafkaError(`${partitionKey(tp)}: ${(error as Error).message}`, {
            retriable: error instanceof DamagedBatchError,
            cause: error,
          });
        }
        this.#options.onRetry?.('damaged-batch');
        this.#log.warn('a fetched record batch failed its checksum; fetching again', {
          partition: partitionKey(tp),
          error: (error as Error).message,
        });
      } finally {
        release?.();
      }
    }
  }

  /**
   * One partition's fetch, retried within a time budget: the partition's part of the response (its
   * records decoded by the client, or raw batches), or out-of-range with the partition's range.
   */
  async #fetchPartition(
    tp: TopicPartition,
    offset: bigint,
    options: FetchOptions,
    raw: boolean,
  ): Promise<
    | { kind: 'partition'; partition: FetchResponsePartition; release: (() => void) | undefined }
    | { kind: 'out-of-range'; logStartOffset: bigint; lastStableOffset: bigint }
  > {
    // A port's first request is its connection, attempted once at a time (see #connect).
    await this.#ensureConnected();
    const client = this.#fetcher(tp);
    const maxBytes = options.maxBytes ?? 4 * 1024 * 1024;
    let lastError: unknown;
    /** Set with lastError when the broker answered with an error rather than failing. */
    let lastClass: string | undefined;
    const started = Date.now();
    const budgetMs = Math.max(
      FETCH_RETRY_BUDGET_MS,
      2 * (this.#config.connection?.requestTimeoutMs ?? 60_000),
    );
    let attempts = 0;
    for (let attempt = 0; attempt < FETCH_ATTEMPTS; attempt++) {
      if (attempt > 0) {
        if (Date.now() - started >= budgetMs) break;
        this.#options.onRetry?.(
          lastClass ?? diagnoseKafkaFailure(lastError, this.#failureContext)?.kind ?? 'other',
        );
        lastClass = undefined;
        await sleep(Math.min(2000, 100 * 2 ** attempt) * (0.5 + Math.random() / 2));
      }
      attempts++;
      try {
        const metadata = await (client as unknown as ClientLike).metadata({
          topics: [tp.topic],
          forceUpdate: attempt > 0,
        });
        const topic = metadata.topics.get(tp.topic);
        const leaderId = topic?.partitions[tp.partition]?.leader;
        const broker = leaderId === undefined ? undefined : metadata.brokers.get(leaderId);
        if (!topic || !broker) {
          lastError = new KafkaError(`no leader known for ${partitionKey(tp)}`, { retriable: true });
          lastClass = 'no-leader';
          continue;
        }
        const response = await this.#fetchFrom(
          client,
          broker,
          topic.id,
          tp,
          offset,
          maxBytes,
          options.maxWaitMs ?? 500,
          raw,
        );
        const partition = response.responses[0]?.partitions.find(
          (p: { partitionIndex: number }) => p.partitionIndex === tp.partition,
        );
        if (!partition)
          throw new KafkaError(`the broker returned no data for ${partitionKey(tp)}`, { retriable: true });
        if (partition.errorCode === ERROR_OFFSET_OUT_OF_RANGE) {
          // The error response carries no usable offsets (-1): ask for the partition's current range.
          const marks = (await this.watermarks([tp])).get(partitionKey(tp));
          return {
            kind: 'out-of-range',
            logStartOffset: marks?.logStartOffset ?? partition.logStartOffset,
            lastStableOffset: marks?.endOffset ?? partition.lastStableOffset,
          };
        }
        const denied = partitionErrorFailure(
          partition.errorCode,
          tp.topic,
          `${broker.host}:${broker.port}`,
          this.#failureContext,
        );
        if (denied) {
          throw new KafkaError(`could not fetch ${partitionKey(tp)}: ${denied.message}`, {
            retriable: false,
            failure: denied,
          });
        }
        if (partition.errorCode !== 0) {
          lastError = new KafkaError(
            `fetch of ${partitionKey(tp)} failed with Kafka error ${partition.errorCode}`,
            { retriable: true },
          );
          lastClass = `kafka-error-${partition.errorCode}`;
          if (STALE_METADATA_ERRORS.has(partition.errorCode)) client.clearMetadata();
          continue;
        }
        return { kind: 'partition', partition, release: (response as RawFetchResponse).release };
      } catch (error) {
        // Denied by an ACL, refused credentials or TLS: the same request fails again, at once.
        if (error instanceof KafkaError && !error.retriable) throw error;
        const failure = diagnoseKafkaFailure(error, this.#failureContext);
        if (failure?.terminal) {
          throw new KafkaError(`could not fetch ${partitionKey(tp)}: ${failure.message}`, {
            cause: error,
            failure,
          });
        }
        lastError = error;
        client.clearMetadata();
        this.#log.debug('fetch attempt failed', {
          partition: partitionKey(tp),
          attempt,
          error: describe(error),
        });
      }
    }
    throw new KafkaError(
      `could not fetch ${partitionKey(tp)} from ${this.description} (${attempts} attempts in ` +
        `${Math.round((Date.now() - started) / 1000)} s): ${describe(lastError)}`,
      {
        retriable: true,
        cause: lastError,
      },
    );
  }

  /**
   * One sessionless Fetch request (session id 0, epoch -1) to the partition's leader; `raw` keeps
   * the records bytes undecoded (raw-fetch.ts).
   */
  #fetchFrom(
    client: Admin,
    broker: Broker,
    topicId: string,
    tp: TopicPartition,
    offset: bigint,
    maxBytes: number,
    maxWaitMs: number,
    raw: boolean,
  ): Promise<FetchResponse | RawFetchResponse> {
    const internals = client as unknown as {
      [kGetApi]: (name: string, cb: (error: Error | null, api?: Api) => void) => void;
      [kGetConnection]: (broker: Broker, cb: (error: Error | null, connection?: unknown) => void) => void;
    };
    return new Promise((resolve, reject) => {
      internals[kGetConnection](broker, (error, connection) => {
        if (error) return reject(error);
        internals[kGetApi]('Fetch', (error, negotiated) => {
          if (error || !negotiated)
            return reject(error ?? new KafkaError('the broker does not support Fetch'));
          let api: Api = negotiated;
          if (raw) {
            const rawApi = rawFetchApi(negotiated.version);
            if (!rawApi) {
              return reject(
                new KafkaError(
                  `the broker speaks Fetch v${negotiated.version}; backup needs v13 or later (Kafka 3.1+)`,
                  { retriable: false },
                ),
              );
            }
            api = rawApi as unknown as Api;
          }
          // Fetch v12 and older name topics, v13+ identify them by id.
          const topicRef = api.version <= 12 ? tp.topic : topicId;
          const topics = [
            {
              topicId: topicRef,
              partitions: [
                {
                  partition: tp.partition,
                  currentLeaderEpoch: -1,
                  fetchOffset: offset,
                  lastFetchedEpoch: -1,
                  partitionMaxBytes: maxBytes,
                },
              ],
            },
          ];
          api(
            connection,
            maxWaitMs,
            1,
            maxBytes,
            READ_COMMITTED,
            0,
            -1,
            topics,
            [],
            '',
            (err: unknown, res: unknown) => {
              const response = (res ?? (err as { response?: FetchResponse } | null)?.response) as
                | FetchResponse
                | undefined;
              // A partition-level error (e.g. OFFSET_OUT_OF_RANGE) arrives as an error carrying the response.
              if (response?.responses) return resolve(response);
              reject(err ?? new KafkaError('empty fetch response'));
            },
          );
        });
      });
    });
  }

  async produce(tp: TopicPartition, records: readonly ProduceRecord[]): Promise<{ baseOffset: bigint }> {
    if (records.length === 0) throw new KafkaError('produce called with no records');
    const producer = this.#producer(tp);
    const messages = records.map((r) => ({
      topic: tp.topic,
      partition: tp.partition,
      key: toBuffer(r.key),
      value: toBuffer(r.value),
      // Distinct Buffer objects as keys keep duplicate header names, in order (a Map keyed by strings would not).
      headers: new Map(r.headers.map(([k, v]) => [Buffer.from(k, 'utf8'), toBuffer(v)] as [Buffer, Buffer])),
      timestamp: r.timestamp,
    }));
    const result = await this.#wrap(`produce to ${partitionKey(tp)}`, () =>
      producer.send({ messages: messages as never, acks: this.#options.produceAcks ?? -1 }),
    );
    const produced = result.offsets?.find((o) => o.topic === tp.topic && o.partition === tp.partition);
    if (!produced) {
      if ((this.#options.produceAcks ?? -1) === 0) return { baseOffset: -1n };
      throw new KafkaError(`the broker did not acknowledge the write to ${partitionKey(tp)}`, {
        retriable: true,
      });
    }
    return { baseOffset: produced.offset };
  }

  /** One producer id for the batches this port produces whole; sequences are per partition. */
  #batchProducer: Promise<{ producerId: bigint; producerEpoch: number }> | undefined;
  readonly #sequences = new Map<string, number>();

  #batchProducerInfo(): Promise<{ producerId: bigint; producerEpoch: number }> {
    if (!this.#batchProducer) {
      // The client's idempotent producer asks the cluster for an id; this port then stamps and
      // sequences the batches itself (the client would encode records again).
      const producer = new Producer({ ...this.#baseOptions('produce-batches'), idempotent: true });
      this.#watchSockets(producer);
      this.#batchProducer = (async () => {
        try {
          return await this.#wrap('initialize an idempotent producer', () =>
            producer.initIdempotentProducer({}),
          );
        } finally {
          await producer.close().catch(() => {});
        }
      })();
      this.#batchProducer.catch(() => {
        this.#batchProducer = undefined;
      });
    }
    return this.#batchProducer;
  }

  /**
   * Per partition, the last batch handed to produceBatch(): whether it has settled, and whether it
   * was written. A caller may keep several batches of a partition in flight (their sequences are
   * reserved in call order); the broker takes them in sequence order and refuses one that arrives
   * before its predecessor (OUT_OF_ORDER_SEQUENCE_NUMBER), which is then sent again once that
   * predecessor is written.
   */
  readonly #lastBatch = new Map<string, BatchInFlight>();

  async produceBatch(
    tp: TopicPartition,
    batch: Uint8Array,
    recordCount: number,
  ): Promise<{ baseOffset: bigint }> {
    await this.#ensureConnected();
    const acks = this.#options.produceAcks ?? -1;
    const key = partitionKey(tp);
    // Idempotence needs acks=all; with fewer acks the batch carries no producer id, as the client's would.
    const info = acks === -1 ? await this.#batchProducerInfo() : undefined;
    // Reserved at once, in call order (callers awaiting the same producer id resume in order).
    // Sequences wrap at 2^31 (Kafka's rule). A batch that fails leaves a gap: the partition's later
    // batches are refused as out of order, and the run fails; the next one resumes from its checkpoint.
    const sequence = this.#sequences.get(key) ?? 0;
    if (info) this.#sequences.set(key, (sequence + recordCount) % 2 ** 31);
    const previous = this.#lastBatch.get(key);
    const mine = new BatchInFlight();
    this.#lastBatch.set(key, mine);
    stampForProduce(batch, {
      producerId: info?.producerId ?? -1n,
      producerEpoch: info?.producerEpoch ?? -1,
      baseSequence: info ? sequence : -1,
    });
    try {
      const written = await this.#sendBatch(tp, batch, acks, previous);
      mine.settle(true);
      return written;
    } catch (error) {
      mine.settle(false);
      throw error;
    } finally {
      if (this.#lastBatch.get(key) === mine) this.#lastBatch.delete(key);
    }
  }

  async #sendBatch(
    tp: TopicPartition,
    batch: Uint8Array,
    acks: number,
    previous: BatchInFlight | undefined,
  ): Promise<{ baseOffset: bigint }> {
    const key = partitionKey(tp);
    const bytes = Buffer.from(batch.buffer, batch.byteOffset, batch.byteLength);
    const client = this.#fetcher(tp);
    const timeoutMs = this.#options.produceTimeoutMs ?? 30_000;
    const failedBefore = () =>
      new KafkaError(
        `write to ${key} not attempted: the batch before it could not be written; ` +
          'rerun the restore: it resumes from its last checkpoint',
        { retriable: false },
      );
    let lastError: unknown;
    let resendNow = false;
    for (let attempt = 0; attempt < FETCH_ATTEMPTS; attempt++) {
      if (attempt > 0 && !resendNow) {
        this.#options.onRetry?.(diagnoseKafkaFailure(lastError, this.#failureContext)?.kind ?? 'other');
        await sleep(Math.min(2000, 100 * 2 ** attempt) * (0.5 + Math.random() / 2));
      }
      resendNow = false;
      if (previous?.written === false) throw failedBefore();
      try {
        const metadata = await (client as unknown as ClientLike).metadata({
          topics: [tp.topic],
          forceUpdate: attempt > 0,
        });
        const leaderId = metadata.topics.get(tp.topic)?.partitions[tp.partition]?.leader;
        const broker = leaderId === undefined ? undefined : metadata.brokers.get(leaderId);
        if (!broker) {
          lastError = new KafkaError(`no leader known for ${key}`, { retriable: true });
          continue;
        }
        const predecessorPending = previous !== undefined && !previous.settled;
        const response = await this.#produceTo(client, broker, tp, bytes, acks, timeoutMs);
        if (acks === 0) return { baseOffset: -1n };
        const partition = response?.responses[0]?.partitionResponses.find((p) => p.index === tp.partition);
        if (!partition)
          throw new KafkaError(`the broker did not acknowledge the write to ${key}`, { retriable: true });
        if (partition.errorCode === 0) return { baseOffset: partition.baseOffset };
        if (partition.errorCode === OUT_OF_ORDER_SEQUENCE && predecessorPending) {
          // Ahead of the batch before it (being retried, or not yet arrived): send it again once
          // that one is written; if that one failed, this one cannot be written either.
          if (!(await previous.settledAs)) throw failedBefore();
          this.#log.debug('a batch arrived before the one preceding it; sending it again', {
            partition: key,
          });
          resendNow = true;
          continue;
        }
        if (FATAL_PRODUCE_ERRORS.has(partition.errorCode)) {
          throw new KafkaError(
            `write to ${key} refused (Kafka error ${partition.errorCode}${partition.errorMessage ? `: ${partition.errorMessage}` : ''}); ` +
              'rerun the restore: it resumes from its last checkpoint',
            { retriable: false },
          );
        }
        lastError = new KafkaError(`write to ${key} failed with Kafka error ${partition.errorCode}`, {
          retriable: true,
        });
        if (STALE_METADATA_ERRORS.has(partition.errorCode)) client.clearMetadata();
      } catch (error) {
        if (error instanceof KafkaError && !error.retriable) throw error;
        const failure = diagnoseKafkaFailure(error, this.#failureContext);
        if (failure?.terminal) {
          throw new KafkaError(`could not write to ${key}: ${failure.message}`, { cause: error, failure });
        }
        lastError = error;
        client.clearMetadata();
      }
    }
    throw new KafkaError(`could not write to ${key} from ${this.description}: ${describe(lastError)}`, {
      retriable: true,
      cause: lastError,
    });
  }

  /** One Produce request carrying one encoded batch, to the partition's leader. */
  #produceTo(
    client: Admin,
    broker: Broker,
    tp: TopicPartition,
    batch: Buffer,
    acks: number,
    timeoutMs: number,
  ): Promise<RawProduceResponse | undefined> {
    const internals = client as unknown as {
      [kGetApi]: (name: string, cb: (error: Error | null, api?: Api) => void) => void;
      [kGetConnection]: (broker: Broker, cb: (error: Error | null, connection?: unknown) => void) => void;
    };
    return new Promise((resolve, reject) => {
      internals[kGetConnection](broker, (error, connection) => {
        if (error) return reject(error);
        internals[kGetApi]('Produce', (error, negotiated) => {
          if (error || !negotiated)
            return reject(error ?? new KafkaError('the broker does not support Produce'));
          const api = rawProduceApi(negotiated.version);
          if (!api) {
            return reject(
              new KafkaError(
                `the broker speaks Produce v${negotiated.version}; restore needs v9 or later (Kafka 2.4+)`,
                {
                  retriable: false,
                },
              ),
            );
          }
          (api as unknown as Api)(
            connection,
            acks,
            timeoutMs,
            tp.topic,
            tp.partition,
            batch,
            (err: unknown, res: unknown) => {
              const response = (res ?? (err as { response?: RawProduceResponse } | null)?.response) as
                | RawProduceResponse
                | undefined;
              // A partition-level error arrives as an error carrying the response.
              if (response?.responses || acks === 0) return resolve(response);
              reject(err ?? new KafkaError('empty produce response'));
            },
          );
        });
      });
    });
  }

  async createTopic(spec: TopicSpec): Promise<void> {
    await this.#wrap(`create topic '${spec.name}'`, () =>
      this.#admin.createTopics({
        topics: [spec.name],
        partitions: spec.partitions,
        replicas: spec.replicationFactor,
        configs: Object.entries(spec.configs).map(([name, value]) => ({ name, value })),
      }),
    );
    await this.#untilUsable(spec);
  }

  /**
   * Returns once every partition of a new topic has a leader that answers for its offsets. The
   * broker names a leader in its metadata some tens of milliseconds before the partition serves
   * requests; a request in that window waits out the client's retry delay (250 ms, a quarter of a
   * small restore). So this asks on a client without retries, at short intervals.
   */
  async #untilUsable(spec: TopicSpec): Promise<void> {
    const probe = new Admin({ ...this.#baseOptions('create'), retries: 0 });
    const started = Date.now();
    let problem = 'its partitions have no leader';
    try {
      for (let delay = 10; Date.now() - started < TOPIC_READY_TIMEOUT_MS; delay = Math.min(delay * 2, 200)) {
        const leaders = await probe
          .metadata({ topics: [spec.name], forceUpdate: true })
          .then((m) => m.topics.get(spec.name)?.partitions)
          .catch(() => undefined);
        if (!leaders || leaders.length !== spec.partitions || leaders.some((p) => p.leader < 0)) {
          problem = 'its partitions have no leader';
        } else {
          const partitions = Array.from({ length: spec.partitions }, (_, partitionIndex) => ({
            partitionIndex,
            timestamp: -1n,
          }));
          const answered = await probe.listOffsets({ topics: [{ name: spec.name, partitions }] }).then(
            () => true,
            (error: unknown) => {
              problem = `its partitions do not answer for their offsets (${describe(error)})`;
              return false;
            },
          );
          if (answered) return;
        }
        await sleep(delay);
      }
    } finally {
      await probe.close().catch(() => {});
    }
    throw new KafkaError(
      `topic '${spec.name}' was created but ${problem} after ${TOPIC_READY_TIMEOUT_MS / 1000} s; ` +
        "check the brokers' health (kafka-topics --describe)",
      { retriable: true },
    );
  }

  async deleteTopics(topics: readonly string[]): Promise<void> {
    if (topics.length === 0) return;
    await this.#wrap('delete topics', () => this.#admin.deleteTopics({ topics: [...topics] }));
  }

  async deleteRecords(tp: TopicPartition, offset: bigint): Promise<void> {
    await this.#wrap(`delete records of ${partitionKey(tp)}`, () =>
      this.#admin.deleteRecords({
        topics: [{ name: tp.topic, partitions: [{ partition: tp.partition, offset }] }],
      }),
    );
  }

  async listGroups(): Promise<string[]> {
    await this.#ensureConnected();
    return this.#groups.listGroups();
  }

  async describeGroups(groups: readonly string[]): Promise<Map<string, GroupDescription>> {
    await this.#ensureConnected();
    return this.#groups.describeGroups(groups);
  }

  async committedOffsets(group: string): Promise<GroupOffset[]> {
    await this.#ensureConnected();
    return this.#groups.committedOffsets(group);
  }

  async commitOffsets(group: string, offsets: readonly GroupOffset[]): Promise<void> {
    await this.#ensureConnected();
    return this.#groups.commitOffsets(group, offsets);
  }

  async deleteOffsets(group: string, partitions: readonly TopicPartition[]): Promise<void> {
    await this.#ensureConnected();
    return this.#groups.deleteOffsets(group, partitions);
  }

  async partitionCounts(topics: readonly string[]): Promise<Map<string, number>> {
    await this.#ensureConnected();
    return this.#groups.partitionCounts(topics);
  }

  async logOffsets(partitions: readonly TopicPartition[]): Promise<Map<string, LogOffsets>> {
    await this.#ensureConnected();
    return this.#groups.logOffsets(partitions);
  }

  async offsetsForTimestamp(
    partitions: readonly TopicPartition[],
    timestamp: bigint,
  ): Promise<Map<string, bigint>> {
    await this.#ensureConnected();
    return this.#groups.offsetsForTimestamp(partitions, timestamp);
  }

  async close(): Promise<void> {
    const clients = [this.#admin, ...this.#fetchers, ...this.#producers].filter((c) => c !== undefined);
    await Promise.allSettled(clients.map((c) => c.close()));
    const reads = this.#readBuffers.stats;
    if (reads.bytesRead > 0) this.#log.debug('fetch connections read into recycled memory', { ...reads });
  }
}

/** One batch of a partition on its way to the broker (PlatformaticKafka.produceBatch). */
class BatchInFlight {
  /** Undefined while in flight; then whether it was written. */
  written: boolean | undefined;
  #resolve!: (written: boolean) => void;
  /** Settles as `written` does. */
  readonly settledAs = new Promise<boolean>((resolve) => {
    this.#resolve = resolve;
  });

  get settled(): boolean {
    return this.written !== undefined;
  }

  settle(written: boolean): void {
    this.written = written;
    this.#resolve(written);
  }
}

function toBuffer(value: Uint8Array | null): Buffer | null {
  if (value === null) return null;
  return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const nested = (error as { errors?: unknown[] }).errors;
  const inner = Array.isArray(nested) && nested.length > 0 ? ` (${nested.map(describe).join('; ')})` : '';
  return `${error.message}${inner}`;
}

async function wrap<T>(
  what: string,
  operation: () => Promise<T>,
  context: KafkaFailureContext = {},
): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (error instanceof KafkaError) throw error;
    const failure = diagnoseKafkaFailure(error, context);
    if (failure) {
      throw new KafkaError(`could not ${what}: ${failure.message}`, {
        retriable: !failure.terminal,
        cause: error,
        failure,
      });
    }
    const retriable = Boolean((error as { canRetry?: boolean }).canRetry);
    throw new KafkaError(`could not ${what}: ${describe(error)}`, { retriable, cause: error });
  }
}
