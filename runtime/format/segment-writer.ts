import type { KafkaRecord, TopicPartition } from '../record.ts';
import { FormatUsageError } from './errors.ts';
import { RecordBlockEncoder } from './record-block.ts';
import { type EncodedSegment, type EncodeSegmentOptions, encodeRecordBlock } from './segment.ts';

export interface SegmentWriterOptions extends Omit<EncodeSegmentOptions, 'nonce'> {
  /** Seal when the encoded (uncompressed) records reach this many bytes. Default 16 MiB. */
  readonly maxBytes?: number;
  /** Seal when this many records are buffered. Default unlimited. */
  readonly maxRecords?: number;
}

/** A finished segment object, ready for Backup.writeSegment(). */
export interface SealedSegment extends TopicPartition, EncodedSegment {}

export const DEFAULT_SEGMENT_MAX_BYTES = 16 * 1024 * 1024;

/**
 * Accumulates one partition's records (in offset order) into the records block of the next segment,
 * encoding each record on arrival so memory stays at one segment per partition.
 *
 *   if (writer.append(record)) await backup.writeSegment(await writer.seal(), runId);
 *
 * seal() detaches the buffer synchronously and compresses/encrypts off the main thread, so the caller
 * may keep appending while the previous segment is being sealed.
 */
export class PartitionSegmentWriter {
  readonly topic: string;
  readonly partition: number;
  private readonly encoder = new RecordBlockEncoder();
  private readonly maxBytes: number;
  private readonly maxRecords: number;

  constructor(
    tp: TopicPartition,
    private readonly options: SegmentWriterOptions = {},
  ) {
    this.topic = tp.topic;
    this.partition = tp.partition;
    this.maxBytes = options.maxBytes ?? DEFAULT_SEGMENT_MAX_BYTES;
    this.maxRecords = options.maxRecords ?? Number.POSITIVE_INFINITY;
    if (!(this.maxBytes > 0) || !(this.maxRecords > 0)) {
      throw new FormatUsageError('segment maxBytes and maxRecords must be positive');
    }
  }

  /** Adds a record; returns true when the segment is full and should be sealed now. */
  append(record: KafkaRecord): boolean {
    this.encoder.append(record);
    return this.isFull;
  }

  get isFull(): boolean {
    return this.encoder.length >= this.maxBytes || this.encoder.recordCount >= this.maxRecords;
  }

  get bufferedRecords(): number {
    return this.encoder.recordCount;
  }

  get bufferedBytes(): number {
    return this.encoder.length;
  }

  /** Offset of the last record appended and not yet sealed, if any. */
  get lastBufferedOffset(): bigint | undefined {
    return this.encoder.lastOffset;
  }

  /** Seals the buffered records into a segment; resolves undefined when nothing is buffered. */
  seal(): Promise<SealedSegment | undefined> {
    if (this.encoder.recordCount === 0) return Promise.resolve(undefined);
    const { block, stats } = this.encoder.take();
    const { topic, partition } = this;
    return encodeRecordBlock(block, stats, this.options).then((encoded) => {
      this.encoder.recycle(block); // compressed or copied into encoded.bytes by now: free to reuse
      return { topic, partition, ...encoded };
    });
  }
}
