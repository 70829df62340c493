/**
 * The one-shot reconciler's finalizer: on the resource exactly while it leaves something outside
 * itself; on deletion the cleanup runs once it can, then the finalizer goes; a cleanup that keeps
 * failing is retried, then let go with a Warning, so a deletion is never stuck for good.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { silentLogger } from '../../../../runtime/log.ts';
import { runMetricsOf } from '../../../../runtime/metrics/run-metrics.ts';
import {
  CLEANUP_GIVE_UP_MS,
  type OneShotKind,
  oneShotController,
} from '../../../../runtime/operator/controllers/one-shot.ts';
import { UnresolvedReferenceError } from '../../../../runtime/operator/controllers/references.ts';
import { EventRecorder } from '../../../../runtime/operator/event-recorder.ts';
import { KAFKA_KINDS, type KubeObject } from '../../../../runtime/operator/resource.ts';
import { InProcessRunner } from '../../../../runtime/operator/runs/runner.ts';
import { FakeKube, reconcileOnce } from '../fake-kube.ts';

const KIND = KAFKA_KINDS.KafkaRestore;
const key = { namespace: 'ns', name: 'r' };
const FINALIZER = 'kafka.oso.sh/test-cleanup';

function harness(leftBehind: boolean) {
  const kube = new FakeKube();
  kube.put(KIND, {
    metadata: { ...key, generation: 1, uid: 'u-1' },
    spec: {},
    status: { phase: 'Completed', observedGeneration: 1, startTime: '2026-12-03T11:00:00Z', leftBehind },
  });
  let clock = new Date('2026-12-03T12:00:00Z');
  const cleanups: string[] = [];
  let cleanupError: Error | undefined;
  const kind: OneShotKind<string> = {
    kind: KIND,
    noun: 'Restore',
    prepare: async () => assert.fail('a finished resource is not prepared again'),
    outcome: () => assert.fail('no run ends here'),
    cleanup: {
      finalizer: FINALIZER,
      needed: (status) => status.leftBehind === true,
      async run(object) {
        if (cleanupError) throw cleanupError;
        cleanups.push(object.metadata.name);
        return 'the snapshot deleted';
      },
    },
  };
  const controller = oneShotController(kind, {
    runner: new InProcessRunner({ onChange: () => {}, log: silentLogger }),
    metrics: runMetricsOf(new Registry()),
    now: () => clock,
  });
  const recorder = new EventRecorder(kube, { instance: 'test', throttleMs: 0 });
  const reconcile = () => reconcileOnce(controller, kube, key, recorder);
  const object = async () => (await kube.get(KIND, key)) as KubeObject;
  const change = async (f: (o: KubeObject) => KubeObject) => kube.put(KIND, f(await object()));
  const startDeleting = () =>
    change((o) => ({ ...o, metadata: { ...o.metadata, deletionTimestamp: clock.toISOString() } }));
  return {
    kube,
    cleanups,
    reconcile,
    object,
    change,
    startDeleting,
    failCleanup: (error: Error | undefined) => {
      cleanupError = error;
    },
    advance: (ms: number) => {
      clock = new Date(clock.getTime() + ms);
    },
  };
}

test('the finalizer is added while something is left behind, and removed once it is not', async () => {
  const h = harness(true);
  await h.reconcile();
  assert.deepEqual((await h.object()).metadata.finalizers, [FINALIZER]);
  await h.reconcile();
  assert.deepEqual((await h.object()).metadata.finalizers, [FINALIZER], 'added once');
  // Its snapshot expired and went (the restore's upkeep): nothing to clean up any more.
  await h.change((o) => ({ ...o, status: { ...(o.status as object), leftBehind: false } }));
  await h.reconcile();
  assert.deepEqual((await h.object()).metadata.finalizers, []);
  assert.deepEqual(h.cleanups, []);
});

test('a resource that leaves nothing behind never gets the finalizer', async () => {
  const h = harness(false);
  await h.reconcile();
  assert.equal((await h.object()).metadata.finalizers, undefined);
});

test('deleting runs the cleanup, then removes the finalizer, with an Event', async () => {
  const h = harness(true);
  await h.reconcile();
  await h.startDeleting();
  await h.reconcile();
  assert.deepEqual(h.cleanups, ['r']);
  assert.deepEqual((await h.object()).metadata.finalizers, []);
  assert.ok(h.kube.events.some((e) => e.reason === 'CleanedUp' && /snapshot deleted/.test(e.note ?? '')));
});

test('a failing cleanup is retried, then let go after a while with a Warning saying what stayed', async () => {
  const h = harness(true);
  await h.reconcile();
  await h.startDeleting();
  h.failCleanup(new Error('storage unreachable'));
  assert.deepEqual(await h.reconcile(), { requeueAfterMs: 10_000 });
  assert.deepEqual((await h.object()).metadata.finalizers, [FINALIZER], 'kept while retrying');
  h.advance(CLEANUP_GIVE_UP_MS);
  await h.reconcile();
  assert.deepEqual((await h.object()).metadata.finalizers, []);
  const warning = h.kube.events.find((e) => e.reason === 'CleanupAbandoned');
  assert.match(warning?.note ?? '', /failed for 5 minutes: .*storage unreachable/);
});

test('a cleanup whose reference is gone (the KafkaBackup deleted too) is let go at once', async () => {
  const h = harness(true);
  await h.reconcile();
  await h.startDeleting();
  h.failCleanup(new UnresolvedReferenceError('KafkaBackup ns/nightly does not exist'));
  await h.reconcile();
  assert.deepEqual((await h.object()).metadata.finalizers, []);
  assert.match(
    h.kube.events.find((e) => e.reason === 'CleanupAbandoned')?.note ?? '',
    /KafkaBackup ns\/nightly does not exist/,
  );
});
