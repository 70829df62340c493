/**
 * Names of other resources resolved through the API into the concrete form the use cases take:
 * `backupRef.name` -> that KafkaBackup's storage and backup id; `offsetMappingRef.restoreName` ->
 * that KafkaRestore's mapping and its backup; `snapshotRef.restoreRef`/`offsetResetRef` -> the
 * storage of the resource that took the snapshot. Secrets of a storage are read from the namespace
 * of the resource that declares it, so each resolution says which namespace that is.
 */
import { UsageError } from '../../app/errors.ts';
import type { ReconcileContext } from '../controller.ts';
import type { CacheReader } from '../object-cache.ts';
import { KAFKA_KINDS, type KubeObject, type ObjectKey, type ResourceKind } from '../resource.ts';

/** A named resource does not exist or cannot serve yet: fix the reference or create it (retried). */
export class UnresolvedReferenceError extends Error {
  readonly terminal = false;
  readonly reason = 'ReferenceNotFound';
  constructor(message: string) {
    super(message);
    this.name = 'UnresolvedReferenceError';
  }
}

/** The concrete backup: where it is stored, which backup set, whose namespace holds its Secrets. */
export interface ResolvedBackup {
  readonly storage: Record<string, unknown>;
  readonly backupId: string;
  readonly secretsNamespace: string;
  /** The KafkaBackup it came from, when named. */
  readonly backup?: ObjectKey;
}

export interface BackupRefSpec {
  readonly name?: string;
  readonly namespace?: string;
  readonly backupId?: string;
  readonly storage?: Record<string, unknown>;
}

type Lookup = Pick<ReconcileContext, 'cacheOf' | 'client'>;

/** The manager's cache of `kind`, or undefined when no controller of that kind runs (so it is not watched). */
function cacheOf(context: Pick<ReconcileContext, 'cacheOf'>, kind: ResourceKind): CacheReader | undefined {
  try {
    return context.cacheOf(kind);
  } catch {
    return undefined;
  }
}

/** Reads an object from the watched cache, else through the API (another namespace, an unwatched kind). */
export async function lookup(
  context: Lookup,
  kind: ResourceKind,
  key: ObjectKey,
): Promise<KubeObject | undefined> {
  return cacheOf(context, kind)?.get(key) ?? (await context.client.get(kind, key));
}

/** The objects of a kind in a namespace, from the cache when the kind is watched. */
async function listIn(context: Lookup, kind: ResourceKind, namespace: string): Promise<KubeObject[]> {
  const cache = cacheOf(context, kind);
  return cache ? cache.list(namespace) : (await context.client.list(kind, namespace)).items;
}

/**
 * `backupRef` -> storage + backup id. `storage` given directly wins (read with this resource's
 * Secrets); else the KafkaBackup named (in `namespace`, default this resource's) gives its
 * `spec.storage`, and the backup id is `backupRef.backupId`, else the KafkaBackup's
 * `status.backupId`, else its name (the id its runs write under).
 */
export async function resolveBackupRef(
  ref: BackupRefSpec | undefined,
  ownNamespace: string,
  context: Lookup,
  field = 'backupRef',
): Promise<ResolvedBackup> {
  if (ref?.storage) {
    if (!ref.backupId)
      throw new UnresolvedReferenceError(`${field}.storage is set without ${field}.backupId`);
    return { storage: ref.storage, backupId: ref.backupId, secretsNamespace: ownNamespace };
  }
  if (!ref?.name)
    throw new UnresolvedReferenceError(`${field}.name is empty: name a KafkaBackup, or set ${field}.storage`);
  const key = { namespace: ref.namespace || ownNamespace, name: ref.name };
  const backup = await lookup(context, KAFKA_KINDS.KafkaBackup, key);
  return backupOf(backup, key, ref.backupId, `${field}.name`);
}

