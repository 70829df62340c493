import assert from 'node:assert/strict';
import {
  type Backup,
  type KafkaRecord,
  planRestore,
  type SegmentEntry,
  selectRecords,
} from '../../../runtime/format/index.ts';

/** Test runs of a backup written straight through the format (no Kafka): used by the prune tests. */

const rec = (offset: number): KafkaRecord => ({
  offset: BigInt(offset),
  timestamp: BigInt(1_000_000 + offset),
  timestampType: 'CreateTime',
  key: Buffer.from(`k${offset}`),
  value: Buffer.from(`v${offset}`),
  headers: [],
});

export const TOPIC = { name: 't', partitionCount: 1, configs: { 'cleanup.policy': 'delete' } };

/** Commits records [from, to) of t/0 as one run, in segments of 10 records aligned on multiples of 10. */
export async function commitRun(backup: Backup, runId: string, from: number, to: number, final = true) {
  const segments: SegmentEntry[] = [];
  for (let start = from; start < to; start = Math.floor(start / 10) * 10 + 10) {
    const writer = backup.newSegmentWriter({ topic: 't', partition: 0 });
    const end = Math.min(to, Math.floor(start / 10) * 10 + 10);
    for (let o = start; o < end; o++) writer.append(rec(o));
    const sealed = await writer.seal();
    assert.ok(sealed, 'the writer holds records');
    segments.push(await backup.writeSegment(sealed, runId));
  }
  await backup.commit({
    runId,
    mode: 'incremental',
    final,
    topics: [TOPIC],
    partitions: [
      { topic: 't', partition: 0, segments, covered: { start: BigInt(from), end: BigInt(to) }, gaps: [] },
    ],
  });
  return segments;
}

export async function restoredOffsets(backup: Backup): Promise<number[]> {
  const out: number[] = [];
  for (const plan of planRestore(await backup.manifest())) {
    for (const read of plan.reads) {
      for (const r of selectRecords((await backup.readSegment(read.segment)).records, read, {})) {
        out.push(Number(r.offset));
      }
    }
  }
  return out;
}

export const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
