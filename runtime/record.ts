/**
 * One Kafka record as the backup keeps it: everything a restore needs to reproduce it exactly,
 * and nothing added. `null` and an empty buffer are different values for keys, values and headers.
 */
export interface KafkaRecord {
  /** Offset in the source partition. */
  readonly offset: bigint;
  /** Milliseconds since the epoch. */
  readonly timestamp: bigint;
  readonly timestampType: TimestampType;
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
  /** In wire order; duplicate keys and null values are kept. */
  readonly headers: readonly RecordHeader[];
}

export type TimestampType = 'CreateTime' | 'LogAppendTime';

export type RecordHeader = readonly [key: string, value: Uint8Array | null];

/** A topic partition, the unit of ordering. */
export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

export function partitionKey(tp: TopicPartition): string {
  return `${tp.topic}/${tp.partition}`;
}
