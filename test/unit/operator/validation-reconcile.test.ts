import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Registry } from 'prom-client';
import type { StorageSpec } from '../../../runtime/config/storage.ts';
import { silentLogger } from '../../../runtime/log.ts';
import type { ReconcileContext } from '../../../runtime/operator/controller.ts';
import { validationController, withBackupStore } from '../../../runtime/operator/controllers/validation.ts';
import { EventRecorder } from '../../../runtime/operator/event-recorder.ts';
import { OperatorMetrics } from '../../../runtime/operator/metrics.ts';
import { ObjectCache } from '../../../runtime/operator/object-cache.ts';
import { KAFKA_KINDS, type KubeObject } from '../../../runtime/operator/resource.ts';
import { InProcessRunner, runKey } from '../../../runtime/operator/runs/runner.ts';
import { MemoryObjectStore } from '../../../runtime/storage/memory.ts';
import { mapSecrets, memoryPorts } from '../app/memory-ports.ts';
import { writeBackup } from '../validation/backup-fixture.ts';
import { FakeKube } from './fake-kube.ts';

const KBV = KAFKA_KINDS.KafkaBackupValidation;
const KB = KAFKA_KINDS.KafkaBackup;
const key = { namespace: 'team', name: 'check' };
const storage = { storageType: 'filesystem', filesystem: { path: '/unused' } };

/** The controller over an in-memory API, runner and store, reconciled by hand like the manager would. */
async function harness(
  spec: Record<string, unknown>,
  options: { now?: () => Date; createdAt?: string } = {},
) {
  const kube = new FakeKube();
  const store = new MemoryObjectStore();
  await writeBackup(store, 'nightly', 'orders', [{ partition: 0, offsets: [0n, 1n, 2n, 3n] }]);
  kube.put(KB, { metadata: { name: 'nightly', namespace: 'team' }, spec: { storage } });
  kube.put(KBV, {
    metadata: {
      ...key,
      generation: 1,
      ...(options.createdAt ? { creationTimestamp: options.createdAt } : {}),
    },
    spec,
  });
  const metrics = new OperatorMetrics(new Registry(), { processMetrics: false });
  const runner = new InProcessRunner({ onChange: () => {}, log: silentLogger });
  const controller = validationController(
    { kube, log: silentLogger, runner, metrics },
    {
      ...(options.now ? { now: options.now } : {}),
      portsFor: () => memoryPorts({}, { store, secrets: mapSecrets({}) }),
    },
  );
  const caches = { [KBV.kind]: new ObjectCache(), [KB.kind]: new ObjectCache() };
  const context = (): ReconcileContext => {
    for (const [id, o] of kube.objects)
      caches[id.startsWith(`${KB.plural}/`) ? KB.kind : KBV.kind]?.upsert(o);
    return {
      cache: caches[KBV.kind] as ObjectCache,
      cacheOf: (kind) => caches[kind.kind] as ObjectCache,
      client: kube,
      recorder: new EventRecorder(kube, { instance: 'test', log: silentLogger }),
      log: silentLogger,
      signal: new AbortController().signal,
    };
  };
  const reconcile = () => controller.reconcile(key, context());
  const status = async () => ((await kube.get(KBV, key)) as KubeObject).status as Record<string, unknown>;
  const runEnded = async () => {
    while (runner.get(runKey(KBV, key))?.state === 'running') await new Promise((r) => setTimeout(r, 5));
  };
  const runs = async () => await metrics.registry.getSingleMetricAsString('kafka_backup_runs_total');
  return { kube, reconcile, status, runEnded, runs };
}

const spec = {
  backupRef: { name: 'nightly' },
  checks: {
    messageCount: { enabled: false },
    offsetRange: { enabled: false },
    consumerGroupOffsets: { enabled: false },
    integrity: { enabled: true },
  },
};

