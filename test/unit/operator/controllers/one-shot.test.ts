import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { ConfigError } from '../../../../runtime/config/reader.ts';
import { silentLogger } from '../../../../runtime/log.ts';
import { runMetricsOf } from '../../../../runtime/metrics/run-metrics.ts';
import { type OneShotKind, oneShotController } from '../../../../runtime/operator/controllers/one-shot.ts';
import { UnresolvedReferenceError } from '../../../../runtime/operator/controllers/references.ts';
import { EventRecorder } from '../../../../runtime/operator/event-recorder.ts';
import { KAFKA_KINDS, type KubeObject } from '../../../../runtime/operator/resource.ts';
import { InProcessRunner } from '../../../../runtime/operator/runs/runner.ts';
import { FakeKube, reconcileOnce } from '../fake-kube.ts';

const KIND = KAFKA_KINDS.KafkaRestore;
const key = { namespace: 'ns', name: 'r' };

interface Status {
  phase?: string;
  startTime?: string | null;
  message?: string;
  conditions?: Array<{ type: string; status: string; reason: string }>;
  [field: string]: unknown;
}

/** A kind whose run waits for the test to end it, with the reconciler's real I/O on a FakeKube. */
function harness(spec: Record<string, unknown>, status?: Status) {
  const kube = new FakeKube();
  kube.put(KIND, { metadata: { ...key, generation: 1, uid: 'u-1' }, spec, ...(status ? { status } : {}) });
  let clock = new Date('2026-12-03T12:00:00Z');
  let finish: (value: string) => void = () => {};
  let failRun: (error: Error) => void = () => {};
  const prepares: boolean[] = [];
  let prepareError: Error | undefined;
  const kind: OneShotKind<string> = {
    kind: KIND,
    noun: 'Restore',
    async prepare(_object, _context, { fresh }) {
      prepares.push(fresh);
      if (prepareError) throw prepareError;
      return {
        status: { plan: { records: 3 } },
        summary: 'restore 3 records',
        work: () =>
          new Promise<string>((resolve, reject) => {
            finish = resolve;
            failRun = reject;
          }),
      };
    },
    whenDone: async () => ({ requeueAfterMs: 42 }),
    outcome: (result) => ({
      phase: 'Completed',
      health: 'ready',
      reason: 'RestoreCompleted',
      message: result,
      status: {},
    }),
  };
  const runner = new InProcessRunner({ onChange: () => {}, log: silentLogger });
  const registry = new Registry();
  const controller = oneShotController(kind, { runner, metrics: runMetricsOf(registry), now: () => clock });
  const recorder = new EventRecorder(kube, { instance: 'test', throttleMs: 0 });
  const reconcile = () => reconcileOnce(controller, kube, key, recorder);
  const statusNow = async () => ((await kube.get(KIND, key)) as KubeObject).status as Status;
  const update = async (change: (o: KubeObject) => KubeObject) => {
    const current = (await kube.get(KIND, key)) as KubeObject;
    kube.put(KIND, change(current));
  };
  /** Lets the runner record the run's end. */
  const settle = () => new Promise((resolve) => setTimeout(resolve, 10));
  return {
    kube,
    runner,
    registry,
    prepares,
    reconcile,
    status: statusNow,
    update,
    settle,
    finish: (v: string) => finish(v),
    failRun: (e: Error) => failRun(e),
    failPrepare: (e: Error | undefined) => {
      prepareError = e;
    },
    advance: (ms: number) => {
      clock = new Date(clock.getTime() + ms);
    },
  };
}

const condition = (s: Status, type: string) => s.conditions?.find((c) => c.type === type);

