import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { silentLogger } from '../../../runtime/log.ts';
import type { Controller, ReconcileContext } from '../../../runtime/operator/controller.ts';
import { TerminalError } from '../../../runtime/operator/errors.ts';
import { EventRecorder } from '../../../runtime/operator/event-recorder.ts';
import { OperatorMetrics } from '../../../runtime/operator/metrics.ts';
import { ObjectCache } from '../../../runtime/operator/object-cache.ts';
import { ReconcileLoop } from '../../../runtime/operator/reconcile-loop.ts';
import { KAFKA_KINDS, type ObjectKey } from '../../../runtime/operator/resource.ts';
import { FakeKube } from './fake-kube.ts';
import { eventually, gate } from './wait.ts';

const kind = KAFKA_KINDS.KafkaBackup;
const key = (name: string): ObjectKey => ({ namespace: 'ns', name });

function loop(controller: Controller, options: { concurrency?: number; metrics?: OperatorMetrics } = {}) {
  const kube = new FakeKube();
  const context = (_k: unknown, _key: ObjectKey, signal: AbortSignal): ReconcileContext => ({
    cache: new ObjectCache(),
    cacheOf: () => new ObjectCache(),
    client: kube,
    recorder: new EventRecorder(kube, { instance: 'test' }),
    log: silentLogger,
    signal,
  });
  return new ReconcileLoop({
    controllers: [controller],
    concurrency: options.concurrency,
    metrics: options.metrics,
    context,
    queueBackoff: { initialMs: 5, maxMs: 40, jitter: 0.2 },
  });
}

