/**
 * Finalizer helpers in the manner of controller-runtime's controllerutil. Each writes the whole
 * object with the resourceVersion it was read at, so a stale cache fails with 409 (a retriable
 * error: the reconcile runs again on the fresh object) instead of overwriting someone's change.
 */
import type { ResourceClient } from './kube/port.ts';
import type { KubeObject, ResourceKind } from './resource.ts';

export const hasFinalizer = (object: KubeObject, finalizer: string): boolean =>
  object.metadata.finalizers?.includes(finalizer) ?? false;

/** Adds the finalizer if missing; returns the object as stored. */
export async function addFinalizer(
  client: Pick<ResourceClient, 'replace'>,
  kind: ResourceKind,
  object: KubeObject,
  finalizer: string,
): Promise<KubeObject> {
  if (hasFinalizer(object, finalizer)) return object;
  const finalizers = [...(object.metadata.finalizers ?? []), finalizer];
  return client.replace(kind, { ...object, metadata: { ...object.metadata, finalizers } });
}

/** Removes the finalizer if present; returns the object as stored (it may be gone right after). */
export async function removeFinalizer(
  client: Pick<ResourceClient, 'replace'>,
  kind: ResourceKind,
  object: KubeObject,
  finalizer: string,
): Promise<KubeObject> {
  if (!hasFinalizer(object, finalizer)) return object;
  const finalizers = (object.metadata.finalizers ?? []).filter((f) => f !== finalizer);
  return client.replace(kind, { ...object, metadata: { ...object.metadata, finalizers } });
}
