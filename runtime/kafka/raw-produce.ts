import { createAPI, produceV9, produceV10, produceV11, Writer } from '@platformatic/kafka';

/**
 * Produce (v9-v11, Kafka 2.4+) of one record batch that is already encoded: a restore sends the
 * batches a backup stored, re-stamped (batch-stamp.ts), instead of handing records to the client to
 * encode again. The response is parsed by the client's own parser of that version.
 */

function createRawRequest(acks: number, timeoutMs: number, topic: string, partition: number, batch: Buffer) {
  const writer = Writer.create()
    .appendString(null) // transactional id: none
    .appendInt16(acks)
    .appendInt32(timeoutMs)
    .appendArray([topic], (w, name) => {
      w.appendString(name).appendArray([partition], (w, index) => {
        w.appendInt32(index)
          .appendUnsignedVarInt(batch.length + 1)
          .append(batch);
      });
    })
    .appendTaggedFields();
  // acks=0: the broker sends no response, so none is awaited (as the client's own Produce does).
  if (acks === 0) writer.context.noResponse = true;
  return writer;
}

const PARSERS: Record<number, unknown> = {
  9: produceV9.parseResponse,
  10: produceV10.parseResponse,
  11: produceV11.parseResponse,
};

export interface RawProducePartitionResponse {
  readonly index: number;
  readonly errorCode: number;
  readonly baseOffset: bigint;
  readonly errorMessage?: string | null;
}

export interface RawProduceResponse {
  readonly responses: { readonly name: string; readonly partitionResponses: RawProducePartitionResponse[] }[];
}

const apis = new Map<number, ReturnType<typeof createAPI>>();

/** The raw Produce API of `version` (the one the broker negotiated, capped at 11), or undefined below v9. */
export function rawProduceApi(version: number): ReturnType<typeof createAPI> | undefined {
  const v = Math.min(version, 11);
  const parse = PARSERS[v];
  if (!parse) return undefined;
  let api = apis.get(v);
  if (!api) {
    api = createAPI(0, v, createRawRequest as never, parse as never);
    apis.set(v, api);
  }
  return api;
}