describe('ReconcileLoop', () => {
  test('runs at most `concurrency` reconciles at once and one per key', async () => {
    let running = 0;
    let maxRunning = 0;
    const perKey = new Map<string, number>();
    let maxPerKey = 0;
    const done: string[] = [];
    const controller: Controller = {
      kind,
      async reconcile(k) {
        running++;
        perKey.set(k.name, (perKey.get(k.name) ?? 0) + 1);
        maxRunning = Math.max(maxRunning, running);
        maxPerKey = Math.max(maxPerKey, perKey.get(k.name) ?? 0);
        await new Promise((r) => setTimeout(r, 5));
        perKey.set(k.name, (perKey.get(k.name) ?? 0) - 1);
        running--;
        done.push(k.name);
      },
    };
    const l = loop(controller, { concurrency: 3 });
    l.start();
    // Ten keys, and each added again while it may be in progress.
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 10; i++) l.enqueue(kind, key(`o${i}`));
      await new Promise((r) => setTimeout(r, 2));
    }
    await eventually(
      'every key was reconciled',
      () => new Set(done).size === 10 && running === 0 && l.depth === 0,
    );
    await l.stop(1000);
    assert.equal(maxRunning, 3);
    assert.equal(maxPerKey, 1, 'never two reconciles of one key at once');
  });

  test('retries a failing key with growing backoff, and stops once it succeeds', async () => {
    const calls: number[] = [];
    const controller: Controller = {
      kind,
      async reconcile() {
        calls.push(Date.now());
        if (calls.length < 4) throw new Error('transient');
      },
    };
    const metrics = new OperatorMetrics(undefined, { processMetrics: false });
    const l = loop(controller, { metrics });
    l.start();
    l.enqueue(kind, key('a'));
    await eventually('the fourth attempt succeeded', () => calls.length === 4);
    await new Promise((r) => setTimeout(r, 100));
    await l.stop(1000);
    assert.equal(calls.length, 4, 'no retry after success');
    const gaps = calls.slice(1).map((t, i) => t - (calls[i] as number));
    // Backoff 5, 10, 20 ms less up to 20% jitter.
    assert.ok((gaps[0] as number) >= 3, `first retry after ${gaps[0]} ms`);
    assert.ok((gaps[2] as number) >= 15, `third retry after ${gaps[2]} ms`);
    const total = await metrics.registry.getSingleMetricAsString('kafka_backup_operator_reconcile_total');
    assert.match(total, /reconcile_total\{kind="KafkaBackup",result="error"\} 3/);
    assert.match(total, /reconcile_total\{kind="KafkaBackup",result="success"\} 1/);
  });

  test('a terminal error is not retried', async () => {
    let calls = 0;
    const controller: Controller = {
      kind,
      async reconcile() {
        calls++;
        throw new TerminalError('spec names a backup that does not exist');
      },
    };
    const metrics = new OperatorMetrics(undefined, { processMetrics: false });
    const l = loop(controller, { metrics });
    l.start();
    l.enqueue(kind, key('a'));
    await eventually('reconciled once', () => calls === 1);
    // Longer than several backoff periods (5..40 ms): a retry would have happened by now.
    await new Promise((r) => setTimeout(r, 150));
    await l.stop(1000);
    assert.equal(calls, 1);
    const errors = await metrics.registry.getSingleMetricAsString(
      'kafka_backup_operator_reconcile_errors_total',
    );
    assert.match(errors, /\{kind="KafkaBackup"\} 1/);
    const total = await metrics.registry.getSingleMetricAsString('kafka_backup_operator_reconcile_total');
    assert.match(total, /result="terminal_error"\} 1/);
  });

  test('an error marked terminal: true by another layer is not retried either', async () => {
    let calls = 0;
    const controller: Controller = {
      kind,
      async reconcile() {
        calls++;
        throw Object.assign(new Error('invalid spec'), { terminal: true });
      },
    };
    const l = loop(controller);
    l.start();
    l.enqueue(kind, key('a'));
    await eventually('reconciled once', () => calls === 1);
    await new Promise((r) => setTimeout(r, 150));
    await l.stop(1000);
    assert.equal(calls, 1);
  });

  test('requeueAfterMs reconciles the key again after that long', async () => {
    const calls: number[] = [];
    const controller: Controller = {
      kind,
      async reconcile() {
        calls.push(Date.now());
        return calls.length < 2 ? { requeueAfterMs: 50 } : {};
      },
    };
    const l = loop(controller);
    l.start();
    l.enqueue(kind, key('a'));
    await eventually('requeued once', () => calls.length === 2);
    await l.stop(1000);
    assert.ok((calls[1] as number) - (calls[0] as number) >= 45);
  });

  test('stop() waits for reconciles in progress within the grace period, then aborts them', async () => {
    const release = gate();
    let signal: AbortSignal | undefined;
    let finished = false;
    const controller: Controller = {
      kind,
      async reconcile(_k, context) {
        signal = context.signal;
        await Promise.race([
          release.promise,
          new Promise((r) => context.signal.addEventListener('abort', r, { once: true })),
        ]);
        finished = true;
      },
    };
    const l = loop(controller);
    l.start();
    l.enqueue(kind, key('a'));
    await eventually('the reconcile started', () => signal !== undefined);
    const started = Date.now();
    await l.stop(100);
    assert.ok(Date.now() - started >= 95, 'waited for the grace period');
    assert.equal(signal?.aborted, true, 'the reconcile was told to stop');
    assert.equal(finished, true, 'stop() returns only once the reconcile returned');
    l.enqueue(kind, key('b'));
    assert.equal(l.depth, 0, 'a stopped loop takes no work');
  });

  test('stop() abandons a reconcile that ignores its abort signal instead of hanging', async () => {
    let started = false;
    const never = gate();
    const controller: Controller = {
      kind,
      async reconcile() {
        started = true;
        await never.promise; // ignores context.signal
      },
    };
    const kube = new FakeKube();
    const l = new ReconcileLoop({
      controllers: [controller],
      abandonAfterMs: 100,
      context: (_k, _key, signal) => ({
        cache: new ObjectCache(),
        cacheOf: () => new ObjectCache(),
        client: kube,
        recorder: new EventRecorder(kube, { instance: 'test' }),
        log: silentLogger,
        signal,
      }),
    });
    l.start();
    l.enqueue(kind, key('stuck'));
    await eventually('the reconcile started', () => started);
    const t0 = Date.now();
    await l.stop(0);
    assert.ok(Date.now() - t0 < 2000);
    assert.equal(l.abandoned, 1);
    never.open();
  });

  test('stop() returns as soon as reconciles in progress finish', async () => {
    const release = gate();
    let started = false;
    const controller: Controller = {
      kind,
      async reconcile() {
        started = true;
        await release.promise;
      },
    };
    const l = loop(controller);
    l.start();
    l.enqueue(kind, key('a'));
    await eventually('the reconcile started', () => started);
    setTimeout(release.open, 20);
    const t0 = Date.now();
    await l.stop(10_000);
    assert.ok(Date.now() - t0 < 5000);
  });
});
