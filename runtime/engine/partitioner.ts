/**
 * Target-partition choice for repartitioning restores, compatible with the Java client's default
 * partitioner: `toPositive(murmur2(keyBytes)) % partitions` (org.apache.kafka.common.utils.Utils).
 */

/** Kafka's murmur2 (seed 0x9747b28c) as a signed 32-bit integer, exactly like Utils.murmur2. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  const m = 0x5bd1e995;
  let h = (0x9747b28c ^ length) | 0;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k =
      (data[i4] as number) |
      ((data[i4 + 1] as number) << 8) |
      ((data[i4 + 2] as number) << 16) |
      ((data[i4 + 3] as number) << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }
  const tail = length & ~3;
  const rest = length % 4;
  // The Java switch falls through from case 3 to case 1.
  if (rest >= 3) h ^= (data[tail + 2] as number) << 16;
  if (rest >= 2) h ^= (data[tail + 1] as number) << 8;
  if (rest >= 1) {
    h ^= data[tail] as number;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** The Java default partitioner's choice for a non-null key. */
export function murmur2Partition(key: Uint8Array, partitions: number): number {
  return (murmur2(key) & 0x7fffffff) % partitions;
}

export type RepartitionStrategy = 'murmur2' | 'round-robin';

/**
 * Chooses target partitions deterministically, so a resumed restore routes every record exactly as
 * the interrupted one did: murmur2 by key (null keys round-robin, like Kafka's producer), or
 * round-robin for all records. The round-robin position is part of the restore checkpoint.
 */
export class Repartitioner {
  readonly partitions: number;
  readonly strategy: RepartitionStrategy;
  #next: number;

  constructor(partitions: number, strategy: RepartitionStrategy, roundRobinPosition = 0) {
    if (!Number.isInteger(partitions) || partitions < 1)
      throw new Error('targetPartitions must be a positive integer');
    this.partitions = partitions;
    this.strategy = strategy;
    this.#next = roundRobinPosition % partitions;
  }

  get roundRobinPosition(): number {
    return this.#next;
  }

  choose(key: Uint8Array | null): number {
    if (this.strategy === 'murmur2' && key !== null) return murmur2Partition(key, this.partitions);
    const chosen = this.#next;
    this.#next = (this.#next + 1) % this.partitions;
    return chosen;
  }
}
