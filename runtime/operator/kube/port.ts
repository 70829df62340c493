/**
 * The narrow port over the Kubernetes API that the manager and reconcilers use, so that
 * reconcilers can be unit-tested with an in-memory fake. The adapter is ClientNodeKube
 * (@kubernetes/client-node). Every method rejects with a KubeApiError carrying the HTTP status.
 */
import type { KubeObject, ObjectKey, ResourceKind } from '../resource.ts';

export interface ListResult {
  readonly items: KubeObject[];
  /** The list's resourceVersion: the point to watch from. */
  readonly resourceVersion: string;
}

export type WatchEvent =
  | { readonly type: 'ADDED' | 'MODIFIED' | 'DELETED'; readonly object: KubeObject }
  | { readonly type: 'BOOKMARK'; readonly resourceVersion: string }
  | { readonly type: 'ERROR'; readonly code: number; readonly reason?: string; readonly message?: string };

export interface WatchRequest {
  /** Namespace to watch, or undefined for all namespaces. */
  readonly namespace: string | undefined;
  readonly resourceVersion: string;
  /** The server ends the watch after this long (a bounded watch is never silently stale forever). */
  readonly timeoutSeconds: number;
  /** Aborting ends the watch; the promise then resolves. */
  readonly signal: AbortSignal;
  readonly onEvent: (event: WatchEvent) => void;
}

/** Reading and writing our custom resources. */
export interface ResourceClient {
  /** Lists a kind in one namespace (or all, with undefined). */
  list(kind: ResourceKind, namespace: string | undefined): Promise<ListResult>;
  /** Streams changes until the server closes the watch (resolves) or it fails (rejects). */
  watch(kind: ResourceKind, request: WatchRequest): Promise<void>;
  /** The object, or undefined when it does not exist. */
  get(kind: ResourceKind, key: ObjectKey): Promise<KubeObject | undefined>;
  /** Replaces the object (PUT); metadata.resourceVersion makes it fail with 409 if the object changed. */
  replace(kind: ResourceKind, object: KubeObject): Promise<KubeObject>;
  /**
   * Merge-patches `status` through the status subresource. With `resourceVersion`, fails with 409
   * if the object changed since it was read.
   */
  patchStatus(
    kind: ResourceKind,
    key: ObjectKey,
    status: Record<string, unknown>,
    options?: { resourceVersion?: string },
  ): Promise<KubeObject>;
}

/** An events.k8s.io/v1 Event about one object. */
export interface EventRecord {
  readonly namespace: string;
  readonly regarding: {
    readonly apiVersion: string;
    readonly kind: string;
    readonly name: string;
    readonly namespace: string;
    readonly uid?: string;
    readonly resourceVersion?: string;
  };
  readonly type: 'Normal' | 'Warning';
  /** UpperCamelCase, machine-readable: BackupStarted, ReconcileFailed. */
  readonly reason: string;
  /** What the controller did or failed to do: Reconcile, Backup, Cleanup. */
  readonly action: string;
  /** Human-readable, at most 1 kB. */
  readonly note: string;
  readonly reportingController: string;
  readonly reportingInstance: string;
  readonly eventTime: Date;
}

export interface EventSink {
  createEvent(event: EventRecord): Promise<void>;
}

/** Secret values by key. The data never leaves the caller: never log it or put it in status. */
export interface SecretReader {
  /** The Secret's data (decoded), or undefined when it does not exist. Needs only `get`. */
  readSecret(key: ObjectKey): Promise<Record<string, Buffer> | undefined>;
}

/** The fields of a coordination.k8s.io/v1 Lease that leader election uses. */
export interface LeaseRecord {
  readonly namespace: string;
  readonly name: string;
  readonly resourceVersion?: string;
  readonly holderIdentity?: string;
  readonly leaseDurationSeconds?: number;
  readonly acquireTime?: Date;
  readonly renewTime?: Date;
  readonly leaseTransitions?: number;
}

export interface LeaseClient {
  getLease(key: ObjectKey): Promise<LeaseRecord | undefined>;
  /** Creates the Lease; 409 when it already exists. */
  createLease(lease: LeaseRecord): Promise<LeaseRecord>;
  /** Replaces the Lease; 409 when its resourceVersion is no longer current. */
  replaceLease(lease: LeaseRecord): Promise<LeaseRecord>;
}

/** A condition of a Job or a Pod. */
export interface ConditionView {
  readonly type: string;
  readonly status: string;
  readonly reason?: string;
  readonly message?: string;
  readonly lastTransitionTime?: string;
}

/** The fields of a batch/v1 Job the Job runner reads. */
export interface JobView {
  readonly namespace: string;
  readonly name: string;
  readonly uid?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly creationTimestamp?: string;
  readonly deletionTimestamp?: string;
  readonly startTime?: string;
  readonly completionTime?: string;
  readonly conditions: readonly ConditionView[];
}

/** The fields of a Pod of a Job the Job runner reads (the run container's state). */
export interface PodView {
  readonly name: string;
  readonly creationTimestamp?: string;
  readonly phase?: string;
  readonly conditions: readonly ConditionView[];
  readonly terminated?: {
    readonly exitCode: number;
    readonly reason?: string;
    /** The termination message (the run's report). */
    readonly message?: string;
    readonly finishedAt?: string;
  };
  readonly waiting?: { readonly reason?: string; readonly message?: string };
}

/** batch/v1 Jobs and their Pods, for the Job runner (RBAC: jobs create/get/list/delete, pods list). */
export interface JobClient {
  /** Creates the Job; 409 when one of that name exists. */
  createJob(job: KubeObject): Promise<JobView>;
  getJob(key: ObjectKey): Promise<JobView | undefined>;
  listJobs(namespace: string, labelSelector: string): Promise<JobView[]>;
  /** Deletes the Job and, through the propagation policy, its Pods; a Job already gone is fine. */
  deleteJob(key: ObjectKey, propagationPolicy: 'Background' | 'Foreground'): Promise<void>;
  listPods(namespace: string, labelSelector: string): Promise<PodView[]>;
}

/** Everything the operator needs from the Kubernetes API. */
export interface KubePort extends ResourceClient, EventSink, SecretReader, LeaseClient, JobClient {}

/**
 * The client-side limit of API requests (--kube-api-qps, --kube-api-burst). Reconciling 1,000 new
 * KafkaBackups takes about five requests each: at controller-runtime's old 20 per second that alone
 * took over four minutes (bench/results/operator-scale.md). 50 still keeps reconnecting informers or
 * a resync from flooding the API server, and leaves most of the pace to the reconciles themselves.
 */
export const DEFAULT_KUBE_API_RATE_LIMIT = { qps: 50, burst: 100 } as const;
