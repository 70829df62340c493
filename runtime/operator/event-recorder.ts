/**
 * Kubernetes Events (events.k8s.io/v1, which the operator's RBAC grants in every watched
 * namespace) about our objects. Recording never fails a reconcile: an Event that cannot be
 * written is logged and dropped. The same Event for the same object is written at most once per
 * throttle window, so a reconcile retried with backoff does not flood the namespace.
 */
import { type Logger, silentLogger } from '../log.ts';
import type { EventSink } from './kube/port.ts';
import type { KubeObject } from './resource.ts';

export interface EventRecorderOptions {
  /** reportingController of every Event. @default 'kafka.oso.sh/kafka-backup-operator' */
  readonly controller?: string;
  /** reportingInstance: this replica. */
  readonly instance: string;
  /** @default 300000 */
  readonly throttleMs?: number;
  readonly log?: Logger;
}

export class EventRecorder {
  private readonly recent = new Map<string, number>();
  private readonly controller: string;
  private readonly throttleMs: number;
  private readonly log: Logger;

  constructor(
    private readonly sink: EventSink,
    private readonly options: EventRecorderOptions,
  ) {
    this.controller = options.controller ?? 'kafka.oso.sh/kafka-backup-operator';
    this.throttleMs = options.throttleMs ?? 300_000;
    this.log = options.log ?? silentLogger;
  }

  normal(object: KubeObject, reason: string, action: string, note: string): Promise<void> {
    return this.record(object, 'Normal', reason, action, note);
  }

  warning(object: KubeObject, reason: string, action: string, note: string): Promise<void> {
    return this.record(object, 'Warning', reason, action, note);
  }

  async record(
    object: KubeObject,
    type: 'Normal' | 'Warning',
    reason: string,
    action: string,
    note: string,
  ): Promise<void> {
    const namespace = object.metadata.namespace ?? 'default';
    const id = `${object.metadata.uid ?? `${namespace}/${object.metadata.name}`}|${type}|${reason}|${note}`;
    const now = Date.now();
    const last = this.recent.get(id);
    if (last !== undefined && now - last < this.throttleMs) return;
    this.recent.set(id, now);
    if (this.recent.size > 10_000) this.forgetOlderThan(now - this.throttleMs);
    try {
      await this.sink.createEvent({
        namespace,
        regarding: {
          apiVersion: object.apiVersion ?? '',
          kind: object.kind ?? '',
          name: object.metadata.name,
          namespace,
          uid: object.metadata.uid,
          resourceVersion: object.metadata.resourceVersion,
        },
        type,
        reason,
        action,
        note,
        reportingController: this.controller,
        reportingInstance: this.options.instance,
        eventTime: new Date(now),
      });
    } catch (error) {
      this.recent.delete(id);
      this.log.warn('could not record an Event', {
        error,
        reason,
        object: `${namespace}/${object.metadata.name}`,
      });
    }
  }

  private forgetOlderThan(limit: number): void {
    for (const [id, at] of this.recent) if (at < limit) this.recent.delete(id);
  }
}
