/**
 * What the operator knows about a kind of custom resource, and how objects are keyed.
 */
export interface ResourceKind {
  readonly group: string;
  readonly version: string;
  /** The resource name in URLs (kafkabackups). */
  readonly plural: string;
  readonly kind: string;
}

export const KAFKA_API_GROUP = 'kafka.oso.sh';
export const KAFKA_API_VERSION = 'v1alpha1';

const kafkaKind = (kind: string, plural: string): ResourceKind => ({
  group: KAFKA_API_GROUP,
  version: KAFKA_API_VERSION,
  plural,
  kind,
});

/** The five kinds of crds/ (all namespaced). */
export const KAFKA_KINDS = {
  KafkaBackup: kafkaKind('KafkaBackup', 'kafkabackups'),
  KafkaRestore: kafkaKind('KafkaRestore', 'kafkarestores'),
  KafkaOffsetReset: kafkaKind('KafkaOffsetReset', 'kafkaoffsetresets'),
  KafkaOffsetRollback: kafkaKind('KafkaOffsetRollback', 'kafkaoffsetrollbacks'),
  KafkaBackupValidation: kafkaKind('KafkaBackupValidation', 'kafkabackupvalidations'),
} as const satisfies Record<string, ResourceKind>;

export const apiVersionOf = (kind: ResourceKind): string => `${kind.group}/${kind.version}`;

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  finalizers?: string[];
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [field: string]: unknown;
}

/** A Kubernetes object as JSON: the port does not interpret spec or status. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec?: unknown;
  status?: unknown;
  [field: string]: unknown;
}

/** Which object a reconcile is for: reconcilers read the object itself from the cache. */
export interface ObjectKey {
  readonly namespace: string;
  readonly name: string;
}

export const keyOf = (object: KubeObject): ObjectKey => ({
  namespace: object.metadata.namespace ?? '',
  name: object.metadata.name,
});

export const formatKey = (key: ObjectKey): string => `${key.namespace}/${key.name}`;

/** Setting this annotation to a new value asks a one-shot resource (or a schedule) for a new run. */
export const RERUN_ANNOTATION = 'kafka.oso.sh/rerun';
