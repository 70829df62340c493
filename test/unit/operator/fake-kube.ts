/**
 * An in-memory KubePort for unit tests of the manager's parts and of reconcilers: objects and
 * Leases with resourceVersions that are checked on write (409 on a stale one, as the API server
 * does), recorded Events, Secrets. Watches deliver nothing and end when aborted.
 */
import { silentLogger } from '../../../runtime/log.ts';
import type { Controller, ReconcileContext, ReconcileResult } from '../../../runtime/operator/controller.ts';
import { KubeApiError } from '../../../runtime/operator/errors.ts';
import type { EventRecorder } from '../../../runtime/operator/event-recorder.ts';
import { toJobView } from '../../../runtime/operator/kube/client-node-kube.ts';
import type {
  EventRecord,
  JobView,
  KubePort,
  LeaseRecord,
  ListResult,
  PodView,
  WatchRequest,
} from '../../../runtime/operator/kube/port.ts';
import { ObjectCache } from '../../../runtime/operator/object-cache.ts';
import {
  formatKey,
  type KubeObject,
  type ObjectKey,
  type ResourceKind,
} from '../../../runtime/operator/resource.ts';

export class FakeKube implements KubePort {
  readonly objects = new Map<string, KubeObject>();
  readonly leases = new Map<string, LeaseRecord>();
  readonly events: EventRecord[] = [];
  readonly secrets = new Map<string, Record<string, Buffer>>();
  /** Jobs as created (manifests), by namespace/name; tests set their status to move them on. */
  readonly jobs = new Map<string, KubeObject>();
  /** Pods by namespace, with the labels a selector matches (tests add them, as the Job controller would). */
  readonly pods = new Map<string, { labels: Record<string, string>; pod: PodView }[]>();
  /** Every Job deletion: name and propagation policy. */
  readonly deletedJobs: { name: string; propagationPolicy: string }[] = [];
  /** Make every Lease call fail (an API server that cannot be reached). */
  leaseOutage = false;
  private version = 1;

  private id(kind: ResourceKind, key: ObjectKey) {
    return `${kind.plural}/${formatKey(key)}`;
  }

  put(kind: ResourceKind, object: KubeObject): KubeObject {
    const stored = { ...object, metadata: { ...object.metadata, resourceVersion: String(++this.version) } };
    this.objects.set(
      this.id(kind, { namespace: object.metadata.namespace ?? '', name: object.metadata.name }),
      stored,
    );
    return stored;
  }

  async list(kind: ResourceKind, namespace: string | undefined): Promise<ListResult> {
    const items = [...this.objects.entries()]
      .filter(([id]) => id.startsWith(`${kind.plural}/${namespace === undefined ? '' : `${namespace}/`}`))
      .map(([, o]) => o);
    return { items, resourceVersion: String(this.version) };
  }

  watch(_kind: ResourceKind, request: WatchRequest): Promise<void> {
    return new Promise((resolve) =>
      request.signal.addEventListener('abort', () => resolve(), { once: true }),
    );
  }

  async get(kind: ResourceKind, key: ObjectKey): Promise<KubeObject | undefined> {
    return this.objects.get(this.id(kind, key));
  }

  async replace(kind: ResourceKind, object: KubeObject): Promise<KubeObject> {
    const key = { namespace: object.metadata.namespace ?? '', name: object.metadata.name };
    const current = this.objects.get(this.id(kind, key));
    if (!current) throw new KubeApiError(404, 'not found', 'NotFound');
    if (object.metadata.resourceVersion !== current.metadata.resourceVersion) {
      throw new KubeApiError(409, 'the object has been modified', 'Conflict');
    }
    return this.put(kind, object);
  }

  async patchStatus(
    kind: ResourceKind,
    key: ObjectKey,
    status: Record<string, unknown>,
    options: { resourceVersion?: string } = {},
  ): Promise<KubeObject> {
    const current = this.objects.get(this.id(kind, key));
    if (!current) throw new KubeApiError(404, 'not found', 'NotFound');
    if (options.resourceVersion && options.resourceVersion !== current.metadata.resourceVersion) {
      throw new KubeApiError(409, 'the object has been modified', 'Conflict');
    }
    return this.put(kind, { ...current, status: { ...(current.status as object), ...status } });
  }

  async createEvent(event: EventRecord): Promise<void> {
    this.events.push(event);
  }

