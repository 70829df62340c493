import type { BackupManifest } from '../format/types.ts';
import type { BackupGroupSnapshot } from '../offsets/backup-group-snapshot.ts';
import { tpKey } from '../offsets/group-offsets.ts';

export {
  type BackupGroupSnapshot,
  LATEST_GROUP_SNAPSHOT_DOCUMENT,
  loadBackupGroupSnapshot,
  parseBackupGroupSnapshot,
} from '../offsets/backup-group-snapshot.ts';

export interface GroupSnapshotFinding {
  readonly group: string;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly problem: 'partition-not-in-backup' | 'before-backed-up-data' | 'beyond-backed-up-data';
}

/**
 * Every committed offset must name a backed-up partition. An offset before the first backed-up
 * offset means records the group had not read were lost before the backup (a warning); one beyond
 * the backed-up data is normal when the group kept consuming while the backup ran (noted).
 */
export function checkGroupSnapshot(
  manifest: BackupManifest,
  snapshot: BackupGroupSnapshot,
): GroupSnapshotFinding[] {
  const ranges = new Map<string, { start: bigint; end: bigint }>();
  for (const t of manifest.topics) {
    for (const p of t.partitions) {
      const first = p.covered[0];
      const last = p.covered.at(-1);
      if (first && last) ranges.set(tpKey(p.topic, p.partition), { start: first.start, end: last.end });
    }
  }
  const findings: GroupSnapshotFinding[] = [];
  for (const [group, offsets] of snapshot.groups) {
    for (const o of offsets) {
      const r = ranges.get(tpKey(o.topic, o.partition));
      const base = { group, topic: o.topic, partition: o.partition, offset: o.offset.toString() };
      if (!r) findings.push({ ...base, problem: 'partition-not-in-backup' });
      else if (o.offset < r.start) findings.push({ ...base, problem: 'before-backed-up-data' });
      else if (o.offset > r.end) findings.push({ ...base, problem: 'beyond-backed-up-data' });
    }
  }
  return findings;
}
