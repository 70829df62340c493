/**
 * The consume and produce paths of a Kafka client library alone, no storage, for the benchmark's
 * client comparison (kafkajs, the client the brief named, against @platformatic/kafka, the one the
 * engine uses):
 *
 *   client-paths.ts kafkajs|platformatic consume BOOTSTRAP TOPIC RECORDS
 *   client-paths.ts kafkajs|platformatic produce BOOTSTRAP TOPIC RECORDS RECORD_SIZE PARTITIONS
 *
 * consume reads RECORDS records from the start of TOPIC (every record decoded, as a consumer gets
 * them); produce writes RECORDS records, acks=all and idempotent like a restore. Prints one JSON line.
 */
import { randomBytes } from 'node:crypto';
import { Consumer, Producer } from '@platformatic/kafka';
import { Kafka, logLevel } from 'kafkajs';

const [client, path, bootstrap, topic, countText, sizeText, partitionsText] = process.argv.slice(2);
const count = Number(countText);
const recordSize = Number(sizeText ?? 1024);
const partitions = Number(partitionsText ?? 1);
const CHUNK = 1000;

/** Distinct payloads (not one repeated buffer), cycled. */
const payloads = Array.from({ length: 256 }, () => randomBytes(recordSize));

async function kafkajsConsume(): Promise<number> {
  const kafka = new Kafka({
    brokers: [bootstrap as string],
    clientId: 'bench-kafkajs',
    logLevel: logLevel.ERROR,
  });
  const consumer = kafka.consumer({ groupId: `bench-kafkajs-${Date.now()}`, maxBytes: 64 * 2 ** 20 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic as string], fromBeginning: true });
  let bytes = 0;
  let seen = 0;
  await new Promise<void>((resolve, reject) => {
    consumer
      .run({
        eachBatchAutoResolve: true,
        eachBatch: async ({ batch }) => {
          for (const m of batch.messages) bytes += (m.value?.length ?? 0) + (m.key?.length ?? 0);
          seen += batch.messages.length;
          if (seen >= count) resolve();
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return bytes;
}

async function kafkajsProduce(): Promise<number> {
  const kafka = new Kafka({
    brokers: [bootstrap as string],
    clientId: 'bench-kafkajs',
    logLevel: logLevel.ERROR,
  });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  let bytes = 0;
  for (let i = 0; i < count; i += CHUNK) {
    const n = Math.min(CHUNK, count - i);
    const messages = Array.from({ length: n }, (_, j) => {
      const value = payloads[(i + j) % payloads.length] as Buffer;
      bytes += value.length;
      return { value, partition: (i + j) % partitions };
    });
    await producer.send({ topic: topic as string, acks: -1, messages });
  }
  await producer.disconnect();
  return bytes;
}

async function platformaticConsume(): Promise<number> {
  const consumer = new Consumer({
    clientId: 'bench-platformatic',
    bootstrapBrokers: [bootstrap as string],
    groupId: `bench-platformatic-${Date.now()}`,
    maxBytes: 64 * 2 ** 20,
  });
  const stream = await consumer.consume({ topics: [topic as string], mode: 'earliest' });
  let bytes = 0;
  let seen = 0;
  for await (const message of stream) {
    bytes += (message.value?.length ?? 0) + (message.key?.length ?? 0);
    if (++seen >= count) break;
  }
  await stream.close();
  await consumer.close();
  return bytes;
}

async function platformaticProduce(): Promise<number> {
  const producer = new Producer({
    clientId: 'bench-platformatic',
    bootstrapBrokers: [bootstrap as string],
    idempotent: true,
    acks: -1,
  });
  let bytes = 0;
  for (let i = 0; i < count; i += CHUNK) {
    const n = Math.min(CHUNK, count - i);
    const messages = Array.from({ length: n }, (_, j) => {
      const value = payloads[(i + j) % payloads.length] as Buffer;
      bytes += value.length;
      return { topic: topic as string, value, partition: (i + j) % partitions };
    });
    await producer.send({ messages });
  }
  await producer.close();
  return bytes;
}

const paths: Record<string, () => Promise<number>> = {
  'kafkajs consume': kafkajsConsume,
  'kafkajs produce': kafkajsProduce,
  'platformatic consume': platformaticConsume,
  'platformatic produce': platformaticProduce,
};
const run = paths[`${client} ${path}`];
if (!run || !bootstrap || !topic || !(count > 0)) {
  process.stderr.write(
    'usage: client-paths.ts kafkajs|platformatic consume|produce BOOTSTRAP TOPIC RECORDS [SIZE PARTITIONS]\n',
  );
  process.exit(2);
}
const bytes = await run();
process.stdout.write(`${JSON.stringify({ records: count, bytes })}\n`);
process.exit(0);
