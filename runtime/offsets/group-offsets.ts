/** A consumer group's committed offset on one partition: the offset of the next record it will read. */
export interface CommittedOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
}

/** Committed offsets per group. */
export type GroupOffsets = ReadonlyMap<string, readonly CommittedOffset[]>;

/** The stored JSON form of group offsets: group → topic → partition → offset (decimal string). */
export type GroupOffsetsJson = Record<string, Record<string, Record<string, string>>>;

export function groupOffsetsToJson(groups: GroupOffsets): GroupOffsetsJson {
  const out: GroupOffsetsJson = {};
  for (const group of [...groups.keys()].sort()) {
    const topics: Record<string, Record<string, string>> = {};
    for (const o of sortOffsets(groups.get(group) ?? [])) {
      topics[o.topic] ??= {};
      (topics[o.topic] as Record<string, string>)[String(o.partition)] = o.offset.toString();
    }
    out[group] = topics;
  }
  return out;
}

export function groupOffsetsFromJson(json: unknown, origin: string): Map<string, CommittedOffset[]> {
  const fail = (why: string): never => {
    throw new Error(`${origin}: ${why}`);
  };
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    fail('group offsets must be an object');
  const out = new Map<string, CommittedOffset[]>();
  for (const [group, topics] of Object.entries(json as Record<string, unknown>)) {
    if (typeof topics !== 'object' || topics === null)
      fail(`group ${group}: expected topic → partition → offset`);
    const offsets: CommittedOffset[] = [];
    for (const [topic, partitions] of Object.entries(topics as Record<string, unknown>)) {
      if (typeof partitions !== 'object' || partitions === null)
        fail(`group ${group} topic ${topic}: bad partitions`);
      for (const [partition, offset] of Object.entries(partitions as Record<string, unknown>)) {
        const p = Number(partition);
        if (!Number.isInteger(p) || p < 0) fail(`group ${group} topic ${topic}: bad partition ${partition}`);
        offsets.push({
          topic,
          partition: p,
          offset: parseOffset(offset, `group ${group} ${topic}/${p}`, fail),
        });
      }
    }
    out.set(group, sortOffsets(offsets));
  }
  return out;
}

export function parseOffset(value: unknown, what: string, fail: (why: string) => never): bigint {
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value);
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  if (typeof value === 'bigint') return value;
  return fail(`${what}: offset ${JSON.stringify(value)} is not an integer`);
}

export function sortOffsets<T extends { topic: string; partition: number }>(offsets: readonly T[]): T[] {
  return [...offsets].sort((a, b) =>
    a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition,
  );
}

export function tpKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