  async readSecret(key: ObjectKey): Promise<Record<string, Buffer> | undefined> {
    return this.secrets.get(formatKey(key));
  }

  async createJob(job: KubeObject): Promise<JobView> {
    const id = formatKey({ namespace: job.metadata.namespace ?? '', name: job.metadata.name });
    if (this.jobs.has(id)) throw new KubeApiError(409, 'already exists', 'AlreadyExists');
    const stored = {
      ...job,
      metadata: {
        ...job.metadata,
        uid: `uid-${job.metadata.name}`,
        creationTimestamp: new Date().toISOString(),
      },
    };
    this.jobs.set(id, stored);
    return toJobView(stored);
  }

  async getJob(key: ObjectKey): Promise<JobView | undefined> {
    const job = this.jobs.get(formatKey(key));
    return job ? toJobView(job) : undefined;
  }

  async listJobs(namespace: string, labelSelector: string): Promise<JobView[]> {
    return [...this.jobs.values()]
      .filter((j) => j.metadata.namespace === namespace && matches(j.metadata.labels ?? {}, labelSelector))
      .map(toJobView);
  }

  async deleteJob(key: ObjectKey, propagationPolicy: 'Background' | 'Foreground'): Promise<void> {
    this.deletedJobs.push({ name: key.name, propagationPolicy });
    this.jobs.delete(formatKey(key));
  }

  async listPods(namespace: string, labelSelector: string): Promise<PodView[]> {
    return (this.pods.get(namespace) ?? []).filter((p) => matches(p.labels, labelSelector)).map((p) => p.pod);
  }

  /** Sets a Job's status (as the Job controller would). */
  setJobStatus(key: ObjectKey, status: Record<string, unknown>): void {
    const id = formatKey(key);
    const job = this.jobs.get(id);
    if (!job) throw new Error(`no Job ${id}`);
    this.jobs.set(id, { ...job, status });
  }

  /** Adds a Pod of Job `job` (labelled as the Job controller labels them). */
  addPod(namespace: string, job: string, pod: PodView): void {
    const list = this.pods.get(namespace) ?? [];
    list.push({ labels: { 'batch.kubernetes.io/job-name': job, 'job-name': job }, pod });
    this.pods.set(namespace, list);
  }

  async getLease(key: ObjectKey): Promise<LeaseRecord | undefined> {
    if (this.leaseOutage) throw new KubeApiError(0, 'connection refused');
    return this.leases.get(formatKey(key));
  }

  async createLease(lease: LeaseRecord): Promise<LeaseRecord> {
    if (this.leaseOutage) throw new KubeApiError(0, 'connection refused');
    const id = formatKey(lease);
    if (this.leases.has(id)) throw new KubeApiError(409, 'already exists', 'AlreadyExists');
    const stored = { ...lease, resourceVersion: String(++this.version) };
    this.leases.set(id, stored);
    return stored;
  }

  async replaceLease(lease: LeaseRecord): Promise<LeaseRecord> {
    if (this.leaseOutage) throw new KubeApiError(0, 'connection refused');
    const id = formatKey(lease);
    const current = this.leases.get(id);
    if (!current) throw new KubeApiError(404, 'not found', 'NotFound');
    if (current.resourceVersion !== lease.resourceVersion)
      throw new KubeApiError(409, 'modified', 'Conflict');
    const stored = { ...lease, resourceVersion: String(++this.version) };
    this.leases.set(id, stored);
    return stored;
  }
}

/** Equality-based label selectors (`a=b,c=d`), the only kind the operator uses. */
function matches(labels: Record<string, string>, selector: string): boolean {
  return selector
    .split(',')
    .filter(Boolean)
    .every((term) => {
      const [k, v] = term.split('=') as [string, string];
      return labels[k] === v;
    });
}

/**
 * One reconcile of `key` by `controller`, with a cache holding what the fake API server holds now
 * (as an informer that has caught up would) and events recorded on it.
 */
export async function reconcileOnce(
  controller: Controller,
  kube: FakeKube,
  key: ObjectKey,
  recorder: EventRecorder,
): Promise<ReconcileResult | undefined> {
  const cache = new ObjectCache();
  const object = await kube.get(controller.kind, key);
  if (object) cache.upsert(object);
  const context: ReconcileContext = {
    cache,
    cacheOf: () => cache,
    client: kube,
    recorder,
    log: silentLogger,
    signal: new AbortController().signal,
  };
  return (await controller.reconcile(key, context)) ?? undefined;
}
