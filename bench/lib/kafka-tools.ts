import { writeFileSync } from 'node:fs';
import type { EnvState } from '../../test/env/state.ts';
import { measure, mustSucceed, type ProcessResult } from './process.ts';
import type { Sample } from './stats.ts';

/**
 * Kafka's own performance tools, from the broker's jars: the producer's is the write ceiling (and
 * fills the benchmark topics), the consumer's the read ceiling.
 */

function java(env: EnvState, mainClass: string, args: readonly string[]): Promise<ProcessResult> {
  const libDir = env.kafka?.libDir as string;
  return measure('java', ['-Xmx1g', '-cp', `${libDir}/*`, mainClass, ...args]);
}

/**
 * A payload file for ProducerPerformance: distinct records of JSON-like text (it picks one at random
 * per record). One repeated random payload, the tool's default, would make every codec look free.
 */
export function writePayloadFile(path: string, recordSize: number): void {
  const words = [
    'order',
    'customer',
    'amount',
    'currency',
    'EUR',
    'USD',
    'status',
    'shipped',
    'pending',
    'sku',
  ];
  let seed = 42;
  const next = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed;
  };
  const lines: string[] = [];
  for (let i = 0; i < 2000; i++) {
    let line = `{"id":${i}`;
    while (line.length < recordSize - 2) {
      line += `,"${words[next() % words.length]}":"${next().toString(36)}${next().toString(36)}"`;
    }
    lines.push(`${line.slice(0, recordSize - 1)}}`);
  }
  writeFileSync(path, lines.join('\n'));
}

/** ProducerPerformance: acks=all with idempotence, as our restore produces. */
export async function producerPerf(
  env: EnvState,
  topic: string,
  records: number,
  payloadFile: string,
  recordSize: number,
): Promise<Sample> {
  const result = mustSucceed(
    'kafka-producer-perf-test',
    await java(env, 'org.apache.kafka.tools.ProducerPerformance', [
      '--topic',
      topic,
      '--num-records',
      String(records),
      '--payload-file',
      payloadFile,
      '--throughput',
      '-1',
      '--producer-props',
      `bootstrap.servers=${env.kafka?.source.bootstrap}`,
      'acks=all',
      'enable.idempotence=true',
      'linger.ms=5',
      'batch.size=262144',
      'compression.type=none',
    ]),
  );
  // "1048576 records sent, 98765.4 records/sec (96.45 MB/sec), ..."
  const summary = /(\d+) records sent, ([\d.]+) records\/sec/.exec(result.stdout);
  if (!summary) throw new Error(`unexpected ProducerPerformance output:\n${result.stdout.slice(-1000)}`);
  // The tool's own clock excludes the JVM's start, as ours includes Node's: the ceiling is the
  // stricter reference. CPU is the whole process's.
  return {
    seconds: records / Number(summary[2]),
    cpuSeconds: result.cpuSeconds,
    peakRssMiB: result.peakRssKiB / 1024,
    records,
    bytes: records * recordSize,
  };
}

/** ConsumerPerformance over the whole topic, its fetch time (no group join: our backup has none). */
export async function consumerPerf(
  env: EnvState,
  topic: string,
  records: number,
  recordSize: number,
): Promise<Sample> {
  const result = mustSucceed(
    'kafka-consumer-perf-test',
    await java(env, 'org.apache.kafka.tools.ConsumerPerformance', [
      '--bootstrap-server',
      env.kafka?.source.bootstrap as string,
      '--topic',
      topic,
      '--messages',
      String(records),
      '--timeout',
      '120000',
    ]),
  );
  // start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, ...
  const line = result.stdout
    .trim()
    .split('\n')
    .find((l) => /^\d{4}-\d\d-\d\d/.test(l));
  const cols = line?.split(',').map((c) => c.trim());
  if (!cols || cols.length < 10) throw new Error(`unexpected ConsumerPerformance output:\n${result.stdout}`);
  const consumed = Number(cols[4]);
  if (consumed < records) throw new Error(`ConsumerPerformance read ${consumed} of ${records} records`);
  return {
    seconds: Number(cols[7]) / 1000,
    cpuSeconds: result.cpuSeconds,
    peakRssMiB: result.peakRssKiB / 1024,
    records: consumed,
    bytes: consumed * recordSize,
  };
}
