import {
  createAPI,
  fetchV13,
  fetchV14,
  fetchV15,
  fetchV16,
  fetchV17,
  type Reader,
} from '@platformatic/kafka';
import { responseRelease } from './read-buffers.ts';
import type { AbortedTransaction } from './record-batches.ts';

/**
 * Fetch (v13-v17) whose response keeps each partition's records bytes as the broker sent them,
 * instead of decoding every record (the client's own parser does). Backup stores Kafka's batches
 * whole, so a record is never decoded on the way to storage. v13 (Kafka 3.1) is the first version
 * that names topics by id; every broker the adapter supports (3.5+) speaks it.
 */

export interface RawFetchPartition {
  readonly partitionIndex: number;
  readonly errorCode: number;
  readonly highWatermark: bigint;
  readonly lastStableOffset: bigint;
  readonly logStartOffset: bigint;
  readonly abortedTransactions: AbortedTransaction[] | null;
  /**
   * The records bytes (whole batches, the last one possibly cut short by maxBytes) as they came off
   * the socket: views of its chunks, in order, not yet copied (gatherRecords() makes them one piece).
   */
  readonly records: readonly Buffer[];
}

export interface RawFetchResponse {
  readonly errorCode: number;
  readonly responses: { readonly topicId: string; readonly partitions: RawFetchPartition[] }[];
  /**
   * Set when the response was read into recycled memory (read-buffers.ts): its records are views of
   * it, to be copied (gatherRecords() with `copy`) before calling this, and never read after.
   */
  readonly release?: () => void;
}

/** Size, correlation id and the (empty) tagged fields of a flexible response header: Fetch v12+. */
const RESPONSE_HEADER_BYTES = 4 + 4 + 1;

const NONE: readonly Buffer[] = [];

/** What the parser reads of the response buffer besides the Reader's methods (a DynamicBuffer). */
interface ChunkedBytes {
  readonly buffers: readonly Buffer[];
  subarray(start: number, end: number): { readonly buffers: Buffer[] };
}

function parseRawResponse(_correlationId: number, _apiKey: number, _apiVersion: number, reader: Reader) {
  // Now, while the bytes are still where they were read: a slab is never reused before its release.
  const release = responseRelease((reader.buffer as unknown as ChunkedBytes).buffers, RESPONSE_HEADER_BYTES);
  reader.readInt32(); // throttle time
  const errorCode = reader.readInt16();
  reader.readInt32(); // session id
  const responses = reader.readArray((r) => ({
    topicId: r.readUUID(),
    partitions: r.readArray(
      (r) => {
        const partitionIndex = r.readInt32();
        const partitionError = r.readInt16();
        const highWatermark = r.readInt64();
        const lastStableOffset = r.readInt64();
        const logStartOffset = r.readInt64();
        const abortedTransactions = r.readNullableArray((r) => ({
          producerId: r.readInt64(),
          firstOffset: r.readInt64(),
        }));
        r.readInt32(); // preferred read replica
        const size = r.readUnsignedVarInt();
        let records = NONE;
        if (size > 1) {
          // Views only: the bytes are copied once, by gatherRecords(), where they are to be kept.
          records = (r.buffer as unknown as ChunkedBytes).subarray(r.position, r.position + size - 1).buffers;
          r.skip(size - 1);
        }
        r.readTaggedFields();
        return {
          partitionIndex,
          errorCode: partitionError,
          highWatermark,
          lastStableOffset,
          logStartOffset,
          abortedTransactions,
          records,
        };
      },
      true,
      false,
    ),
  }));
  reader.readTaggedFields();
  return (release ? { errorCode, responses, release } : { errorCode, responses }) satisfies RawFetchResponse;
}

/**
 * A partition's records bytes in one piece: the chunk itself when they arrived in one (unless they
 * must be `copy`-ed: memory that will be read into again), else copied once into the region `into`
 * lends (`lent`: the caller's own buffer) or into a new buffer.
 */
export function gatherRecords(
  chunks: readonly Buffer[],
  into?: (length: number) => Uint8Array | undefined,
  copy = false,
): { readonly bytes: Uint8Array; readonly lent: boolean } {
  if (chunks.length === 0) return { bytes: Buffer.alloc(0), lent: false };
  if (chunks.length === 1 && !copy) return { bytes: chunks[0] as Buffer, lent: false };
  let length = 0;
  for (const chunk of chunks) length += chunk.length;
  const region = into?.(length);
  if (region && region.length !== length) {
    throw new RangeError(`a lent region of ${region.length} bytes for ${length} fetched bytes`);
  }
  const bytes = region ?? Buffer.allocUnsafe(length);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return { bytes, lent: region !== undefined };
}

const CREATE_REQUEST: Record<number, (...args: never[]) => unknown> = {
  13: fetchV13.createRequest,
  14: fetchV14.createRequest,
  15: fetchV15.createRequest,
  16: fetchV16.createRequest,
  17: fetchV17.createRequest,
};

const apis = new Map<number, ReturnType<typeof createAPI>>();

/** The raw Fetch API of `version` (the one the broker negotiated), or undefined below v13. */
export function rawFetchApi(version: number): ReturnType<typeof createAPI> | undefined {
  const v = Math.min(version, 17);
  const createRequest = CREATE_REQUEST[v];
  if (!createRequest) return undefined;
  let api = apis.get(v);
  if (!api) {
    api = createAPI(1, v, createRequest as never, parseRawResponse as never);
    apis.set(v, api);
  }
  return api;
}
