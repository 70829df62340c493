import type { CheckResult } from '../evidence/report.ts';
import type { ReadableBackup } from '../format/repository.ts';
import type { BackupManifest, SegmentEntry } from '../format/types.ts';
import type { KafkaPort } from '../kafka/port.ts';
import type { KafkaRecord } from '../record.ts';

/**
 * The restore check: restores sampled segments into a scratch topic (one partition per sampled source
 * partition, CreateTime so every original timestamp is kept as written), reads them back and compares
 * key, value, headers (order, duplicates, nulls) and timestamp byte for byte. The scratch topic is
 * always deleted afterwards.
 */
export interface RestoreSampleOptions {
  readonly kafka: KafkaPort;
  readonly sample: number | 'all';
  readonly scratchTopic: string;
  /** Objects already known to be corrupt: not restored (the integrity check reports them). */
  readonly skipKeys?: ReadonlySet<string>;
  readonly maxFindings?: number;
  /** Records per produce request. Default 500. */
  readonly batchSize?: number;
}

export async function restoreSampleCheck(
  backup: ReadableBackup,
  manifest: BackupManifest,
  options: RestoreSampleOptions,
): Promise<CheckResult> {
  const max = options.maxFindings ?? 50;
  const chosen = manifest.topics
    .flatMap((t) => t.partitions)
    .map((p) => ({
      source: `${p.topic}/${p.partition}`,
      segments: sampleSegments(p.segments, options.sample, options.skipKeys),
    }))
    .filter((x) => x.segments.length > 0);
  if (chosen.length === 0) {
    return { name: 'restore-sample', outcome: 'skipped', summary: 'no intact segment to restore' };
  }
  const { kafka, scratchTopic } = options;
  await kafka.createTopic({
    name: scratchTopic,
    partitions: chosen.length,
    replicationFactor: -1,
    configs: { 'message.timestamp.type': 'CreateTime', 'retention.ms': '3600000' },
  });
  const mismatches: Record<string, unknown>[] = [];
  let compared = 0;
  let segments = 0;
  try {
    for (const [partition, { source, segments: list }] of chosen.entries()) {
      const tp = { topic: scratchTopic, partition };
      for (const segment of list) {
        segments += 1;
        let records: KafkaRecord[];
        try {
          records = (await backup.readSegment(segment)).records;
        } catch (error) {
          mismatches.push({
            source,
            segment: segment.key,
            difference: `unreadable: ${(error as Error).message}`,
          });
          continue;
        }
        const batchSize = options.batchSize ?? 500;
        let start: bigint | undefined;
        for (let i = 0; i < records.length; i += batchSize) {
          const batch = records.slice(i, i + batchSize);
          const { baseOffset } = await kafka.produce(
            tp,
            batch.map((r) => ({ key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp })),
          );
          start ??= baseOffset;
        }
        if (start === undefined) continue;
        const restored = await readBack(kafka, tp, start, records.length);
        for (let i = 0; i < records.length; i++) {
          const difference = compareRecord(records[i] as KafkaRecord, restored[i]);
          if (difference) {
            mismatches.push({
              source,
              segment: segment.key,
              offset: (records[i] as KafkaRecord).offset.toString(),
              difference,
            });
          } else {
            compared += 1;
          }
        }
      }
    }
  } finally {
    await kafka.deleteTopics([scratchTopic]).catch(() => {
      // Reported by the caller's cluster hygiene, never hiding the check's own result.
    });
  }
  return {
    name: 'restore-sample',
    outcome: mismatches.length > 0 ? 'failed' : 'passed',
    summary:
      mismatches.length > 0
        ? `${mismatches.length} restored record(s) differ from the backup (first: ${mismatches[0]?.source} offset ${mismatches[0]?.offset})`
        : `${compared} record(s) from ${segments} segment(s) of ${chosen.length} partition(s) restored into a scratch topic and identical byte for byte`,
    details: {
      sample: options.sample,
      partitions: chosen.length,
      segments,
      recordsIdentical: compared,
      mismatchCount: mismatches.length,
      mismatches: mismatches.slice(0, max),
    },
  };
}

/** Up to `n` segments spread over the partition (first and last included), or all of them. */
export function sampleSegments(
  segments: readonly SegmentEntry[],
  sample: number | 'all',
  skip: ReadonlySet<string> = new Set(),
): SegmentEntry[] {
  const intact = segments.filter((s) => !skip.has(s.key));
  if (sample === 'all' || sample >= intact.length) return intact;
  if (sample <= 0) return [];
  if (sample === 1) return intact.slice(-1);
  const picks = new Set<number>();
  for (let i = 0; i < sample; i++) picks.add(Math.round((i * (intact.length - 1)) / (sample - 1)));
  return [...picks].sort((a, b) => a - b).map((i) => intact[i] as SegmentEntry);
}

async function readBack(
  kafka: KafkaPort,
  tp: { topic: string; partition: number },
  start: bigint,
  count: number,
): Promise<KafkaRecord[]> {
  const out: KafkaRecord[] = [];
  let offset = start;
  for (let attempts = 0; out.length < count && attempts < 1000; attempts++) {
    const result = await kafka.fetch(tp, offset, { maxWaitMs: 500 });
    if (result.kind !== 'records')
      throw new Error(`scratch partition ${tp.topic}/${tp.partition}: offset ${offset} out of range`);
    out.push(...result.records);
    offset = result.nextOffset;
  }
  return out.slice(0, count);
}

/** The first field that differs, or undefined when the restored record is identical. */
export function compareRecord(original: KafkaRecord, restored: KafkaRecord | undefined): string | undefined {
  if (!restored) return 'missing after restore';
  if (!sameBytes(original.key, restored.key)) return 'key';
  if (!sameBytes(original.value, restored.value)) return 'value';
  if (original.timestamp !== restored.timestamp) return 'timestamp';
  if (original.headers.length !== restored.headers.length) return 'header count';
  for (let i = 0; i < original.headers.length; i++) {
    const [k1, v1] = original.headers[i] as KafkaRecord['headers'][number];
    const [k2, v2] = restored.headers[i] as KafkaRecord['headers'][number];
    if (k1 !== k2) return `header ${i} key`;
    if (!sameBytes(v1, v2)) return `header ${i} value`;
  }
  return undefined;
}

function sameBytes(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
    Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  );
}
