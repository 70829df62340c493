/**
 * The KubePort on @kubernetes/client-node: generated API clients for requests (each bounded by a
 * timeout, so a hung API server cannot hang a reconcile or the leader election), and the
 * library's Watch for streams.
 */
import { randomInt } from 'node:crypto';
import {
  ApiException,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  EventsV1Api,
  type KubeConfig,
  Observable,
  type RequestContext,
  type ResponseContext,
  setHeaderOptions,
  type V1Lease,
  V1MicroTime,
  Watch,
} from '@kubernetes/client-node';
import { TokenBucket } from '../../storage/rate-limit.ts';
import { KubeApiError } from '../errors.ts';
import type { KubeObject, ObjectKey, ResourceKind } from '../resource.ts';
import {
  type ConditionView,
  DEFAULT_KUBE_API_RATE_LIMIT,
  type EventRecord,
  type JobView,
  type KubePort,
  type LeaseRecord,
  type ListResult,
  type PodView,
  type WatchEvent,
  type WatchRequest,
} from './port.ts';

export interface ClientNodeKubeOptions {
  /** Bound of one request (not of a watch). @default 30000 */
  readonly requestTimeoutMs?: number;
  /** Page size of lists. @default 500 */
  readonly pageSize?: number;
  /**
   * Client-side rate limit of requests and watch opens, as client-go's QPS and burst: after an
   * outage, every informer reconnecting at once is spread out. Null: no client-side limit (the API
   * server's priority and fairness still applies).
   * @default DEFAULT_KUBE_API_RATE_LIMIT
   */
  readonly rateLimit?: { readonly qps: number; readonly burst: number } | null;
}

type RequestOptions = NonNullable<Parameters<CustomObjectsApi['getNamespacedCustomObject']>[1]>;

export class ClientNodeKube implements KubePort {
  private readonly custom: CustomObjectsApi;
  private readonly core: CoreV1Api;
  private readonly events: EventsV1Api;
  private readonly coordination: CoordinationV1Api;
  private readonly watcher: Watch;
  private readonly requestTimeoutMs: number;
  private readonly pageSize: number;
  private readonly limiter: TokenBucket | undefined;

  constructor(config: KubeConfig, options: ClientNodeKubeOptions = {}) {
    this.custom = config.makeApiClient(CustomObjectsApi);
    this.core = config.makeApiClient(CoreV1Api);
    this.events = config.makeApiClient(EventsV1Api);
    this.coordination = config.makeApiClient(CoordinationV1Api);
    this.watcher = new Watch(config);
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.pageSize = options.pageSize ?? 500;
    const limit = options.rateLimit === undefined ? DEFAULT_KUBE_API_RATE_LIMIT : options.rateLimit;
    this.limiter = limit ? new TokenBucket(limit.qps, { burst: limit.burst }) : undefined;
  }

  async list(kind: ResourceKind, namespace: string | undefined): Promise<ListResult> {
    const items: KubeObject[] = [];
    let resourceVersion = '';
    let token: string | undefined;
    do {
      const page = {
        group: kind.group,
        version: kind.version,
        plural: kind.plural,
        limit: this.pageSize,
        _continue: token,
      };
      const list = (await this.call(`list ${kind.plural}`, (o) =>
        namespace === undefined
          ? this.custom.listCustomObjectForAllNamespaces(page, o)
          : this.custom.listNamespacedCustomObject({ ...page, namespace }, o),
      )) as { items?: KubeObject[]; metadata?: { resourceVersion?: string; continue?: string } };
      for (const item of list.items ?? []) {
        // Lists omit apiVersion/kind on items; reconcilers and events want them.
        items.push({ ...item, apiVersion: `${kind.group}/${kind.version}`, kind: kind.kind });
      }
      resourceVersion = list.metadata?.resourceVersion ?? resourceVersion;
      token = list.metadata?.continue || undefined;
    } while (token);
    return { items, resourceVersion };
  }

