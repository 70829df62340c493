import type { KafkaRecord } from '../record.ts';
import {
  DEFAULT_SEGMENT_MAX_BYTES,
  fullBlockCapacity,
  grownCapacity,
  MIN_BLOCK_CAPACITY,
  nextBlockBuffer,
  recyclable,
} from './block-buffer.ts';
import { FormatUsageError } from './errors.ts';
import {
  type BatchHeader,
  type BatchStats,
  type BatchSummary,
  batchCrcValid,
  batchStats,
  CONTROL,
  decodeBatchRecords,
  readBatchHeader,
} from './kafka-batch.ts';
import type { RecordBlockStats } from './record-block.ts';

/**
 * The batches block of a v2 segment (docs/format/v2.md §3.1): Kafka record batches back to back,
 * each exactly as the broker sent it (or cut to the backed-up range). No record is decoded or
 * re-encoded on the way to storage, and a fetch can copy its bytes straight into the block (lend()):
 * a batch appended where it already lies is not copied again.
 */
export class BatchBlockEncoder {
  private buf: Buffer;
  private pos = 0;
  private count = 0;
  private first = 0n;
  private last = 0n;
  private minTs = 0n;
  private maxTs = 0n;
  private spare: Buffer | undefined;
  private released = false;

  /** `fullCapacity`: what a full segment needs (fullBlockCapacity of the writer's maxBytes). */
  constructor(private readonly fullCapacity = fullBlockCapacity(DEFAULT_SEGMENT_MAX_BYTES)) {
    this.buf = Buffer.allocUnsafe(MIN_BLOCK_CAPACITY);
  }

  get length(): number {
    return this.pos;
  }

  get recordCount(): number {
    return this.count;
  }

  get lastOffset(): bigint | undefined {
    return this.count === 0 ? undefined : this.last;
  }

  /** Appends one batch whose records all follow the last appended one. */
  append(bytes: Uint8Array, stats: BatchStats): void {
    if (stats.recordCount === 0) return;
    if (this.count > 0 && stats.firstOffset <= this.last) {
      throw new FormatUsageError(`batch at offset ${stats.firstOffset} does not follow offset ${this.last}`);
    }
    if (bytes.buffer === this.buf.buffer) {
      // From the lent region: in place already, or moved down over a batch the fetch left out.
      const at = bytes.byteOffset - this.buf.byteOffset;
      if (at !== this.pos) this.buf.copyWithin(this.pos, at, at + bytes.length);
    } else {
      if (this.pos + bytes.length > this.buf.length) this.grow(this.pos + bytes.length);
      this.buf.set(bytes, this.pos);
    }
    this.pos += bytes.length;
    if (this.count === 0) {
      this.first = stats.firstOffset;
      this.minTs = stats.minTimestamp;
      this.maxTs = stats.maxTimestamp;
    } else {
      if (stats.minTimestamp < this.minTs) this.minTs = stats.minTimestamp;
      if (stats.maxTimestamp > this.maxTs) this.maxTs = stats.maxTimestamp;
    }
    this.last = stats.lastOffset;
    this.count += stats.recordCount;
  }

  /**
   * Lends `length` bytes for a fetch to copy its batches into (BatchFetchOptions.into): those after
   * the buffered ones, or, when they would take the buffer past a full segment, the start of the
   * spare, which take() makes the next segment's buffer: the batches that still fit are copied into
   * this segment, the rest stay where they landed. Undefined only for a fetch bigger than a segment.
   * Its batches are then appended in order, each landing where it lies or below: the region's bytes
   * still to come are never overwritten, even when take() detaches the buffer mid-fetch and it
   * returns as the spare (appends into it start again from 0). A batch with bytes of its own
   * (cut, and uncompressed: possibly longer) must come after the region's last one (forLender() sees to it).
   */
  lend(length: number): Buffer | undefined {
    const needed = this.pos + length;
    if (needed <= this.fullCapacity) {
      if (needed > this.buf.length) this.grow(needed);
      return this.buf.subarray(this.pos, needed);
    }
    if (length > this.fullCapacity) return undefined;
    // Allocated here rather than by take() (which would make a buffer of this size next), so the
    // fetch needs no buffer of its own, nor its bytes a second copy.
    if (!this.spare || this.spare.length < this.fullCapacity)
      this.spare = Buffer.allocUnsafe(this.fullCapacity);
    return this.spare.subarray(0, length);
  }

  /** Bytes of buffer held: the block's buffer and the spare. */
  get heldBytes(): number {
    return this.buf.length + (this.spare?.length ?? 0);
  }

