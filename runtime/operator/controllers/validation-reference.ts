import type { KubeObject, ObjectKey } from '../resource.ts';

/**
 * `backupRef` of a KafkaBackupValidation, resolved into the concrete form the use case reads:
 * `backupRef.storage` and `backupRef.backupId`. `backupRef.name` (+ `namespace`) names a
 * KafkaBackup; its storage is used, and its storage Secrets are read in its namespace.
 */
export type ResolvedBackupRef =
  | {
      readonly ok: true;
      /** The spec with `backupRef` = `{storage, backupId}`. */
      readonly spec: Record<string, unknown>;
      /** Where the backup storage's Secrets are read. */
      readonly storageNamespace: string;
      readonly backupId?: string;
      /** The KafkaBackup it came from, for status messages. */
      readonly from?: ObjectKey;
    }
  | { readonly ok: false; readonly reason: string; readonly message: string };

type Lookup = (key: ObjectKey) => KubeObject | undefined;

const asRecord = (v: unknown): Record<string, unknown> | undefined =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
const asString = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

export function resolveBackupRef(spec: unknown, namespace: string, lookup: Lookup): ResolvedBackupRef {
  const s = asRecord(spec) ?? {};
  const ref = asRecord(s.backupRef) ?? {};
  const backupId = asString(ref.backupId);
  // Storage named directly wins (a fresh disaster-recovery cluster has no KafkaBackup).
  if (ref.storage !== undefined) {
    return {
      ok: true,
      spec: { ...s, backupRef: { storage: ref.storage, ...(backupId ? { backupId } : {}) } },
      storageNamespace: namespace,
      ...(backupId ? { backupId } : {}),
    };
  }
  const name = asString(ref.name);
  if (!name) {
    return {
      ok: false,
      reason: 'InvalidBackupReference',
      message:
        'backupRef names no KafkaBackup: set backupRef.name, or backupRef.storage and backupRef.backupId',
    };
  }
  const key = { namespace: asString(ref.namespace) ?? namespace, name };
  const backup = lookup(key);
  if (!backup) {
    return {
      ok: false,
      reason: 'BackupNotFound',
      message:
        `KafkaBackup ${key.namespace}/${name} (backupRef) does not exist or is not in a watched namespace: ` +
        'create it, fix backupRef.name/namespace, or set backupRef.storage and backupRef.backupId to read storage directly',
    };
  }
  const backupSpec = asRecord(backup.spec) ?? {};
  if (backupSpec.storage === undefined) {
    return {
      ok: false,
      reason: 'InvalidBackupReference',
      message: `KafkaBackup ${key.namespace}/${name} has no spec.storage to read the backup from`,
    };
  }
  // backupRef.backupId, else the KafkaBackup's last successful set, else the id its runs write under.
  const id =
    backupId ??
    asString(asRecord(backup.status)?.backupId) ??
    asString(backupSpec.backupId) ??
    backup.metadata.name;
  return {
    ok: true,
    spec: { ...s, backupRef: { storage: backupSpec.storage, backupId: id } },
    storageNamespace: key.namespace,
    backupId: id,
    from: key,
  };
}

/** The validation reads the backup through backupRef.name (+ namespace), not storage named directly. */
export function refersTo(validation: KubeObject, backup: KubeObject): boolean {
  const ref = asRecord(asRecord(validation.spec)?.backupRef) ?? {};
  if (ref.storage !== undefined) return false;
  const namespace = asString(ref.namespace) ?? validation.metadata.namespace;
  return asString(ref.name) === backup.metadata.name && namespace === backup.metadata.namespace;
}