  async watch(kind: ResourceKind, request: WatchRequest): Promise<void> {
    await this.limiter?.take(1);
    const base = `/apis/${kind.group}/${kind.version}`;
    const path =
      request.namespace === undefined
        ? `${base}/${kind.plural}`
        : `${base}/namespaces/${encodeURIComponent(request.namespace)}/${kind.plural}`;
    return new Promise<void>((resolve, reject) => {
      if (request.signal.aborted) return resolve();
      let settled = false;
      let controller: AbortController | undefined;
      const finish = (error?: unknown) => {
        if (settled) return;
        settled = true;
        request.signal.removeEventListener('abort', onAbort);
        controller?.abort();
        if (error === undefined || request.signal.aborted) resolve();
        else reject(toKubeApiError(error, `watch ${kind.plural}`));
      };
      // The Watch hands out its AbortController only once the response headers arrived; an abort
      // before that (a hung connect) ends our side at once and the request when it returns.
      const onAbort = () => finish();
      request.signal.addEventListener('abort', onAbort, { once: true });
      this.watcher
        .watch(
          path,
          {
            resourceVersion: request.resourceVersion,
            allowWatchBookmarks: true,
            timeoutSeconds: request.timeoutSeconds,
          },
          (type: string, object: unknown) => {
            if (!settled) request.onEvent(toWatchEvent(type, object, kind));
          },
          (error: unknown) => finish(error ?? undefined),
        )
        .then((c) => {
          controller = c;
          if (settled) c.abort();
        }, finish);
    });
  }

