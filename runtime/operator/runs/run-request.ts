/**
 * A run described as data, for a runner that executes it elsewhere (a Kubernetes Job running
 * `kafka-backup run`): the kind, the resolved spec the use case takes (references such as
 * `backupRef.name` already turned into concrete storage and ids by the operator), the Secrets to
 * mount, and the few parameters of the operator's run. Never a Secret value: only Secret names.
 */

/** The use case a request runs. */
export type RunKind = 'backup' | 'restore' | 'offset-reset' | 'offset-rollback' | 'validation';

export const RUN_KINDS: readonly RunKind[] = [
  'backup',
  'restore',
  'offset-reset',
  'offset-rollback',
  'validation',
];

/** A Secret a run reads, by name: a Job mounts it at `<secrets dir>/<name>` (the CLI's layout). */
export interface SecretRef {
  readonly namespace: string;
  readonly name: string;
}

/** The resource a run serves: the Job's owner. */
export interface RunOwner {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

export interface RunRequest {
  readonly kind: RunKind;
  readonly owner: RunOwner;
  /** The run's id (as given to Runner.start). */
  readonly runId: string;
  /** The spec the use case parses, with references resolved; no Secret values (only references). */
  readonly spec: Record<string, unknown>;
  /** Every Secret the spec refers to, with the namespace it is read from. */
  readonly secrets: readonly SecretRef[];
  /** The resource's activeDeadlineSeconds: the run stops itself then; the Job's deadline is a backstop. */
  readonly activeDeadlineSeconds?: number;
  /** When the deadline passes, if it is counted from earlier than the run's start (a resumed validation). */
  readonly deadlineAt?: string;
  /** A restore id for an offset reset through a restore's mapping. */
  readonly restoreId?: string;
  /** The tool version written into a validation's evidence report. */
  readonly toolVersion?: string;
  /**
   * A run that status shows as started at this time and that a previous leader was following: a
   * Job of this resource created since then is that run's, finished or not (the Job runner adopts it
   * instead of starting a second run).
   */
  readonly resumeOf?: string;
}

/**
 * Names of the Secrets a spec refers to. Every Secret reference of the API is a field named
 * `*Secret` holding `{name, ...}` (saslSecret, tlsSecret, caSecret, credentialsSecret, keySecret,
 * sasTokenSecret, servicePrincipalSecret, webhookSecret, routingKeySecret); a unit test checks
 * the CRDs so a new one cannot be missed.
 */
export function secretNamesIn(spec: unknown): string[] {
  const names = new Set<string>();
  const walk = (value: unknown) => {
    if (Array.isArray(value)) {
      for (const v of value) walk(v);
      return;
    }
    if (!value || typeof value !== 'object') return;
    for (const [field, v] of Object.entries(value as Record<string, unknown>)) {
      const name = (v as { name?: unknown } | null)?.name;
      if (field.endsWith('Secret') && typeof name === 'string' && name !== '') names.add(name);
      else walk(v);
    }
  };
  walk(spec);
  return [...names].sort();
}

/**
 * The Secrets of a spec whose backup storage (`backupRef.storage`, `snapshotRef.storage`) is read
 * with the Secrets of `storageNamespace` and everything else with those of `namespace`.
 */
export function secretsOf(
  spec: Record<string, unknown>,
  namespace: string,
  storageNamespace = namespace,
): SecretRef[] {
  const storages: unknown[] = [];
  const rest: Record<string, unknown> = { ...spec };
  for (const ref of ['backupRef', 'snapshotRef'] as const) {
    const value = spec[ref] as Record<string, unknown> | undefined;
    if (value && typeof value === 'object' && value.storage !== undefined) {
      storages.push(value.storage);
      rest[ref] = { ...value, storage: undefined };
    }
  }
  const refs = new Map<string, SecretRef>();
  for (const name of secretNamesIn(rest)) refs.set(`${namespace}/${name}`, { namespace, name });
  for (const name of secretNamesIn(storages))
    refs.set(`${storageNamespace}/${name}`, { namespace: storageNamespace, name });
  return [...refs.values()];
}

/** The owner reference data of a resource (its uid makes a Job die with that very object). */
export function ownerOf(object: {
  apiVersion?: string;
  kind?: string;
  metadata: { namespace?: string; name: string; uid?: string };
}): RunOwner {
  return {
    apiVersion: object.apiVersion ?? '',
    kind: object.kind ?? '',
    namespace: object.metadata.namespace ?? '',
    name: object.metadata.name,
    uid: object.metadata.uid ?? '',
  };
}
