import type { Admin } from '@platformatic/kafka';
import { type CommittedOffset, tpKey } from '../offsets/group-offsets.ts';
import { diagnoseKafkaFailure } from './failures.ts';
import { type ConsumerGroupAdmin, type GroupDescription, KafkaError, type LogOffsets } from './port.ts';

const EARLIEST = -2n;
const LATEST = -1n;

/**
 * The consumer group operations of PlatformaticKafka, on its Admin client (coordinator routing is
 * the client's). The adapter owns and closes the client.
 */
export class PlatformaticGroupAdmin implements Omit<ConsumerGroupAdmin, 'description' | 'close'> {
  readonly #admin: Admin;

  constructor(admin: Admin) {
    this.#admin = admin;
  }

  async listGroups(): Promise<string[]> {
    const groups = await wrap('list consumer groups', () => this.#admin.listGroups());
    return [...groups.keys()].sort();
  }

  async describeGroups(groups: readonly string[]): Promise<Map<string, GroupDescription>> {
    const out = new Map<string, GroupDescription>();
    if (groups.length === 0) return out;
    const described = await wrap(`describe consumer groups ${groups.join(', ')}`, () =>
      this.#admin.describeGroups({ groups: [...groups] }),
    );
    for (const group of groups) {
      const g = described.get(group);
      out.set(group, {
        group,
        state: g?.state ?? 'Dead',
        members: [...(g?.members.values() ?? [])].map((m) => ({
          memberId: m.id,
          clientId: m.clientId,
          host: m.clientHost,
          ...(m.groupInstanceId ? { groupInstanceId: m.groupInstanceId } : {}),
        })),
      });
    }
    return out;
  }

  async committedOffsets(group: string): Promise<CommittedOffset[]> {
    const result = await wrap(`read the committed offsets of group '${group}'`, () =>
      this.#admin.listConsumerGroupOffsets({ groups: [group] }),
    );
    const offsets: CommittedOffset[] = [];
    for (const g of result) {
      for (const t of g.topics) {
        for (const p of t.partitions) {
          if (p.committedOffset >= 0n)
            offsets.push({ topic: t.name, partition: p.partitionIndex, offset: p.committedOffset });
        }
      }
    }
    return offsets;
  }

  async commitOffsets(group: string, offsets: readonly CommittedOffset[]): Promise<void> {
    if (offsets.length === 0) return;
    await wrap(`commit the offsets of group '${group}'`, () =>
      this.#admin.alterConsumerGroupOffsets({
        groupId: group,
        topics: [...byTopic(offsets)].map(([name, ps]) => ({
          name,
          partitionOffsets: ps.map((p) => ({ partition: p.partition, offset: p.offset })),
        })),
      }),
    );
  }

  async deleteOffsets(
    group: string,
    partitions: readonly { topic: string; partition: number }[],
  ): Promise<void> {
    if (partitions.length === 0) return;
    await wrap(`delete committed offsets of group '${group}'`, () =>
      this.#admin.deleteConsumerGroupOffsets({
        groupId: group,
        topics: [...byTopic(partitions)].map(([name, ps]) => ({
          name,
          partitionIndexes: ps.map((p) => p.partition),
        })),
      }),
    );
  }

  async partitionCounts(topics: readonly string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (topics.length === 0) return out;
    const existing = new Set(
      await wrap('list topics', () => this.#admin.listTopics({ includeInternals: true })),
    );
    const wanted = topics.filter((t) => existing.has(t));
    if (wanted.length === 0) return out;
    const metadata = await wrap('read topic metadata', () =>
      this.#admin.metadata({ topics: wanted, forceUpdate: true }),
    );
    for (const [name, t] of metadata.topics) out.set(name, t.partitionsCount);
    return out;
  }

  async logOffsets(
    partitions: readonly { topic: string; partition: number }[],
  ): Promise<Map<string, LogOffsets>> {
    const [earliest, latest] = await Promise.all([
      this.#list(partitions, EARLIEST),
      this.#list(partitions, LATEST),
    ]);
    const out = new Map<string, LogOffsets>();
    for (const [key, e] of earliest) out.set(key, { earliest: e, latest: latest.get(key) ?? e });
    return out;
  }

  offsetsForTimestamp(
    partitions: readonly { topic: string; partition: number }[],
    timestamp: bigint,
  ): Promise<Map<string, bigint>> {
    if (timestamp < 0n) throw new Error(`timestamp ${timestamp} must be >= 0 (milliseconds since the epoch)`);
    return this.#list(partitions, timestamp);
  }

  async #list(
    partitions: readonly { topic: string; partition: number }[],
    timestamp: bigint,
  ): Promise<Map<string, bigint>> {
    const out = new Map<string, bigint>();
    if (partitions.length === 0) return out;
    const topics = await wrap('list partition offsets', () =>
      this.#admin.listOffsets({
        topics: [...byTopic(partitions)].map(([name, ps]) => ({
          name,
          partitions: ps.map((p) => ({ partitionIndex: p.partition, timestamp })),
        })),
      }),
    );
    for (const t of topics) for (const p of t.partitions) out.set(tpKey(t.name, p.partitionIndex), p.offset);
    return out;
  }
}

function byTopic<T extends { topic: string }>(items: readonly T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) out.set(item.topic, [...(out.get(item.topic) ?? []), item]);
  return out;
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const nested = (error as { errors?: unknown[] }).errors;
  const inner =
    Array.isArray(nested) && nested.length > 0 ? ` (${nested.map(describeError).join('; ')})` : '';
  return `${error.message}${inner}`;
}

async function wrap<T>(what: string, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    const failure = diagnoseKafkaFailure(error);
    if (failure) {
      throw new KafkaError(`could not ${what}: ${failure.message}`, {
        retriable: !failure.terminal,
        cause: error,
        failure,
      });
    }
    const retriable = Boolean((error as { canRetry?: boolean }).canRetry);
    throw new KafkaError(`could not ${what}: ${describeError(error)}`, { retriable, cause: error });
  }
}