/** The storage and backup id of a KafkaBackup object (pure). */
export function backupOf(
  backup: KubeObject | undefined,
  key: ObjectKey,
  backupId: string | undefined,
  field: string,
): ResolvedBackup {
  if (!backup) {
    throw new UnresolvedReferenceError(
      `KafkaBackup ${key.namespace}/${key.name} (${field}) does not exist: create it, or fix ${field}`,
    );
  }
  const spec = (backup.spec ?? {}) as { storage?: Record<string, unknown> };
  if (!spec.storage) {
    throw new UnresolvedReferenceError(
      `KafkaBackup ${key.namespace}/${key.name} has no spec.storage: nothing to read from`,
    );
  }
  const status = (backup.status ?? {}) as { backupId?: unknown };
  const id = backupId || (typeof status.backupId === 'string' && status.backupId) || backup.metadata.name;
  return { storage: spec.storage, backupId: id, secretsNamespace: key.namespace, backup: key };
}

/** What a KafkaRestore offers to the offset kinds: its backup, its restore id (mapping), its snapshot. */
export interface ResolvedRestore extends ResolvedBackup {
  readonly restore: ObjectKey;
  readonly restoreId?: string;
  readonly snapshotId?: string;
}

const MAPPING_PREFIX = 'offset-mappings/';

/** The restore id of a KafkaRestore, read back from status.offsetMappingPath (pure). */
export function restoreIdOfMappingPath(path: unknown): string | undefined {
  if (typeof path !== 'string') return undefined;
  const i = path.lastIndexOf(MAPPING_PREFIX);
  return i >= 0 ? path.slice(i + MAPPING_PREFIX.length) || undefined : undefined;
}

/** A KafkaRestore by name in `namespace`, resolved to its backup and what it produced. */
export async function resolveRestore(
  name: string,
  namespace: string,
  context: Lookup,
  field: string,
): Promise<ResolvedRestore> {
  const key = { namespace, name };
  const restore = await lookup(context, KAFKA_KINDS.KafkaRestore, key);
  if (!restore) {
    throw new UnresolvedReferenceError(
      `KafkaRestore ${namespace}/${name} (${field}) does not exist: fix ${field}`,
    );
  }
  return restoreOf(restore, key, context);
}

async function restoreOf(restore: KubeObject, key: ObjectKey, context: Lookup): Promise<ResolvedRestore> {
  const spec = (restore.spec ?? {}) as { backupRef?: BackupRefSpec };
  const status = (restore.status ?? {}) as {
    backupId?: unknown;
    offsetMappingPath?: unknown;
    rollback?: { snapshotId?: unknown };
  };
  const backupId =
    spec.backupRef?.backupId ?? (typeof status.backupId === 'string' ? status.backupId : undefined);
  const backup = await resolveBackupRef(
    { ...spec.backupRef, ...(backupId ? { backupId } : {}) },
    key.namespace,
    context,
    `KafkaRestore ${key.name} backupRef`,
  );
  const restoreId = restoreIdOfMappingPath(status.offsetMappingPath);
  const snapshotId = typeof status.rollback?.snapshotId === 'string' ? status.rollback.snapshotId : undefined;
  return {
    ...backup,
    restore: key,
    ...(restoreId ? { restoreId } : {}),
    ...(snapshotId ? { snapshotId } : {}),
  };
}

/**
 * The KafkaRestore whose offset mapping a from-mapping reset uses when offsetMappingRef is omitted:
 * the most recently completed one in the namespace that wrote a mapping (pure).
 */
export function latestRestoreWithMapping(restores: readonly KubeObject[]): KubeObject | undefined {
  let best: { object: KubeObject; at: number } | undefined;
  for (const object of restores) {
    const status = (object.status ?? {}) as {
      phase?: unknown;
      offsetMappingPath?: unknown;
      completionTime?: unknown;
    };
    if (status.phase !== 'Completed' || typeof status.offsetMappingPath !== 'string') continue;
    const at = typeof status.completionTime === 'string' ? Date.parse(status.completionTime) : 0;
    if (!best || at > best.at) best = { object, at };
  }
  return best?.object;
}

