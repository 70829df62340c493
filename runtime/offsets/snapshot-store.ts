import { randomBytes } from 'node:crypto';
import { type ObjectStore, StorageError } from '../storage/object-store.ts';
import { OffsetsUsageError } from './errors.ts';
import {
  type GroupOffsets,
  type GroupOffsetsJson,
  groupOffsetsFromJson,
  groupOffsetsToJson,
} from './group-offsets.ts';

/**
 * Durable snapshots of consumer groups' committed offsets, taken before every reset and on demand,
 * stored at `offset-snapshots/<snapshotId>.json` in the configured storage so a rollback works from
 * any machine (not from a file local to one pod).
 */
export const OFFSET_SNAPSHOT_PREFIX = 'offset-snapshots/';

export interface OffsetSnapshot {
  readonly snapshotId: string;
  /** RFC 3339. */
  readonly createdAt: string;
  /** The cluster the offsets were read from, without credentials. */
  readonly cluster: string;
  /** Why it was taken, e.g. `before reset to-earliest` or a user's description. */
  readonly description?: string;
  readonly groups: GroupOffsets;
}

export interface OffsetSnapshotDocument {
  readonly version: 1;
  readonly snapshotId: string;
  readonly createdAt: string;
  readonly cluster: string;
  readonly description?: string;
  readonly groups: GroupOffsetsJson;
}

const SNAPSHOT_ID = /^snap-[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}$/;

export function newSnapshotId(at: Date): string {
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `snap-${stamp}-${randomBytes(4).toString('hex')}`;
}

export function snapshotKey(snapshotId: string): string {
  if (!SNAPSHOT_ID.test(snapshotId)) {
    throw new OffsetsUsageError(
      `'${snapshotId}' is not a snapshot id (expected snap-YYYYMMDDTHHMMSSZ-xxxxxxxx); list them with offsets snapshot --list`,
    );
  }
  return `${OFFSET_SNAPSHOT_PREFIX}${snapshotId}.json`;
}

export function snapshotToDocument(s: OffsetSnapshot): OffsetSnapshotDocument {
  return {
    version: 1,
    snapshotId: s.snapshotId,
    createdAt: s.createdAt,
    cluster: s.cluster,
    ...(s.description ? { description: s.description } : {}),
    groups: groupOffsetsToJson(s.groups),
  };
}

export function snapshotFromDocument(json: unknown, origin: string): OffsetSnapshot {
  const doc = json as Partial<OffsetSnapshotDocument>;
  if (typeof doc !== 'object' || doc === null || doc.version !== 1 || typeof doc.snapshotId !== 'string') {
    throw new Error(`${origin} is not an offset snapshot (version 1)`);
  }
  return {
    snapshotId: doc.snapshotId,
    createdAt: String(doc.createdAt),
    cluster: String(doc.cluster),
    ...(doc.description ? { description: doc.description } : {}),
    groups: groupOffsetsFromJson(doc.groups, origin),
  };
}

export async function writeSnapshot(store: ObjectStore, snapshot: OffsetSnapshot): Promise<string> {
  const key = snapshotKey(snapshot.snapshotId);
  const body = new TextEncoder().encode(`${JSON.stringify(snapshotToDocument(snapshot), null, 2)}\n`);
  // A snapshot is never overwritten: it is the only way back.
  await store.put(key, body, { contentType: 'application/json', ifNoneMatch: true });
  return key;
}

export async function readSnapshot(store: ObjectStore, snapshotId: string): Promise<OffsetSnapshot> {
  const key = snapshotKey(snapshotId);
  let bytes: Uint8Array;
  try {
    bytes = await store.get(key);
  } catch (e) {
    if (e instanceof StorageError && e.kind === 'not-found') {
      throw new Error(`offset snapshot ${snapshotId} not found at ${store.description}/${key}`);
    }
    throw e;
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new Error(`offset snapshot ${key} in ${store.description} is not valid JSON`);
  }
  return snapshotFromDocument(json, `${store.description}/${key}`);
}

export interface SnapshotListing {
  readonly snapshotId: string;
  readonly key: string;
}

/** Snapshot ids, oldest first (the id starts with its creation time). */
export async function listSnapshots(store: ObjectStore): Promise<SnapshotListing[]> {
  const out: SnapshotListing[] = [];
  for await (const info of store.list(OFFSET_SNAPSHOT_PREFIX)) {
    const id = info.key.slice(OFFSET_SNAPSHOT_PREFIX.length, -'.json'.length);
    if (info.key.endsWith('.json') && SNAPSHOT_ID.test(id)) out.push({ snapshotId: id, key: info.key });
  }
  return out.sort((a, b) => (a.snapshotId < b.snapshotId ? -1 : 1));
}