  /**
   * Frees the buffer and the spare of an encoder whose partition is done, so that a backup holds
   * buffers only for the partitions in progress, not for every partition it has backed up. Its
   * batches must have been taken. Appending again starts from a small buffer.
   */
  release(): void {
    if (this.count > 0)
      throw new FormatUsageError('release() with batches still buffered: take() them first');
    this.buf = Buffer.alloc(0);
    this.spare = undefined;
    this.released = true;
  }

  private grow(needed: number): void {
    const current = Math.max(this.buf.length, MIN_BLOCK_CAPACITY);
    const next = Buffer.allocUnsafe(grownCapacity(current, needed, this.fullCapacity));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Detaches the block and its stats; the next block starts in a buffer sized after this one. */
  take(): { block: Buffer; stats: RecordBlockStats } {
    const block = this.buf.subarray(0, this.pos);
    const stats: RecordBlockStats = {
      recordCount: this.count,
      firstOffset: this.first,
      lastOffset: this.last,
      minTimestamp: this.minTs,
      maxTimestamp: this.maxTs,
    };
    this.buf = nextBlockBuffer(this.spare, block.length, this.fullCapacity);
    this.spare = undefined;
    this.pos = 0;
    this.count = 0;
    return { block, stats };
  }

  /** Hands back a block from take() once it has been compressed or copied into its segment. */
  recycle(block: Uint8Array): void {
    if (this.released) return; // a block sealed before release() is not kept alive as the spare
    this.spare = recyclable(block, this.buf) ?? this.spare;
  }
}

/** A batch of a verified v2 segment: its bytes, header and what its records hold. */
export interface StoredBatch {
  readonly bytes: Uint8Array;
  readonly header: BatchHeader;
  readonly stats: BatchStats & BatchSummary;
}

/**
 * Verifies a batches block against its segment header (docs/format/v2.md §3.2) without decoding a
 * record: every batch is whole, of magic 2, passes its CRC-32C, is not a control batch, holds a
 * record and follows the previous one; the record count, first and last offsets and timestamp range
 * equal the header's. Throws RangeError otherwise.
 */
export function verifyBatchBlock(block: Uint8Array, expected: RecordBlockStats): StoredBatch[] {
  const batches: StoredBatch[] = [];
  let previous: bigint | undefined;
  let count = 0;
  let minTs = 0n;
  let maxTs = 0n;
  for (let pos = 0; pos < block.length; ) {
    const header = readBatchHeader(block, pos);
    if (!header) throw new RangeError(`the batch at byte ${pos} runs past the end of the block`);
    const bytes = block.subarray(pos, pos + header.size);
    if (header.magic !== 2) throw new RangeError(`batch at byte ${pos} has magic ${header.magic}`);
    if (!batchCrcValid(bytes, header)) throw new RangeError(`batch at byte ${pos} fails its CRC-32C`);
    if ((header.attributes & CONTROL) !== 0) throw new RangeError(`batch at byte ${pos} is a control batch`);
    const stats = batchStats(bytes, header);
    if (stats.recordCount === 0) throw new RangeError(`batch at byte ${pos} holds no record`);
    if (previous !== undefined && stats.firstOffset <= previous) {
      throw new RangeError(`batch at byte ${pos} does not follow offset ${previous}`);
    }
    if (count === 0 || stats.minTimestamp < minTs) minTs = stats.minTimestamp;
    if (count === 0 || stats.maxTimestamp > maxTs) maxTs = stats.maxTimestamp;
    if (count === 0 && stats.firstOffset !== expected.firstOffset) {
      throw new RangeError("the records' offsets differ from the header's range");
    }
    count += stats.recordCount;
    previous = stats.lastOffset;
    batches.push({ bytes, header, stats });
    pos += header.size;
  }
  if (count !== expected.recordCount) {
    throw new RangeError(`${count} records, the header says ${expected.recordCount}`);
  }
  if (previous !== expected.lastOffset)
    throw new RangeError("the records' offsets differ from the header's range");
  if (minTs !== expected.minTimestamp || maxTs !== expected.maxTimestamp) {
    throw new RangeError('record timestamps differ from the header');
  }
  return batches;
}

/** Verifies a batches block (verifyBatchBlock) and returns its records. */
export function decodeBatchBlock(block: Uint8Array, expected: RecordBlockStats): KafkaRecord[] {
  const records: KafkaRecord[] = [];
  for (const b of verifyBatchBlock(block, expected)) {
    for (const r of decodeBatchRecords(b.bytes, b.header)) records.push(r);
  }
  return records;
}
