/**
 * The reconcile contract, as in controller-runtime: a controller is handed a key, never an event;
 * it reads the object from the cache (level-based), acts, and returns when to look again.
 * Throwing retries the key with backoff; throwing a TerminalError (or any error with
 * `terminal: true`) does not.
 */
import type { Logger } from '../log.ts';
import type { EventRecorder } from './event-recorder.ts';
import type { KubePort } from './kube/port.ts';
import type { CacheReader } from './object-cache.ts';
import type { KubeObject, ObjectKey, ResourceKind } from './resource.ts';

export interface ReconcileResult {
  /** Reconcile this key again after this long (a schedule's next run, a poll of a running Job). */
  readonly requeueAfterMs?: number;
}

export interface ReconcileContext {
  /** The objects of the controller's kind; the object of `key` is `cache.get(key)` (undefined once deleted). */
  readonly cache: CacheReader;
  /** The cache of any kind the manager watches (a restore reads the backup it refers to). */
  cacheOf(kind: ResourceKind): CacheReader;
  /** Writes (status, finalizers), Secrets (never log their data), Leases. */
  readonly client: KubePort;
  readonly recorder: EventRecorder;
  /** Carries kind, namespace and name. */
  readonly log: Logger;
  /** Aborted when this replica stops leading, or when shutdown's grace period ends: stop promptly. */
  readonly signal: AbortSignal;
}

export interface WatchedKind {
  readonly kind: ResourceKind;
  /** The objects of the controller's own kind that depend on `object` (from `own`, its cache). */
  keysFor?(object: KubeObject, own: CacheReader): ObjectKey[];
}

export interface Controller {
  readonly kind: ResourceKind;
  /**
   * Other kinds this controller reads through `cacheOf` (a validation reads its KafkaBackup): they
   * are cached, and a change of one of them reconciles the keys `keysFor` names.
   */
  readonly watches?: readonly WatchedKind[];
  // biome-ignore lint/suspicious/noConfusingVoidType: an async reconcile with nothing to requeue returns nothing
  reconcile(key: ObjectKey, context: ReconcileContext): Promise<ReconcileResult | void>;
}