describe('the one-shot reconciler', () => {
  test('Manual approval: plan published, AwaitingApproval with Approved=False until approved; then runs to Completed', async () => {
    const h = harness({ approval: { policy: 'Manual' } });
    await h.reconcile();
    let s = await h.status();
    assert.equal(s.phase, 'AwaitingApproval');
    assert.deepEqual(s.plan, { records: 3 });
    assert.equal(condition(s, 'Approved')?.status, 'False');
    assert.equal(condition(s, 'Ready')?.status, 'False');
    assert.equal(h.runner.size, 0, 'nothing runs before approval');
    await h.reconcile(); // our own status write comes back as an event
    assert.equal(h.prepares.length, 1, 'the plan of this generation is not recomputed');

    await h.update((o) => ({
      ...o,
      metadata: { ...o.metadata, generation: 2 },
      spec: { approval: { policy: 'Manual', approved: true } },
    }));
    await h.reconcile();
    s = await h.status();
    assert.equal(s.phase, 'Running');
    assert.equal(s.startTime, '2026-12-03T12:00:00.000Z');
    assert.equal(condition(s, 'Approved')?.status, 'True');
    assert.equal(condition(s, 'Reconciling')?.status, 'True');
    assert.equal(h.runner.get('KafkaRestore/ns/r')?.state, 'running');

    h.finish('restored 3 records');
    await h.settle();
    await h.reconcile();
    s = await h.status();
    assert.equal(s.phase, 'Completed');
    assert.equal(s.message, 'restored 3 records');
    assert.equal(condition(s, 'Ready')?.status, 'True');
    assert.equal(condition(s, 'Ready')?.reason, 'RestoreCompleted');
    assert.equal(h.runner.size, 0, 'the finished run is forgotten');
    assert.deepEqual(
      h.kube.events.map((e) => e.reason),
      ['AwaitingApproval', 'RestoreStarted', 'RestoreCompleted'],
    );
    assert.match(
      await h.registry.metrics(),
      /kafka_backup_runs_total\{kind="KafkaRestore",result="succeeded"\} 1/,
    );
    await h.reconcile();
    assert.equal(h.runner.size, 0, 'a Completed resource does not run again');
  });

  test('a missing reference stalls with backoff; our own status write does not prepare again at once', async () => {
    const h = harness({});
    h.failPrepare(
      new UnresolvedReferenceError('KafkaBackup ns/b (backupRef.name) does not exist: create it'),
    );
    const first = await h.reconcile();
    const s = await h.status();
    assert.equal(s.phase, 'Pending');
    assert.equal(condition(s, 'Stalled')?.status, 'True');
    assert.equal(condition(s, 'Stalled')?.reason, 'ReferenceNotFound');
    assert.match(s.message ?? '', /does not exist: create it \(retrying in \d+ s\)/);
    assert.ok((first?.requeueAfterMs ?? 0) >= 4000);
    await h.reconcile();
    assert.equal(h.prepares.length, 1, 'no hot loop');
    h.advance(10_000);
    h.failPrepare(undefined);
    await h.reconcile();
    const running = await h.status();
    assert.equal(running.phase, 'Running');
    assert.equal(condition(running, 'Stalled')?.status, 'False');
  });

  test('a terminal failure ends Failed and is not retried', async () => {
    const h = harness({});
    await h.reconcile();
    h.failRun(new ConfigError('KafkaRestore ns/r', ['topics: bad']));
    await h.settle();
    await h.reconcile();
    const s = await h.status();
    assert.equal(s.phase, 'Failed');
    assert.equal(condition(s, 'Ready')?.reason, 'InvalidConfig');
    assert.equal(condition(s, 'Stalled')?.status, 'False');
    await h.reconcile();
    assert.equal(h.prepares.length, 1, 'not started again');
  });

  test('activeDeadlineSeconds stops the run and fails it', async () => {
    const h = harness({ activeDeadlineSeconds: 5 });
    const started = await h.reconcile();
    assert.ok((started?.requeueAfterMs ?? 0) >= 5000, 'looked at again at the deadline');
    h.advance(6000);
    const aborted = h.reconcile();
    h.finish('stopped'); // the run honours its signal
    await aborted;
    const s = await h.status();
    assert.equal(s.phase, 'Failed');
    assert.equal(condition(s, 'Ready')?.reason, 'DeadlineExceeded');
  });

  test('Running in status without a run here (an operator restart): resumed, startTime kept', async () => {
    const h = harness(
      {},
      { phase: 'Running', startTime: '2026-12-03T11:00:00Z', observedRerun: '', observedGeneration: 1 },
    );
    await h.reconcile();
    assert.deepEqual(h.prepares, [false]);
    const s = await h.status();
    assert.equal(s.phase, 'Running');
    assert.equal(s.startTime, '2026-12-03T11:00:00Z');
    assert.equal(h.kube.events.at(-1)?.reason, 'RestoreResumed');
  });

  test('the rerun annotation starts a new run after a final phase', async () => {
    const h = harness(
      {},
      { phase: 'Completed', startTime: '2026-12-03T11:00:00Z', observedRerun: '', observedGeneration: 1 },
    );
    assert.deepEqual(await h.reconcile(), { requeueAfterMs: 42 }, 'a finished resource gets its upkeep');
    assert.equal(h.prepares.length, 0);
    await h.update((o) => ({
      ...o,
      metadata: { ...o.metadata, annotations: { 'kafka.oso.sh/rerun': '2' } },
    }));
    await h.reconcile();
    const s = await h.status();
    assert.deepEqual(h.prepares, [true]);
    assert.equal(s.phase, 'Running');
    assert.equal(s.observedRerun, '2');
    assert.equal(s.startTime, '2026-12-03T12:00:00.000Z');
  });
});
