import type { BackupRepository, OpenBackupOptions } from '../format/repository.ts';
import { StorageError } from '../storage/object-store.ts';
import { type OffsetMapping, offsetMappingFromDocument } from './offset-mapping.ts';

/**
 * Where a restore's offset mapping lives: the backup document `offset-mappings/<restoreId>` written by
 * the restore engine (runtime/engine/restore.ts).
 */
export const OFFSET_MAPPING_PREFIX = 'offset-mappings/';

export function offsetMappingDocumentName(restoreId: string): string {
  return `${OFFSET_MAPPING_PREFIX}${restoreId}`;
}

/** What reading mappings needs from a backup (runtime/format's Backup has all three). */
export interface MappingSource {
  readonly backupId: string;
  getDocument<T = unknown>(name: string): Promise<T | undefined>;
  listDocuments?(prefix?: string): Promise<string[]>;
}

/**
 * Opens a backup as a MappingSource. A v1 backup keeps its restores' mappings as documents; a backup
 * written by the Rust tool is read-only, so the restore engine keeps them beside it, under
 * `_restores/<backupId>/` (runtime/engine/restore.ts, restoreDocuments), while its consumer-group
 * snapshot stays the backup's own `consumer-groups-snapshot.json`.
 */
export async function openMappingSource(
  repository: BackupRepository,
  backupId: string,
  options: OpenBackupOptions = {},
): Promise<MappingSource> {
  const backup = await repository.open(backupId, options);
  if ('putDocument' in backup) return backup as unknown as MappingSource;
  const store = repository.store;
  const base = `_restores/${backupId}/`;
  return {
    backupId,
    async getDocument<T = unknown>(name: string): Promise<T | undefined> {
      if (!name.startsWith(OFFSET_MAPPING_PREFIX)) return backup.getDocument<T>(name);
      const key = `${base}${name}.json`;
      try {
        return JSON.parse(new TextDecoder().decode(await store.get(key))) as T;
      } catch (e) {
        if (e instanceof StorageError && e.kind === 'not-found') return undefined;
        if (e instanceof SyntaxError) throw new Error(`${store.description}/${key} is not valid JSON`);
        throw e;
      }
    },
    async listDocuments(prefix = ''): Promise<string[]> {
      const names: string[] = [];
      for await (const info of store.list(base + prefix)) {
        if (info.key.endsWith('.json')) names.push(info.key.slice(base.length, -'.json'.length));
      }
      return names;
    },
  };
}

/** The mapping of one restore, or of the latest restore when no id is given. */
export async function loadOffsetMapping(backup: MappingSource, restoreId?: string): Promise<OffsetMapping> {
  let name: string;
  if (restoreId) {
    name = offsetMappingDocumentName(restoreId);
  } else {
    const names = backup.listDocuments ? await backup.listDocuments(OFFSET_MAPPING_PREFIX) : [];
    if (names.length === 0) {
      throw new Error(
        `backup '${backup.backupId}' has no offset mapping: restore it first, or name the restore with --restore-id`,
      );
    }
    if (names.length > 1) {
      throw new Error(
        `backup '${backup.backupId}' has offset mappings of ${names.length} restores ` +
          `(${names.map((n) => n.slice(OFFSET_MAPPING_PREFIX.length)).join(', ')}): choose one with --restore-id`,
      );
    }
    name = names[0] as string;
  }
  const json = await backup.getDocument(name);
  if (json === undefined) {
    throw new Error(`backup '${backup.backupId}' has no offset mapping '${name}': check the restore id`);
  }
  return offsetMappingFromDocument(json, `${backup.backupId}/${name}`);
}

/** Text rendering of a mapping for `offsets show-mapping`. */
export function formatOffsetMapping(mapping: OffsetMapping): string {
  const lines = [
    `Offset mapping of backup ${mapping.backupId}${mapping.restoreId ? `, restore ${mapping.restoreId}` : ''}:`,
  ];
  for (const p of mapping.partitions) {
    const records = p.ranges.reduce((n, r) => n + r.count, 0);
    lines.push(
      `  ${p.sourceTopic}/${p.sourcePartition} -> ${p.targetTopic}/${p.targetPartition}: ${records} record(s) in ${p.ranges.length} range(s)`,
    );
    for (const r of p.ranges.slice(0, 20)) {
      const n = BigInt(r.count) - 1n;
      lines.push(`    source ${r.source}..${r.source + n} -> target ${r.target}..${r.target + n}`);
    }
    if (p.ranges.length > 20) lines.push(`    ... ${p.ranges.length - 20} more range(s) (use --output json)`);
  }
  return lines.join('\n');
}