  async get(kind: ResourceKind, key: ObjectKey): Promise<KubeObject | undefined> {
    try {
      return (await this.call(`get ${kind.plural} ${key.namespace}/${key.name}`, (o) =>
        this.custom.getNamespacedCustomObject({ ...resource(kind, key) }, o),
      )) as KubeObject;
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 404) return undefined;
      throw error;
    }
  }

  async replace(kind: ResourceKind, object: KubeObject): Promise<KubeObject> {
    const key = { namespace: object.metadata.namespace ?? '', name: object.metadata.name };
    return (await this.call(`update ${kind.plural} ${key.namespace}/${key.name}`, (o) =>
      this.custom.replaceNamespacedCustomObject({ ...resource(kind, key), body: object }, o),
    )) as KubeObject;
  }

  async patchStatus(
    kind: ResourceKind,
    key: ObjectKey,
    status: Record<string, unknown>,
    options: { resourceVersion?: string } = {},
  ): Promise<KubeObject> {
    // A merge patch with metadata.resourceVersion is an optimistic-concurrency precondition.
    const body = {
      ...(options.resourceVersion ? { metadata: { resourceVersion: options.resourceVersion } } : {}),
      status,
    };
    return (await this.call(
      `patch ${kind.plural}/status ${key.namespace}/${key.name}`,
      (o) => this.custom.patchNamespacedCustomObjectStatus({ ...resource(kind, key), body }, o),
      'application/merge-patch+json',
    )) as KubeObject;
  }

  async createEvent(event: EventRecord): Promise<void> {
    const eventTime = new V1MicroTime(event.eventTime.getTime());
    await this.call(`create event ${event.namespace}`, (o) =>
      this.events.createNamespacedEvent(
        {
          namespace: event.namespace,
          body: {
            // Named as client-go names Events: the object's name and a unique hex time.
            metadata: { name: eventName(event), namespace: event.namespace },
            eventTime,
            type: event.type,
            reason: event.reason,
            action: event.action,
            note: event.note.slice(0, 1024),
            regarding: event.regarding,
            reportingController: event.reportingController,
            reportingInstance: event.reportingInstance,
          },
        },
        o,
      ),
    );
  }

  async readSecret(key: ObjectKey): Promise<Record<string, Buffer> | undefined> {
    try {
      const secret = await this.call(`get secret ${key.namespace}/${key.name}`, (o) =>
        this.core.readNamespacedSecret({ namespace: key.namespace, name: key.name }, o),
      );
      const data: Record<string, Buffer> = {};
      for (const [k, v] of Object.entries(secret.data ?? {})) data[k] = Buffer.from(v, 'base64');
      for (const [k, v] of Object.entries(secret.stringData ?? {})) data[k] = Buffer.from(v, 'utf8');
      return data;
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 404) return undefined;
      throw error;
    }
  }

  async getLease(key: ObjectKey): Promise<LeaseRecord | undefined> {
    try {
      const lease = await this.call(`get lease ${key.namespace}/${key.name}`, (o) =>
        this.coordination.readNamespacedLease({ namespace: key.namespace, name: key.name }, o),
      );
      return fromLease(lease);
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 404) return undefined;
      throw error;
    }
  }

  async createLease(lease: LeaseRecord): Promise<LeaseRecord> {
    return fromLease(
      await this.call(`create lease ${lease.namespace}/${lease.name}`, (o) =>
        this.coordination.createNamespacedLease({ namespace: lease.namespace, body: toLease(lease) }, o),
      ),
    );
  }

  async replaceLease(lease: LeaseRecord): Promise<LeaseRecord> {
    return fromLease(
      await this.call(`update lease ${lease.namespace}/${lease.name}`, (o) =>
        this.coordination.replaceNamespacedLease(
          { namespace: lease.namespace, name: lease.name, body: toLease(lease) },
          o,
        ),
      ),
    );
  }

  // Jobs through the custom objects client: it speaks plain JSON for any group (batch/v1 included).
  async createJob(job: KubeObject): Promise<JobView> {
    const namespace = job.metadata.namespace ?? '';
    return toJobView(
      await this.call(`create job ${namespace}/${job.metadata.name}`, (o) =>
        this.custom.createNamespacedCustomObject({ ...JOBS, namespace, body: job }, o),
      ),
    );
  }

  async getJob(key: ObjectKey): Promise<JobView | undefined> {
    try {
      return toJobView(
        await this.call(`get job ${key.namespace}/${key.name}`, (o) =>
          this.custom.getNamespacedCustomObject({ ...JOBS, ...key }, o),
        ),
      );
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 404) return undefined;
      throw error;
    }
  }

  async listJobs(namespace: string, labelSelector: string): Promise<JobView[]> {
    const list = (await this.call(`list jobs ${namespace}`, (o) =>
      this.custom.listNamespacedCustomObject({ ...JOBS, namespace, labelSelector }, o),
    )) as { items?: unknown[] };
    return (list.items ?? []).map(toJobView);
  }

  async deleteJob(key: ObjectKey, propagationPolicy: 'Background' | 'Foreground'): Promise<void> {
    try {
      await this.call(`delete job ${key.namespace}/${key.name}`, (o) =>
        this.custom.deleteNamespacedCustomObject({ ...JOBS, ...key, propagationPolicy }, o),
      );
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 404) return;
      throw error;
    }
  }

  async listPods(namespace: string, labelSelector: string): Promise<PodView[]> {
    const list = await this.call(`list pods ${namespace}`, (o) =>
      this.core.listNamespacedPod({ namespace, labelSelector }, o),
    );
    return list.items.map((pod) => {
      const status = pod.status;
      const container =
        status?.containerStatuses?.find((c) => c.name === 'run') ?? status?.containerStatuses?.[0];
      const terminated = container?.state?.terminated;
      const waiting = container?.state?.waiting;
      return {
        name: pod.metadata?.name ?? '',
        ...(pod.metadata?.creationTimestamp
          ? { creationTimestamp: iso(pod.metadata.creationTimestamp) }
          : {}),
        ...(status?.phase ? { phase: status.phase } : {}),
        conditions: (status?.conditions ?? []).map((c) => ({
          type: c.type,
          status: c.status,
          ...(c.reason ? { reason: c.reason } : {}),
          ...(c.message ? { message: c.message } : {}),
        })),
        ...(terminated
          ? {
              terminated: {
                exitCode: terminated.exitCode,
                ...(terminated.reason ? { reason: terminated.reason } : {}),
                ...(terminated.message ? { message: terminated.message } : {}),
                ...(terminated.finishedAt ? { finishedAt: iso(terminated.finishedAt) } : {}),
              },
            }
          : {}),
        ...(waiting ? { waiting: { reason: waiting.reason, message: waiting.message } } : {}),
      };
    });
  }

  /** Runs one request with a timeout (and a content type), mapping failures to KubeApiError. */
  private async call<T>(
    what: string,
    request: (options: RequestOptions) => Promise<T>,
    contentType?: string,
  ): Promise<T> {
    const timeout = timeoutOptions(this.requestTimeoutMs);
    const options = contentType ? setHeaderOptions('Content-Type', contentType, timeout) : timeout;
    await this.limiter?.take(1);
    try {
      return await request(options);
    } catch (error) {
      throw toKubeApiError(error, what);
    }
  }
}

const JOBS = { group: 'batch', version: 'v1', plural: 'jobs' } as const;

function iso(value: Date | string): string {
  return value instanceof Date ? value.toISOString() : String(value);
}