/** offsetMappingRef (or, without one, the latest completed restore of the namespace) -> a restore. */
export async function resolveMappingRestore(
  ref: { readonly restoreName?: string; readonly path?: string; readonly pvcName?: string } | undefined,
  namespace: string,
  context: Lookup,
): Promise<ResolvedRestore> {
  if (ref?.pvcName || ref?.path) {
    // A spec this operator cannot serve: InvalidConfig, not retried.
    throw new UsageError(
      'offsetMappingRef.path and offsetMappingRef.pvcName are not supported by this operator: name the KafkaRestore with offsetMappingRef.restoreName',
    );
  }
  let resolved: ResolvedRestore;
  if (ref?.restoreName) {
    resolved = await resolveRestore(ref.restoreName, namespace, context, 'offsetMappingRef.restoreName');
  } else {
    const candidates = await listIn(context, KAFKA_KINDS.KafkaRestore, namespace);
    const latest = latestRestoreWithMapping(candidates);
    if (!latest) {
      throw new UnresolvedReferenceError(
        `no completed KafkaRestore with an offset mapping in namespace ${namespace}: run one first, or set offsetMappingRef.restoreName`,
      );
    }
    resolved = await restoreOf(latest, { namespace, name: latest.metadata.name }, context);
  }
  if (!resolved.restoreId) {
    throw new UnresolvedReferenceError(
      `KafkaRestore ${namespace}/${resolved.restore.name} has no offset mapping yet (status.offsetMappingPath): wait for it to complete`,
    );
  }
  return resolved;
}

/**
 * The storage of the only KafkaBackup in the namespace: where a reset that names no backup keeps its
 * snapshot. With none or several, the user must say (a clear Stalled message, not a guess).
 */
export async function soleBackup(
  context: Lookup,
  namespace: string,
  purpose: string,
): Promise<ResolvedBackup> {
  const backups = await listIn(context, KAFKA_KINDS.KafkaBackup, namespace);
  const only = backups.length === 1 ? backups[0] : undefined;
  if (!only) {
    throw new UnresolvedReferenceError(
      `${purpose} needs a backup storage, and namespace ${namespace} has ${backups.length} KafkaBackups (exactly one is used): ` +
        'create one, or reference the storage explicitly',
    );
  }
  return backupOf(only, { namespace, name: only.metadata.name }, undefined, 'KafkaBackup');
}

export interface SnapshotRefSpec {
  readonly name?: string;
  readonly path?: string;
  readonly pvcName?: string;
  readonly restoreRef?: string;
  readonly offsetResetRef?: string;
  readonly storage?: Record<string, unknown>;
}

/** The concrete snapshot: its id and the storage holding it. */
export interface ResolvedSnapshot {
  readonly snapshotId: string;
  readonly storage: Record<string, unknown>;
  readonly secretsNamespace: string;
}

/**
 * The snapshot id: `name`, except when `name` is the name of the referenced resource, whose status
 * then gives the id of the snapshot it took (pure).
 */
export function snapshotIdOf(
  ref: SnapshotRefSpec,
  referenced: { name: string; snapshotId?: string } | undefined,
): string {
  if (referenced && ref.name === referenced.name) {
    if (!referenced.snapshotId) {
      throw new UnresolvedReferenceError(
        `${referenced.name} has taken no offset snapshot yet (status): wait for it to complete`,
      );
    }
    return referenced.snapshotId;
  }
  if (!ref.name) throw new UnresolvedReferenceError('snapshotRef.name is empty: set it to the snapshot id');
  return ref.name;
}

export interface ResetSpec {
  readonly resetStrategy?: string;
  readonly consumerGroups?: readonly string[];
  readonly continueOnError?: boolean;
  readonly snapshotBeforeReset?: boolean;
  readonly offsetMappingRef?: {
    readonly restoreName?: string;
    readonly path?: string;
    readonly pvcName?: string;
  };
  readonly snapshotRef?: SnapshotRefSpec;
  readonly [field: string]: unknown;
}