describe('KafkaBackupValidation reconcile', () => {
  test('once: Running with an Event, then Completed with the report path and a counted run; then idle', async () => {
    const h = await harness(spec);
    assert.equal(await h.reconcile(), undefined);
    assert.equal((await h.status()).phase, 'Running');
    assert.deepEqual(
      h.kube.events.map((e) => e.reason),
      ['Started'],
    );
    await h.runEnded();
    await h.reconcile();
    const s = await h.status();
    assert.equal(s.phase, 'Completed', String(s.message));
    assert.match(String(s.evidenceReportPath), /\/evidence\/nightly\/validation-[^/]+\/report\.json$/);
    assert.deepEqual(
      h.kube.events.map((e) => e.reason),
      ['Started', 'Passed'],
    );
    assert.match(await h.runs(), /runs_total\{kind="KafkaBackupValidation",result="succeeded"\} 1/);
    assert.equal(await h.reconcile(), undefined);
    assert.equal(h.kube.events.length, 2, 'nothing more happens for a done request');
  });

  test('scheduled: Scheduled with nextScheduleTime, a run at each tick serving it, history within its limits', async () => {
    let clock = new Date('2030-01-01T05:59:58Z');
    const h = await harness(
      { ...spec, schedule: '*/5 * * * * *', successfulRunsHistoryLimit: 1 },
      { now: () => clock, createdAt: '2030-01-01T05:59:56Z' },
    );
    const wait = await h.reconcile();
    assert.equal(wait?.requeueAfterMs, 2_000, 'looks again at the next tick');
    let s = await h.status();
    assert.deepEqual(
      [s.phase, s.nextScheduleTime, s.nextScheduledValidation],
      ['Pending', '2030-01-01T06:00:00.000Z', '2030-01-01T06:00:00.000Z'],
    );
    assert.deepEqual(
      h.kube.events.map((e) => e.reason),
      ['Scheduled'],
    );

    for (const tick of ['2030-01-01T06:00:00.000Z', '2030-01-01T06:00:05.000Z']) {
      clock = new Date(Date.parse(tick) + 300);
      await h.reconcile();
      s = await h.status();
      assert.deepEqual([s.phase, s.lastScheduleTime], ['Running', tick]);
      await h.runEnded();
      await h.reconcile();
      s = await h.status();
      assert.equal(s.phase, 'Ready', String(s.message));
      assert.equal(s.validationResult, 'Pass');
      assert.equal(s.nextScheduleTime, new Date(Date.parse(tick) + 5_000).toISOString());
    }
    const history = s.history as { phase: string; startTime: string }[];
    assert.equal(history.length, 1, 'successfulRunsHistoryLimit: 1');
    assert.equal(history[0]?.phase, 'Succeeded');
    assert.match(await h.runs(), /runs_total\{kind="KafkaBackupValidation",result="succeeded"\} 2/);
    assert.deepEqual(
      h.kube.events.map((e) => e.reason),
      ['Scheduled', 'Started', 'Passed', 'Started', 'Passed'],
    );
    // Between ticks nothing runs.
    clock = new Date('2030-01-01T06:00:07Z');
    assert.equal((await h.reconcile())?.requeueAfterMs, 3_000);
    assert.equal((await h.status()).phase, 'Ready');
  });

  test('suspend: Suspended and no run at its tick; resumed, the tick it missed runs once', async () => {
    let clock = new Date('2030-01-01T06:00:01Z');
    const h = await harness(
      { ...spec, schedule: '0 0 * * * *', suspend: true },
      { now: () => clock, createdAt: '2030-01-01T05:30:00Z' },
    );
    assert.equal(await h.reconcile(), undefined, 'nothing to wait for while suspended');
    let s = await h.status();
    assert.deepEqual([s.phase, s.nextScheduleTime ?? null], ['Suspended', null]);
    const object = (await h.kube.get(KBV, key)) as KubeObject;
    h.kube.put(KBV, {
      ...object,
      metadata: { ...object.metadata, generation: 2 },
      spec: { ...spec, schedule: '0 0 * * * *' },
    });
    clock = new Date('2030-01-01T06:20:00Z');
    await h.reconcile();
    s = await h.status();
    assert.deepEqual(
      [s.phase, s.lastScheduleTime, s.nextScheduleTime],
      ['Running', '2030-01-01T06:00:00.000Z', '2030-01-01T07:00:00.000Z'],
    );
    await h.runEnded();
    await h.reconcile();
    clock = new Date('2030-01-01T06:40:00Z');
    assert.ok((await h.reconcile())?.requeueAfterMs, 'then waits for 07:00');
    assert.deepEqual(
      h.kube.events.map((e) => e.reason),
      ['Suspended', 'Scheduled', 'Started', 'Passed'],
    );
  });

  test('a schedule croner cannot run: Failed, Stalled InvalidSchedule, one Event; fixed, it waits for its tick', async () => {
    const clock = new Date('2030-01-01T06:00:01Z');
    const h = await harness(
      { ...spec, schedule: '0 0 5-2 * * *' },
      { now: () => clock, createdAt: '2030-01-01T06:00:00.500Z' },
    );
    await h.reconcile();
    await h.reconcile();
    let s = await h.status();
    const stalledOf = (st: Record<string, unknown>) =>
      (st.conditions as { type: string; status: string; reason: string }[]).find((c) => c.type === 'Stalled');
    assert.deepEqual(
      [s.phase, stalledOf(s)?.status, stalledOf(s)?.reason],
      ['Failed', 'True', 'InvalidSchedule'],
    );
    assert.deepEqual(
      h.kube.events.map((e) => e.reason),
      ['InvalidSchedule'],
    );
    const object = (await h.kube.get(KBV, key)) as KubeObject;
    h.kube.put(KBV, {
      ...object,
      metadata: { ...object.metadata, generation: 2 },
      spec: { ...spec, schedule: '0 0 * * * *' },
    });
    await h.reconcile();
    s = await h.status();
    assert.deepEqual(
      [s.phase, stalledOf(s)?.status, s.nextScheduleTime],
      ['Pending', 'False', '2030-01-01T07:00:00.000Z'],
    );
  });

  test('a missing KafkaBackup stalls with a backoff; once it exists the next reconcile runs at once', async () => {
    const h = await harness({ ...spec, backupRef: { name: 'later' } });
    const first = await h.reconcile();
    assert.equal(first?.requeueAfterMs, 5_000);
    const s = await h.status();
    const stalled = (s.conditions as { type: string; status: string; reason: string }[]).find(
      (c) => c.type === 'Stalled',
    );
    assert.deepEqual([s.phase, stalled?.status, stalled?.reason], ['Pending', 'True', 'BackupNotFound']);
    assert.ok((await h.reconcile())?.requeueAfterMs, 'still waiting out its backoff');
    h.kube.put(KB, {
      metadata: { name: 'later', namespace: 'team' },
      spec: { storage },
      status: { backupId: 'nightly' },
    });
    await h.reconcile();
    await h.runEnded();
    await h.reconcile();
    const done = await h.status();
    assert.equal(done.phase, 'Completed', String(done.message));
    assert.equal(done.backupId, 'nightly', "the KafkaBackup's status.backupId");
  });

  test('withBackupStore: the backup storage opens with the KafkaBackup namespace, evidence storage as before', async () => {
    const backupStore = new MemoryObjectStore();
    const evidenceStore = new MemoryObjectStore();
    const base = { ...memoryPorts({}), openStore: async () => evidenceStore };
    const backupStorage = { kind: 'filesystem', path: '/b' } as unknown as StorageSpec;
    const other = { kind: 'filesystem', path: '/b' } as unknown as StorageSpec;
    const ports = withBackupStore(base, backupStorage, async () => backupStore);
    assert.equal(await ports.openStore(backupStorage), backupStore);
    assert.equal(await ports.openStore(other), evidenceStore, 'an equal-looking spec is another store');
  });
});
