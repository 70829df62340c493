import { FormatUsageError } from './errors.ts';

/**
 * Object keys of a v1 backup (docs/format/v1.md §2), relative to the store's root:
 *   _catalog/{backupId}.json                        catalog entry, for listing without a scan
 *   {backupId}/backup.json                          descriptor, written once
 *   {backupId}/commits/{seq:010}.json               one immutable commit per checkpoint/run end
 *   {backupId}/snapshots/{seq:010}.json             all commits 0..seq in one object (a read cache)
 *   {backupId}/segments/{topic}/{partition}/{firstOffset:020}-{sha256[0:16]}.kbs
 *   {backupId}/documents/{name}.json                engine documents (offset maps, group snapshots)
 */

const BACKUP_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;
const DOCUMENT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/;

export const CATALOG_PREFIX = '_catalog/';

export function checkBackupId(backupId: string): string {
  if (!BACKUP_ID.test(backupId)) {
    throw new FormatUsageError(
      `invalid backup id '${backupId}': use 1-200 letters, digits, '.', '_' or '-', starting with a letter or digit`,
    );
  }
  return backupId;
}

export function catalogKey(backupId: string): string {
  return `${CATALOG_PREFIX}${backupId}.json`;
}

export function descriptorKey(backupId: string): string {
  return `${backupId}/backup.json`;
}

export function commitsPrefix(backupId: string): string {
  return `${backupId}/commits/`;
}

export function commitKey(backupId: string, seq: number): string {
  return `${commitsPrefix(backupId)}${String(seq).padStart(10, '0')}.json`;
}

export function snapshotsPrefix(backupId: string): string {
  return `${backupId}/snapshots/`;
}

export function snapshotKey(backupId: string, seq: number): string {
  return `${snapshotsPrefix(backupId)}${String(seq).padStart(10, '0')}.json`;
}

export function seqFromSnapshotKey(key: string): number | undefined {
  const m = /\/snapshots\/(\d{10})\.json$/.exec(key);
  return m ? Number(m[1]) : undefined;
}

export function seqFromCommitKey(key: string): number | undefined {
  const m = /\/commits\/(\d{10})\.json$/.exec(key);
  return m ? Number(m[1]) : undefined;
}

/** Kafka topic names are [a-zA-Z0-9._-]; anything else is percent-encoded so keys stay portable. */
export function topicPathSegment(topic: string): string {
  return /^[A-Za-z0-9._-]+$/.test(topic) && topic !== '.' && topic !== '..'
    ? topic
    : encodeURIComponent(topic);
}

export function segmentKey(
  backupId: string,
  topic: string,
  partition: number,
  firstOffset: bigint,
  sha256: string,
): string {
  const offset = firstOffset.toString().padStart(20, '0');
  return `${backupId}/segments/${topicPathSegment(topic)}/${partition}/${offset}-${sha256.slice(0, 16)}.kbs`;
}

export function documentKey(backupId: string, name: string): string {
  if (!DOCUMENT_NAME.test(name) || name.length > 500) {
    throw new FormatUsageError(
      `invalid document name '${name}': use '/'-separated parts of letters, digits, '.', '_' or '-'`,
    );
  }
  return `${backupId}/documents/${name}.json`;
}
