import { type CommittedOffset, groupOffsetsFromJson, parseOffset } from './group-offsets.ts';

/**
 * The consumer-group snapshot a backup carries: our engine's document `consumer-groups/latest`
 * (`{version: 1, runId, takenAt, groups: group → topic → partition → offset}`), or, for backups
 * written by the Rust tool, its `consumer-groups-snapshot.json`
 * (`{snapshot_time, groups: [{group_id, offsets: topic → partition → offset}]}`).
 */
export const LATEST_GROUP_SNAPSHOT_DOCUMENT = 'consumer-groups/latest';
export const LEGACY_GROUP_SNAPSHOT_DOCUMENT = 'consumer-groups-snapshot';

export interface BackupGroupSnapshot {
  readonly runId?: string;
  readonly takenAt?: string;
  readonly groups: Map<string, CommittedOffset[]>;
}

export function parseBackupGroupSnapshot(json: unknown, origin: string): BackupGroupSnapshot {
  if (typeof json !== 'object' || json === null) throw new Error(`${origin}: not a JSON object`);
  const doc = json as { version?: unknown; runId?: unknown; takenAt?: unknown; groups?: unknown };
  if (doc.version !== 1) throw new Error(`${origin}: unsupported version ${JSON.stringify(doc.version)}`);
  return {
    ...(typeof doc.runId === 'string' ? { runId: doc.runId } : {}),
    ...(typeof doc.takenAt === 'string' ? { takenAt: doc.takenAt } : {}),
    groups: groupOffsetsFromJson(doc.groups, origin),
  };
}

export function parseLegacyGroupSnapshot(json: unknown, origin: string): BackupGroupSnapshot {
  const fail = (why: string): never => {
    throw new Error(`${origin}: ${why}`);
  };
  const doc = (typeof json === 'object' && json !== null ? json : fail('not a JSON object')) as {
    snapshot_time?: unknown;
    groups?: unknown;
  };
  if (!Array.isArray(doc.groups)) fail('groups is not an array');
  const groups = new Map<string, CommittedOffset[]>();
  for (const g of doc.groups as { group_id?: unknown; offsets?: unknown }[]) {
    if (typeof g?.group_id !== 'string') fail('a group has no group_id');
    const offsets: CommittedOffset[] = [];
    for (const [topic, partitions] of Object.entries(
      (g.offsets ?? {}) as Record<string, Record<string, unknown>>,
    )) {
      for (const [partition, offset] of Object.entries(partitions ?? {})) {
        offsets.push({
          topic,
          partition: Number(partition),
          offset: parseOffset(offset, `${g.group_id} ${topic}/${partition}`, fail),
        });
      }
    }
    groups.set(g.group_id as string, offsets);
  }
  return {
    ...(typeof doc.snapshot_time === 'number' ? { takenAt: new Date(doc.snapshot_time).toISOString() } : {}),
    groups,
  };
}

/** The backup's snapshot in either form, or undefined when the backup has none. */
export async function loadBackupGroupSnapshot(backup: {
  readonly backupId: string;
  getDocument<T = unknown>(name: string): Promise<T | undefined>;
}): Promise<BackupGroupSnapshot | undefined> {
  const v1 = await backup.getDocument(LATEST_GROUP_SNAPSHOT_DOCUMENT);
  if (v1 !== undefined)
    return parseBackupGroupSnapshot(v1, `${backup.backupId}/${LATEST_GROUP_SNAPSHOT_DOCUMENT}`);
  const legacy = await backup.getDocument(LEGACY_GROUP_SNAPSHOT_DOCUMENT);
  if (legacy !== undefined)
    return parseLegacyGroupSnapshot(legacy, `${backup.backupId}/${LEGACY_GROUP_SNAPSHOT_DOCUMENT}.json`);
  return undefined;
}