/** The backup storage a KafkaOffsetReset works with, and for from-mapping the restore whose mapping it uses. */
export async function resolveResetTarget(
  spec: ResetSpec,
  namespace: string,
  context: Lookup,
): Promise<{
  /** Absent when nothing is read or written there (no snapshot, no from-* strategy). */
  storage?: ResolvedBackup['storage'];
  secretsNamespace: string;
  backupId?: string;
  restore?: ResolvedRestore;
  snapshotId?: string;
}> {
  if (spec.resetStrategy === 'from-mapping') {
    const restore = await resolveMappingRestore(spec.offsetMappingRef, namespace, context);
    return {
      storage: restore.storage,
      secretsNamespace: restore.secretsNamespace,
      backupId: restore.backupId,
      restore,
    };
  }
  if (spec.resetStrategy === 'from-snapshot' && spec.snapshotRef) {
    const snapshot = await resolveSnapshotRef(spec.snapshotRef, namespace, context);
    return {
      storage: snapshot.storage,
      secretsNamespace: snapshot.secretsNamespace,
      snapshotId: snapshot.snapshotId,
    };
  }
  if (spec.snapshotBeforeReset === false) return { secretsNamespace: namespace };
  const backup = await soleBackup(context, namespace, 'the offset snapshot taken before the reset');
  return { storage: backup.storage, secretsNamespace: backup.secretsNamespace };
}

/**
 * snapshotRef -> snapshot id and storage: `storage` given directly, else the storage of the
 * KafkaRestore (`restoreRef`) or KafkaOffsetReset (`offsetResetRef`) that took the snapshot, else the
 * namespace's only KafkaBackup.
 */
export async function resolveSnapshotRef(
  ref: SnapshotRefSpec,
  namespace: string,
  context: Lookup,
): Promise<ResolvedSnapshot> {
  if (ref.path || ref.pvcName) {
    throw new UsageError(
      'snapshotRef.path and snapshotRef.pvcName are not supported: name the snapshot with snapshotRef.name',
    );
  }
  if (ref.storage) {
    return { snapshotId: snapshotIdOf(ref, undefined), storage: ref.storage, secretsNamespace: namespace };
  }
  if (ref.restoreRef) {
    const restore = await resolveRestore(ref.restoreRef, namespace, context, 'snapshotRef.restoreRef');
    const snapshotId = snapshotIdOf(ref, {
      name: ref.restoreRef,
      ...(restore.snapshotId ? { snapshotId: restore.snapshotId } : {}),
    });
    return { snapshotId, storage: restore.storage, secretsNamespace: restore.secretsNamespace };
  }
  if (ref.offsetResetRef) {
    const key = { namespace, name: ref.offsetResetRef };
    const reset = await lookup(context, KAFKA_KINDS.KafkaOffsetReset, key);
    if (!reset) {
      throw new UnresolvedReferenceError(
        `KafkaOffsetReset ${namespace}/${ref.offsetResetRef} (snapshotRef.offsetResetRef) does not exist: fix snapshotRef.offsetResetRef`,
      );
    }
    const taken = (reset.status as { snapshotId?: unknown } | undefined)?.snapshotId;
    const snapshotId = snapshotIdOf(ref, {
      name: ref.offsetResetRef,
      ...(typeof taken === 'string' ? { snapshotId: taken } : {}),
    });
    const target = await resolveResetTarget((reset.spec ?? {}) as ResetSpec, namespace, context);
    if (!target.storage) {
      throw new UnresolvedReferenceError(
        `KafkaOffsetReset ${namespace}/${ref.offsetResetRef} took no snapshot (snapshotBeforeReset: false): set snapshotRef.storage`,
      );
    }
    return { snapshotId, storage: target.storage, secretsNamespace: target.secretsNamespace };
  }
  const backup = await soleBackup(
    context,
    namespace,
    'snapshotRef without storage, restoreRef or offsetResetRef',
  );
  return {
    snapshotId: snapshotIdOf(ref, undefined),
    storage: backup.storage,
    secretsNamespace: backup.secretsNamespace,
  };
}
