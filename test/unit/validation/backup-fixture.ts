import type { Backup } from '../../../runtime/format/repository.ts';
import { BackupRepository } from '../../../runtime/format/repository.ts';
import type { OffsetGap, SegmentEntry } from '../../../runtime/format/types.ts';
import type { KafkaRecord } from '../../../runtime/record.ts';
import type { ObjectStore } from '../../../runtime/storage/object-store.ts';

/** A record at `offset` with distinct key/value/headers, including a null header value and empty key. */
export function record(offset: bigint): KafkaRecord {
  return {
    offset,
    timestamp: 1_700_000_000_000n + offset,
    timestampType: 'CreateTime',
    key: offset % 5n === 0n ? new Uint8Array() : Buffer.from(`k${offset}`),
    value: offset % 7n === 0n ? null : Buffer.from(`value-${offset}`),
    headers: [
      ['h', Buffer.from('1')],
      ['h', null],
    ],
  };
}

export interface PartitionSpec {
  readonly partition: number;
  /** Offsets to store, split into segments of `perSegment` records. */
  readonly offsets: readonly bigint[];
  readonly gaps?: readonly OffsetGap[];
  /** Covered range; defaults to [first offset, last offset + 1). */
  readonly covered?: { start: bigint; end: bigint };
}

/** Writes a one-run v1 backup of one topic through the real format code. */
export async function writeBackup(
  store: ObjectStore,
  backupId: string,
  topic: string,
  partitions: readonly PartitionSpec[],
  options: { perSegment?: number; configs?: Record<string, string>; runId?: string } = {},
): Promise<{ backup: Backup; segments: SegmentEntry[] }> {
  const repo = new BackupRepository(store);
  const backup = await repo.create({ backupId, compression: 'none' });
  const runId = options.runId ?? 'run-1';
  const all: SegmentEntry[] = [];
  const commits = [];
  for (const spec of partitions) {
    const segments: SegmentEntry[] = [];
    const per = options.perSegment ?? 10;
    for (let i = 0; i < spec.offsets.length; i += per) {
      const writer = backup.newSegmentWriter({ topic, partition: spec.partition });
      for (const o of spec.offsets.slice(i, i + per)) writer.append(record(o));
      const sealed = await writer.seal();
      if (sealed) segments.push(await backup.writeSegment(sealed, runId));
    }
    all.push(...segments);
    const first = spec.offsets[0] ?? 0n;
    const last = spec.offsets.at(-1) ?? -1n;
    commits.push({
      topic,
      partition: spec.partition,
      segments,
      covered: spec.covered ?? { start: first, end: last + 1n },
      gaps: spec.gaps ?? [],
    });
  }
  await backup.commit({
    runId,
    mode: 'one-shot',
    final: true,
    topics: [{ name: topic, partitionCount: partitions.length, configs: options.configs ?? {} }],
    partitions: commits,
  });
  return { backup, segments: all };
}

export function range(start: number, end: number): bigint[] {
  return Array.from({ length: end - start }, (_, i) => BigInt(start + i));
}
