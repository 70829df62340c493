import type { KafkaRecord, TopicPartition } from '../record.ts';
import { BatchBlockEncoder } from './batch-block.ts';
import { DEFAULT_SEGMENT_MAX_BYTES, fullBlockCapacity } from './block-buffer.ts';
import { FormatUsageError } from './errors.ts';
import type { BatchStats } from './kafka-batch.ts';
import { RecordBlockEncoder, type RecordBlockStats } from './record-block.ts';
import {
  type EncodedSegment,
  type EncodeSegmentOptions,
  encodeBatchBlock,
  encodeRecordBlock,
} from './segment.ts';

export interface SegmentWriterOptions extends Omit<EncodeSegmentOptions, 'nonce'> {
  /** Seal when the encoded (uncompressed) records reach this many bytes. Default 16 MiB. */
  readonly maxBytes?: number;
  /** Seal when this many records are buffered. Default unlimited. */
  readonly maxRecords?: number;
}

/** A finished segment object, ready for Backup.writeSegment(). */
export interface SealedSegment extends TopicPartition, EncodedSegment {}

export { DEFAULT_SEGMENT_MAX_BYTES };

/** What the buffer of a full segment holds, for the encoder to grow and recycle it by. */
function blockCapacity(options: SegmentWriterOptions): number {
  return fullBlockCapacity(options.maxBytes ?? DEFAULT_SEGMENT_MAX_BYTES);
}

/** What a writer needs of its block encoder (RecordBlockEncoder for v1, BatchBlockEncoder for v2). */
interface BlockEncoder {
  readonly length: number;
  readonly recordCount: number;
  readonly lastOffset: bigint | undefined;
  take(): { block: Buffer; stats: RecordBlockStats };
  recycle(block: Uint8Array): void;
}

/** Size and count limits, and sealing off the main thread, shared by both segment versions. */
abstract class SegmentWriterBase<E extends BlockEncoder> {
  readonly topic: string;
  readonly partition: number;
  private readonly maxBytes: number;
  private readonly maxRecords: number;

  constructor(
    tp: TopicPartition,
    protected readonly encoder: E,
    private readonly frame: typeof encodeRecordBlock,
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
    return this.frame(block, stats, this.options).then((encoded) => {
      this.encoder.recycle(block); // compressed or copied into encoded.bytes by now: free to reuse
      return { topic, partition, ...encoded };
    });
  }
}

/**
 * Accumulates one partition's records (in offset order) into the records block of the next v1
 * segment, encoding each record on arrival so memory stays at one segment per partition.
 *
 *   if (writer.append(record)) await backup.writeSegment(await writer.seal(), runId);
 *
 * seal() detaches the buffer synchronously and compresses/encrypts off the main thread, so the caller
 * may keep appending while the previous segment is being sealed.
 */
export class PartitionSegmentWriter extends SegmentWriterBase<RecordBlockEncoder> {
  constructor(tp: TopicPartition, options: SegmentWriterOptions = {}) {
    super(tp, new RecordBlockEncoder(undefined, blockCapacity(options)), encodeRecordBlock, options);
  }

  /** Adds a record; returns true when the segment is full and should be sealed now. */
  append(record: KafkaRecord): boolean {
    this.encoder.append(record);
    return this.isFull;
  }
}

/**
 * The v2 writer: accumulates one partition's Kafka record batches, kept whole, into the next
 * segment (docs/format/v2.md). What backup writes.
 *
 *   if (writer.appendBatch(batch.bytes, batch.stats)) await backup.writeSegment(await writer.seal(), runId);
 */
export class PartitionBatchWriter extends SegmentWriterBase<BatchBlockEncoder> {
  constructor(tp: TopicPartition, options: SegmentWriterOptions = {}) {
    super(tp, new BatchBlockEncoder(blockCapacity(options)), encodeBatchBlock, options);
  }

  /** Adds a batch; returns true when the segment is full and should be sealed now. */
  appendBatch(bytes: Uint8Array, stats: BatchStats): boolean {
    this.encoder.append(bytes, stats);
    return this.isFull;
  }

  /** Lends the next `length` bytes of the segment for a fetch to copy into (BatchBlockEncoder.lend). */
  lend(length: number): Buffer | undefined {
    return this.encoder.lend(length);
  }

  /** Frees the buffers of a writer whose last segment is sealed (BatchBlockEncoder.release). */
  release(): void {
    this.encoder.release();
  }
}
