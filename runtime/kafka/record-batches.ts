import type { StoredBatch } from '../format/batch-block.ts';
import {
  type BatchStats,
  type BatchSummary,
  batchCrcValid,
  batchStats,
  CONTROL,
  controlType,
  lastOffsetOf,
  readBatchHeader,
  sliceBatch,
  TRANSACTIONAL,
} from '../format/kafka-batch.ts';
import type { KafkaRecord, RecordHeader } from '../record.ts';
import type { SkippedRange } from './port.ts';

/** The parts of a v2 record batch this module reads (structurally what @platformatic/kafka decodes). */
export interface WireBatch {
  readonly firstOffset: bigint;
  readonly attributes: number;
  readonly lastOffsetDelta: number;
  readonly firstTimestamp: bigint;
  readonly maxTimestamp: bigint;
  readonly producerId: bigint;
  readonly records: readonly WireRecord[];
}

export interface WireRecord {
  readonly timestampDelta: bigint;
  readonly offsetDelta: number;
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
  readonly headers: readonly (readonly [Uint8Array | null, Uint8Array | null])[];
}

export interface AbortedTransaction {
  readonly producerId: bigint;
  readonly firstOffset: bigint;
}

const TIMESTAMP_TYPE_LOG_APPEND = 1 << 3;
const CONTROL_TYPE_ABORT = 0;