/** A Job as plain JSON (the custom objects client does not deserialize it) to the runner's view. */
export function toJobView(raw: unknown): JobView {
  const job = (raw ?? {}) as {
    metadata?: Record<string, unknown>;
    status?: { startTime?: string; completionTime?: string; conditions?: ConditionView[] };
  };
  const m = job.metadata ?? {};
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const creationTimestamp = str(m.creationTimestamp);
  const deletionTimestamp = str(m.deletionTimestamp);
  const uid = str(m.uid);
  return {
    namespace: str(m.namespace) ?? '',
    name: str(m.name) ?? '',
    ...(uid ? { uid } : {}),
    labels: (m.labels as Record<string, string> | undefined) ?? {},
    annotations: (m.annotations as Record<string, string> | undefined) ?? {},
    ...(creationTimestamp ? { creationTimestamp } : {}),
    ...(deletionTimestamp ? { deletionTimestamp } : {}),
    ...(job.status?.startTime ? { startTime: job.status.startTime } : {}),
    ...(job.status?.completionTime ? { completionTime: job.status.completionTime } : {}),
    conditions: job.status?.conditions ?? [],
  };
}

function eventName(event: EventRecord): string {
  const nanos = BigInt(event.eventTime.getTime()) * 1_000_000n + BigInt(randomInt(1_000_000));
  return `${event.regarding.name}.${nanos.toString(16)}`;
}

function resource(kind: ResourceKind, key: ObjectKey) {
  return { group: kind.group, version: kind.version, plural: kind.plural, ...key };
}

/** Client options whose middleware aborts the request after `ms`. */
function timeoutOptions(ms: number): RequestOptions {
  return {
    middleware: [
      {
        pre: (context: RequestContext) => {
          context.setSignal(AbortSignal.timeout(ms));
          return new Observable(Promise.resolve(context));
        },
        post: (response: ResponseContext) => new Observable(Promise.resolve(response)),
      },
    ],
    middlewareMergeStrategy: 'append',
  };
}

function toWatchEvent(type: string, object: unknown, kind: ResourceKind): WatchEvent {
  const o = (object ?? {}) as KubeObject & { code?: number; reason?: string; message?: string };
  switch (type) {
    case 'ADDED':
    case 'MODIFIED':
    case 'DELETED':
      return { type, object: { ...o, apiVersion: `${kind.group}/${kind.version}`, kind: kind.kind } };
    case 'BOOKMARK':
      return { type, resourceVersion: o.metadata?.resourceVersion ?? '' };
    default:
      return { type: 'ERROR', code: o.code ?? 500, reason: o.reason, message: o.message };
  }
}

function toKubeApiError(error: unknown, what: string): KubeApiError {
  if (error instanceof KubeApiError) return error;
  if (error instanceof ApiException) {
    const body = parseBody(error.body);
    const message = body?.message ?? `HTTP ${error.code}`;
    return new KubeApiError(error.code, `${what}: ${message}`, body?.reason, { cause: error });
  }
  const status = (error as { statusCode?: unknown })?.statusCode;
  if (typeof status === 'number') {
    return new KubeApiError(status, `${what}: HTTP ${status}`, undefined, { cause: error });
  }
  // No response at all (connection refused or reset, timeout): status 0.
  const message = error instanceof Error ? error.message : String(error);
  return new KubeApiError(0, `${what}: ${message}`, undefined, { cause: error });
}

function parseBody(body: unknown): { message?: string; reason?: string } | undefined {
  if (typeof body === 'string') {
    try {
      return JSON.parse(body) as { message?: string; reason?: string };
    } catch {
      return { message: body.slice(0, 200) };
    }
  }
  return typeof body === 'object' && body !== null
    ? (body as { message?: string; reason?: string })
    : undefined;
}

function toLease(lease: LeaseRecord): V1Lease {
  const micro = (d: Date | undefined) => (d ? new V1MicroTime(d.getTime()) : undefined);
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: lease.name, namespace: lease.namespace, resourceVersion: lease.resourceVersion },
    spec: {
      holderIdentity: lease.holderIdentity,
      leaseDurationSeconds: lease.leaseDurationSeconds,
      acquireTime: micro(lease.acquireTime),
      renewTime: micro(lease.renewTime),
      leaseTransitions: lease.leaseTransitions,
    },
  };
}

function fromLease(lease: V1Lease): LeaseRecord {
  const spec = lease.spec ?? {};
  return {
    namespace: lease.metadata?.namespace ?? '',
    name: lease.metadata?.name ?? '',
    resourceVersion: lease.metadata?.resourceVersion,
    holderIdentity: spec.holderIdentity || undefined,
    leaseDurationSeconds: spec.leaseDurationSeconds,
    acquireTime: spec.acquireTime ? new Date(spec.acquireTime) : undefined,
    renewTime: spec.renewTime ? new Date(spec.renewTime) : undefined,
    leaseTransitions: spec.leaseTransitions,
  };
}
