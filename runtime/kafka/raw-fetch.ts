import {
  createAPI,
  fetchV13,
  fetchV14,
  fetchV15,
  fetchV16,
  fetchV17,
  type Reader,
} from '@platformatic/kafka';
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
  /** The records bytes (whole batches, the last one possibly cut short by maxBytes). */
  readonly records: Buffer;
}

export interface RawFetchResponse {
  readonly errorCode: number;
  readonly responses: { readonly topicId: string; readonly partitions: RawFetchPartition[] }[];
}

const EMPTY: Buffer = Buffer.alloc(0);

function parseRawResponse(_correlationId: number, _apiKey: number, _apiVersion: number, reader: Reader) {
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
        let records: Buffer = EMPTY;
        if (size > 1) {
          // A view when the bytes arrived in one socket chunk, one copy otherwise.
          records = (r.buffer as unknown as { slice(s: number, e: number): Buffer }).slice(
            r.position,
            r.position + size - 1,
          );
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
  return { errorCode, responses } satisfies RawFetchResponse;
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
