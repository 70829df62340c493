/**
 * The KafkaBackup "run-now" Argo CD action, executed in real Lua on objects of the real backup
 * reconciler, whose result is patched back the way Argo CD patches it (the difference only) and
 * reconciled again: the operator must start a run it calls a rerun.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RERUN_ANNOTATION } from '../../../runtime/operator/controllers/backup.ts';
import type { KubeObject } from '../../../runtime/operator/resource.ts';
import { asServed, customization, health, runArgoLua } from './argo-lua.ts';
import { backupHarness, backupSpec } from './operator-states.ts';

const discovery = (object: KubeObject) =>
  runArgoLua(customization('KafkaBackup/actions/discovery.lua'), object) as Promise<
    Record<string, { disabled: boolean; displayName: string; iconClass: string }>
  >;
const runNow = (object: KubeObject) =>
  runArgoLua(customization('KafkaBackup/actions/run-now/action.lua'), object) as Promise<KubeObject>;

/** What the reconciler says when it starts a run because decide() returned reason 'rerun'. */
const RERUN_STARTED = `run requested with the ${RERUN_ANNOTATION} annotation started`;
const STAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z(-\d+)?$/;

/** JSON with empty objects and arrays dropped: Lua cannot tell {} from [], nor Argo CD's patch. */
function comparable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(comparable);
  if (typeof value !== 'object' || value === null) return value;
  const entries = Object.entries(value)
    .map(([k, v]) => [k, comparable(v)] as const)
    .filter(([, v]) => !(typeof v === 'object' && v !== null && Object.keys(v).length === 0));
  return Object.fromEntries(entries);
}

/** Runs the action and applies its result as Argo CD does; returns the value it set. */
async function clickRunNow(h: ReturnType<typeof backupHarness>): Promise<string> {
  const live = await h.object();
  const returned = await runNow(live);
  const value = returned.metadata.annotations?.[RERUN_ANNOTATION];
  assert.ok(value, 'the action sets the annotation');
  assert.match(value, STAMP);
  // Nothing but that annotation changed: Argo CD's patch of the difference is the annotation alone.
  const expected = asServed(live);
  expected.metadata.annotations = { ...expected.metadata.annotations, [RERUN_ANNOTATION]: value };
  assert.deepEqual(comparable(returned), comparable(expected));
  await h.update((o) => {
    o.metadata.annotations = { ...o.metadata.annotations, [RERUN_ANNOTATION]: value };
  });
  return value;
}

describe('the KafkaBackup run-now action', () => {
  test('discovery offers it when idle, not while a run goes or a request waits', async () => {
    const h = backupHarness(backupSpec);
    await h.reconcile();
    const running = await h.object();
    assert.deepEqual(await discovery(running), {
      'run-now': { disabled: true, displayName: 'Run backup now', iconClass: 'fa fa-fw fa-play' },
    });
    await h.finishRun();
    const idle = await h.object();
    assert.equal((await discovery(idle))['run-now']?.disabled, false);
    await clickRunNow(h);
    assert.equal(
      (await discovery(await h.object()))['run-now']?.disabled,
      true,
      'requested, not yet taken up',
    );
  });

  test('a click makes the backup reconciler start a rerun; a second click another one', async () => {
    const h = backupHarness(backupSpec);
    await h.reconcile();
    await h.finishRun();
    assert.equal((await health(await h.object())).status, 'Healthy');
    assert.equal(h.runner.size, 0, 'a one-run backup does not run again by itself');

    const first = await clickRunNow(h);
    await h.reconcile();
    let object = await h.object();
    let status = object.status as Record<string, unknown>;
    assert.equal(status.phase, 'Running');
    assert.equal(status.observedRerun, first);
    assert.deepEqual(await health(object), { status: 'Progressing', message: RERUN_STARTED });
    assert.equal(h.kube.events.at(-1)?.note, RERUN_STARTED);
    await h.finishRun();
    assert.equal((await health(await h.object())).status, 'Healthy');

    // Again, at once (most likely in the same second): the value must differ, or nothing runs.
    const second = await clickRunNow(h);
    assert.notEqual(second, first);
    await h.reconcile();
    object = await h.object();
    status = object.status as Record<string, unknown>;
    assert.deepEqual([status.phase, status.observedRerun], ['Running', second]);
    assert.equal(h.kube.events.at(-1)?.note, RERUN_STARTED);
    await h.finishRun();
  });

  test('it runs a suspended scheduled backup too (a rerun is an explicit request)', async () => {
    const h = backupHarness({ ...backupSpec, schedule: '0 0 * * *', suspend: true });
    await h.reconcile();
    assert.equal((await health(await h.object())).status, 'Suspended');
    assert.equal((await discovery(await h.object()))['run-now']?.disabled, false);
    const value = await clickRunNow(h);
    await h.reconcile();
    const status = (await h.object()).status as Record<string, unknown>;
    assert.deepEqual([status.phase, status.observedRerun], ['Running', value]);
    assert.equal(h.kube.events.at(-1)?.note, RERUN_STARTED);
    await h.finishRun();
    assert.equal((await health(await h.object())).status, 'Suspended', 'suspended again after the run');
  });
});