export interface DecodedFetch {
  readonly records: KafkaRecord[];
  readonly nextOffset: bigint;
  readonly skipped: SkippedRange[];
  readonly bytes: number;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Turns the batches of one partition's fetch response into committed records, the way the Java
 * consumer does under READ_COMMITTED: a transactional batch of a producer listed in
 * `abortedTransactions` (from its first offset on) is dropped until that producer's ABORT marker;
 * control batches are never data. Records below `fetchOffset` (a batch is returned whole) are cut.
 */
export function decodeCommitted(
  batches: readonly WireBatch[],
  abortedTransactions: readonly AbortedTransaction[] | null,
  fetchOffset: bigint,
): DecodedFetch {
  const pending = [...(abortedTransactions ?? [])].sort((a, b) =>
    a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0,
  );
  const aborted = new Set<bigint>();
  const records: KafkaRecord[] = [];
  const skipped: SkippedRange[] = [];
  let nextOffset = fetchOffset;
  let bytes = 0;

  for (const batch of batches) {
    const lastOffset = batch.firstOffset + BigInt(batch.lastOffsetDelta);
    if (lastOffset < fetchOffset) continue;
    while (pending.length > 0 && (pending[0] as AbortedTransaction).firstOffset <= lastOffset) {
      aborted.add((pending.shift() as AbortedTransaction).producerId);
    }
    const isControl = (batch.attributes & CONTROL) !== 0;
    const isTransactional = (batch.attributes & TRANSACTIONAL) !== 0;
    let drop = false;
    if (isControl) {
      if (isAbortMarker(batch)) aborted.delete(batch.producerId);
      drop = true;
    } else if (isTransactional && aborted.has(batch.producerId)) {
      drop = true;
    }
    const start = batch.firstOffset > fetchOffset ? batch.firstOffset : fetchOffset;
    if (drop) {
      addSkipped(skipped, start, lastOffset + 1n);
    } else {
      const logAppend = (batch.attributes & TIMESTAMP_TYPE_LOG_APPEND) !== 0;
      for (const r of batch.records) {
        const offset = batch.firstOffset + BigInt(r.offsetDelta);
        if (offset < fetchOffset) continue;
        const headers: RecordHeader[] = r.headers.map(([k, v]) => [headerKey(k), v]);
        records.push({
          offset,
          // With LogAppendTime the broker's time is the batch's max timestamp (record deltas are not rewritten).
          timestamp: logAppend ? batch.maxTimestamp : batch.firstTimestamp + r.timestampDelta,
          timestampType: logAppend ? 'LogAppendTime' : 'CreateTime',
          key: r.key,
          value: r.value,
          headers,
        });
        bytes += (r.key?.length ?? 0) + (r.value?.length ?? 0);
        for (const [k, v] of r.headers) bytes += (k?.length ?? 0) + (v?.length ?? 0);
      }
    }
    if (lastOffset + 1n > nextOffset) nextOffset = lastOffset + 1n;
  }
  return { records, nextOffset, skipped, bytes };
}

function isAbortMarker(batch: WireBatch): boolean {
  const key = batch.records[0]?.key;
  if (!key || key.length < 4) return false;
  const type = (key[2] as number) * 256 + (key[3] as number);
  return type === CONTROL_TYPE_ABORT;
}

function headerKey(key: Uint8Array | null): string {
  if (key === null) return '';
  return decoder.decode(key);
}

function addSkipped(ranges: SkippedRange[], start: bigint, end: bigint): void {
  const last = ranges.at(-1);
  if (last && last.end === start) {
    ranges[ranges.length - 1] = { start: last.start, end, reason: 'transaction-markers' };
  } else {
    ranges.push({ start, end, reason: 'transaction-markers' });
  }
}

/** A batch of committed records, kept as Kafka wrote it (or cut to the fetched range). */
export type CommittedBatch = StoredBatch;

export interface CommittedBatches {
  readonly batches: CommittedBatch[];
  readonly nextOffset: bigint;
  readonly skipped: SkippedRange[];
  /** Bytes of the batches kept, as Kafka stores them. */
  readonly bytes: number;
  /** Bytes of their records' keys, values and headers (what fetch() reports as `bytes`). */
  readonly payloadBytes: number;
  readonly records: number;
}

/** A fetched batch whose CRC-32C does not match: the bytes were damaged on the way; fetch again. */
export class DamagedBatchError extends Error {
  override readonly name = 'DamagedBatchError';
}

/**
 * The batch-level twin of decodeCommitted: splits one partition's fetched records bytes into
 * batches and keeps the committed ones whole. The READ_COMMITTED decision is per batch (a
 * transactional batch belongs to one transaction), so nothing is decoded but each kept batch's
 * offsets and timestamps; a batch that starts below `fetchOffset` is cut. Each batch's CRC-32C is
 * checked: a damaged one is refused rather than stored.
 */
export function committedBatches(
  records: Uint8Array,
  abortedTransactions: readonly AbortedTransaction[] | null,
  fetchOffset: bigint,
): CommittedBatches {
  const pending = [...(abortedTransactions ?? [])].sort((a, b) =>
    a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0,
  );
  const aborted = new Set<bigint>();
  const batches: CommittedBatch[] = [];
  const skipped: SkippedRange[] = [];
  let nextOffset = fetchOffset;
  let bytes = 0;
  let payloadBytes = 0;
  let count = 0;
  for (let pos = 0; ; ) {
    const header = readBatchHeader(records, pos);
    // The last batch of a response may be cut short by maxBytes: the next fetch reads it whole.
    if (!header) break;
    const bytesOf = records.subarray(pos, pos + header.size);
    pos += header.size;
    if (header.magic !== 2) {
      throw new DamagedBatchError(`a record batch of magic ${header.magic} (only 2 is read: Kafka 0.11+)`);
    }
    const lastOffset = lastOffsetOf(header);
    if (lastOffset < fetchOffset) continue;
    if (!batchCrcValid(bytesOf, header)) {
      throw new DamagedBatchError(`the record batch at offset ${header.baseOffset} fails its CRC-32C`);
    }
    while (pending.length > 0 && (pending[0] as AbortedTransaction).firstOffset <= lastOffset) {
      aborted.add((pending.shift() as AbortedTransaction).producerId);
    }
    const start = header.baseOffset > fetchOffset ? header.baseOffset : fetchOffset;
    let drop = false;
    if ((header.attributes & CONTROL) !== 0) {
      if (controlType(bytesOf, header) === CONTROL_TYPE_ABORT) aborted.delete(header.producerId);
      drop = true;
    } else if ((header.attributes & TRANSACTIONAL) !== 0 && aborted.has(header.producerId)) {
      drop = true;
    }
    if (drop) {
      addSkipped(skipped, start, lastOffset + 1n);
    } else {
      let batch: CommittedBatch = { bytes: bytesOf, header, stats: batchStats(bytesOf, header) };
      if (batch.stats.recordCount > 0 && batch.stats.firstOffset < fetchOffset) {
        const cut = sliceBatch(bytesOf, header, fetchOffset, lastOffset + 1n);
        batch = cut ? { ...cut, stats: batchStats(cut.bytes, cut.header) } : { ...batch, stats: EMPTY };
      }
      if (batch.stats.recordCount > 0) {
        batches.push(batch);
        bytes += batch.bytes.length;
        payloadBytes += batch.stats.payloadBytes;
        count += batch.stats.recordCount;
      }
    }
    if (lastOffset + 1n > nextOffset) nextOffset = lastOffset + 1n;
  }
  return { batches, nextOffset, skipped, bytes, payloadBytes, records: count };
}

/**
 * The batches of a fetch whose bytes were copied into a region the caller lent (BatchFetchOptions.into),
 * made safe for it to keep in place. It writes the region from its start as it keeps batches, so a
 * view can only be overwritten once it is behind the write position, except after a batch with bytes
 * of its own (cut below the fetch offset and written uncompressed, it can be longer than the bytes it
 * replaces): from there on, views are copied out.
 */
export function forLender(batches: readonly CommittedBatch[], region: Uint8Array): CommittedBatch[] {
  const inRegion = (b: CommittedBatch) => b.bytes.buffer === region.buffer;
  const first = batches.findIndex((b) => !inRegion(b));
  if (first < 0) return [...batches];
  return batches.map((b, i) => (i > first && inRegion(b) ? { ...b, bytes: Buffer.from(b.bytes) } : b));
}

const EMPTY: BatchStats & BatchSummary = {
  recordCount: 0,
  firstOffset: 0n,
  lastOffset: 0n,
  minTimestamp: 0n,
  maxTimestamp: 0n,
  holes: [],
  payloadBytes: 0,
};
