import type { EventRecorder } from './event-recorder.ts';
import type { KubePort } from './kube/port.ts';
import type { KubeObject, ResourceKind } from './resource.ts';

/**
 * Status as kstatus and `kubectl wait` read it: `Ready`, `Reconciling` and `Stalled` conditions with
 * real transition times and the generation they describe, a `phase` for printer columns, and an
 * Event for every phase transition. Status is written only here, by the reconciler.
 */
export interface Condition {
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message?: string;
  readonly observedGeneration?: number;
  readonly lastTransitionTime: string;
}

export interface ConditionInput {
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message?: string;
}

/** Sets one condition; lastTransitionTime moves only when its status changes. */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  input: ConditionInput,
  generation: number | undefined,
  now: Date,
): Condition[] {
  const list = [...(conditions ?? [])];
  const i = list.findIndex((c) => c.type === input.type);
  const previous = i >= 0 ? list[i] : undefined;
  const next: Condition = {
    type: input.type,
    status: input.status,
    reason: input.reason,
    ...(input.message !== undefined ? { message: input.message.slice(0, 32_000) } : {}),
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    lastTransitionTime:
      previous && previous.status === input.status ? previous.lastTransitionTime : now.toISOString(),
  };
  if (i >= 0) list[i] = next;
  else list.push(next);
  return list;
}

export type Health = 'ready' | 'reconciling' | 'stalled' | 'failed';

/**
 * The three kstatus conditions for one state of the resource:
 * - ready: Ready=True (the last run or the schedule is healthy);
 * - reconciling: a run is going (Reconciling=True, Ready=False);
 * - stalled: cannot progress without a change (bad spec, missing Secret...), retried with backoff;
 * - failed: the last run failed for good (Ready=False, nothing in progress).
 */
export function healthConditions(
  conditions: readonly Condition[] | undefined,
  health: Health,
  reason: string,
  message: string,
  generation: number | undefined,
  now: Date,
): Condition[] {
  let list = setCondition(
    conditions,
    { type: 'Ready', status: health === 'ready' ? 'True' : 'False', reason, message },
    generation,
    now,
  );
  list = setCondition(
    list,
    {
      type: 'Reconciling',
      status: health === 'reconciling' ? 'True' : 'False',
      reason: health === 'reconciling' ? reason : 'Idle',
      ...(health === 'reconciling' ? { message } : {}),
    },
    generation,
    now,
  );
  list = setCondition(
    list,
    {
      type: 'Stalled',
      status: health === 'stalled' ? 'True' : 'False',
      reason: health === 'stalled' ? reason : 'Progressing',
      ...(health === 'stalled' ? { message } : {}),
    },
    generation,
    now,
  );
  return list;
}

export interface StatusWriterDeps {
  readonly client: KubePort;
  readonly recorder: EventRecorder;
}

/**
 * Writes the status subresource (a merge patch, so fields this reconcile does not own stay) and
 * records an Event when the phase changes. Null in `status` removes a field.
 */
export async function writeStatus(
  deps: StatusWriterDeps,
  kind: ResourceKind,
  object: KubeObject,
  status: Record<string, unknown>,
  event?: { readonly type: 'Normal' | 'Warning'; readonly reason: string; readonly note: string },
): Promise<KubeObject> {
  const namespace = object.metadata.namespace ?? '';
  const updated = await deps.client.patchStatus(kind, { namespace, name: object.metadata.name }, status);
  if (event) {
    const note = event.note.slice(0, 1000);
    if (event.type === 'Warning') await deps.recorder.warning(object, event.reason, event.reason, note);
    else await deps.recorder.normal(object, event.reason, event.reason, note);
  }
  return updated;
}

/** The status block of an object, as a record (empty before the first write). */
export function statusOf(object: KubeObject): Record<string, unknown> {
  return (object.status as Record<string, unknown> | undefined) ?? {};
}
