import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { silentLogger } from '../../../../runtime/log.ts';
import { RunMetrics } from '../../../../runtime/metrics/run-metrics.ts';
import type { ReconcileContext } from '../../../../runtime/operator/controller.ts';
import { backupController } from '../../../../runtime/operator/controllers/backup.ts';
import { EventRecorder } from '../../../../runtime/operator/event-recorder.ts';
import { KAFKA_KINDS, type KubeObject } from '../../../../runtime/operator/resource.ts';
import { InProcessRunner, runKey } from '../../../../runtime/operator/runs/runner.ts';
import { MemoryObjectStore } from '../../../../runtime/storage/memory.ts';
import { type ObjectStore, StorageError } from '../../../../runtime/storage/object-store.ts';
import { MemoryKafka } from '../../app/memory-kafka.ts';
import { memoryPorts, storage } from '../../app/memory-ports.ts';
import { FakeKube } from '../fake-kube.ts';

const KB = KAFKA_KINDS.KafkaBackup;
const key = { namespace: 'ns', name: 'nightly' };

/** A reconcile context whose cache is the fake API server's objects. */
function contextOver(kube: FakeKube): ReconcileContext {
  return {
    cache: { get: (k) => kube.objects.get(`${KB.plural}/${k.namespace}/${k.name}`), list: () => [] },
    cacheOf: () => {
      throw new Error('not used');
    },
    client: kube,
    recorder: new EventRecorder(kube, { instance: 'test' }),
    log: silentLogger,
    signal: new AbortController().signal,
  };
}

test('a backup whose Secret is missing ends Stalled saying what to create, and is retried after a backoff, not in a loop', async () => {
  const kube = new FakeKube();
  kube.put(KB, {
    apiVersion: 'kafka.oso.sh/v1alpha1',
    kind: 'KafkaBackup',
    metadata: { ...key, uid: 'uid-1', generation: 1, creationTimestamp: '2026-12-03T11:00:00Z' },
    spec: {
      kafkaCluster: { bootstrapServers: ['kafka:9092'] },
      topics: ['orders'],
      storage: {
        storageType: 's3',
        s3: { bucket: 'backups', region: 'eu-west-1', credentialsSecret: { name: 's3-creds' } },
      },
      stopAtCurrentOffsets: true,
    },
  });
  let now = new Date('2026-12-03T12:00:00Z');
  // The runner and the controller share the test's clock.
  const runner = new InProcessRunner({ onChange: () => {}, log: silentLogger, now: () => now });
  const registry = new Registry();
  const controller = backupController({ runner, metrics: new RunMetrics(registry), now: () => now });
  const context = contextOver(kube);
  const status = () =>
    (kube.objects.get(`${KB.plural}/ns/nightly`) as KubeObject).status as Record<string, unknown>;
  const rk = runKey(KB, key);

  await controller.reconcile(key, context);
  assert.equal(status().phase, 'Running');
  while (runner.get(rk)?.state === 'running') await new Promise((r) => setTimeout(r, 5));

  const afterFailure = await controller.reconcile(key, context);
  assert.equal(status().phase, 'Failed');
  const stalled = (status().conditions as Array<Record<string, string>>).find((c) => c.type === 'Stalled');
  assert.equal(stalled?.status, 'True');
  assert.match(stalled?.message ?? '', /Secret ns\/s3-creds does not exist; create it/);
  assert.deepEqual(afterFailure, { requeueAfterMs: 10_000 });
  assert.deepEqual(
    kube.events.map((e) => `${e.type}/${e.reason}`),
    ['Normal/Started', 'Warning/Failed'],
  );
  assert.match(await registry.metrics(), /kafka_backup_runs_total\{kind="KafkaBackup",result="failed"\} 1/);

  // Reconciling again before the backoff ends neither runs nor writes.
  const version = kube.objects.get(`${KB.plural}/ns/nightly`)?.metadata.resourceVersion;
  now = new Date(now.getTime() + 4_000);
  const again = await controller.reconcile(key, context);
  assert.equal(runner.get(rk), undefined);
  assert.equal(kube.objects.get(`${KB.plural}/ns/nightly`)?.metadata.resourceVersion, version);
  assert.ok(again && (again.requeueAfterMs ?? 0) > 5_000);

  // Once it has passed, the run is retried; the stall lasts until a run succeeds.
  now = new Date(now.getTime() + 7_000);
  await controller.reconcile(key, context);
  assert.equal(status().phase, 'Running');
  const conditions = () => status().conditions as Array<Record<string, string>>;
  assert.deepEqual(
    conditions().find((c) => c.type === 'Stalled'),
    stalled,
    'Stalled stays as it was while the retry runs',
  );
  assert.equal(conditions().find((c) => c.type === 'Reconciling')?.status, 'True');
  while (runner.get(rk)?.state === 'running') await new Promise((r) => setTimeout(r, 5));

  // The retry fails too: the next one waits as long as the resource has been stalled (11 s), not 10 s
  // again, and so on up to 5 minutes.
  const afterRetry = await controller.reconcile(key, context);
  assert.equal(status().phase, 'Failed');
  assert.equal(
    conditions().find((c) => c.type === 'Stalled')?.lastTransitionTime,
    stalled?.lastTransitionTime,
  );
  assert.deepEqual(afterRetry, { requeueAfterMs: 11_000 });
});

/** A KafkaBackup over in-memory Kafka and storage, run by the controller once per rerun annotation. */
async function retentionHarness(
  retention: Record<string, unknown>,
  store: ObjectStore = new MemoryObjectStore(),
) {
  const kube = new FakeKube();
  const source = new MemoryKafka('source');
  source.seed('orders', 1, 10);
  const base = memoryPorts({ 'kafka:9092': source });
  const ports = { ...base, openStore: async () => store };
  const object: KubeObject = {
    apiVersion: 'kafka.oso.sh/v1alpha1',
    kind: 'KafkaBackup',
    metadata: { ...key, uid: 'uid-1', generation: 1, creationTimestamp: '2026-12-03T11:00:00Z' },
    spec: { kafkaCluster: { bootstrapServers: ['kafka:9092'] }, topics: ['orders'], storage, retention },
  };
  kube.put(KB, object);
  const runner = new InProcessRunner({ onChange: () => {}, log: silentLogger });
  const controller = backupController({
    runner,
    metrics: new RunMetrics(new Registry()),
    ports: () => ports,
  });
  const context = contextOver(kube);
  const current = () => kube.objects.get(`${KB.plural}/ns/nightly`) as KubeObject;
  const rk = runKey(KB, key);
  /** One run (the first by itself, later ones by a new rerun value), with 5 new records before it. */
  const runOnce = async (n: number) => {
    if (n > 1) {
      await source.produce(
        { topic: 'orders', partition: 0 },
        Array.from({ length: 5 }, () => ({ key: null, value: Buffer.from('x'), headers: [], timestamp: 1n })),
      );
      const o = current();
      kube.put(KB, { ...o, metadata: { ...o.metadata, annotations: { 'kafka.oso.sh/rerun': String(n) } } });
    }
    await controller.reconcile(key, context);
    assert.equal(runner.get(rk)?.state, 'running', `run ${n} started`);
    while (runner.get(rk)?.state === 'running') await new Promise((r) => setTimeout(r, 5));
    await controller.reconcile(key, context);
  };
  return { kube, runOnce, status: () => current().status as Record<string, unknown> };
}

test('retention after each successful run: status counts runs, RetentionPruned says what went', async () => {
  const { kube, runOnce, status } = await retentionHarness({ enabled: true, keepLast: 2 });
  for (let n = 1; n <= 4; n++) await runOnce(n);
  const s = status();
  assert.equal(s.phase, 'Completed');
  assert.equal(s.storedRunCount, 2);
  assert.equal(s.storedRecords, 10, 'the two kept runs hold the 5 + 5 records produced before them');
  assert.equal(s.retentionInspectedBackups, 3, 'the last pass saw the three runs left by the one before');
  assert.equal(s.retentionEligibleBackups, 1);
  assert.equal(s.retentionDeletedBackups, 1);
  assert.ok((s.retentionReclaimedBytes as number) > 0);
  assert.equal(s.retentionDryRun, false);
  assert.equal(s.retentionError, undefined);
  const pruned = kube.events.filter((e) => e.reason === 'RetentionPruned');
  assert.equal(pruned.length, 2, 'runs 3 and 4 each pruned one run');
  assert.match(
    pruned[1]?.note ?? '',
    /^retention pruned 1 run\(s\) \(\S+\), deleted 1 object\(s\), reclaimed \d+ bytes; 2 run\(s\) kept$/,
  );
});

test('a retention dry run reports what is eligible and deletes nothing', async () => {
  const store = new MemoryObjectStore();
  const { kube, runOnce, status } = await retentionHarness(
    { enabled: true, keepLast: 1, dryRun: true },
    store,
  );
  for (let n = 1; n <= 3; n++) await runOnce(n);
  const s = status();
  assert.equal(s.storedRunCount, 3);
  assert.deepEqual(
    [s.retentionInspectedBackups, s.retentionEligibleBackups, s.retentionDeletedBackups, s.retentionDryRun],
    [3, 2, 0, true],
  );
  assert.match(
    kube.events.findLast((e) => e.reason === 'RetentionDryRun')?.note ?? '',
    /^retention dry run: 2 of 3 run\(s\) eligible \(.+, \d+ bytes\); nothing deleted$/,
  );
  assert.equal(
    kube.events.some((e) => e.reason === 'RetentionPruned'),
    false,
  );
});

test('a failed retention pass never fails the run: retentionError and a Warning, cleared by the next good pass', async () => {
  const memory = new MemoryObjectStore();
  let failDeletes = true;
  const store: ObjectStore = Object.assign(Object.create(memory), {
    delete: async (k: string) => {
      if (failDeletes && k.includes('/segments/'))
        throw new StorageError('access-denied', `access denied deleting ${k}`, { key: k });
      return memory.delete(k);
    },
  });
  const { kube, runOnce, status } = await retentionHarness({ enabled: true, keepLast: 1 }, store);
  await runOnce(1);
  await runOnce(2);
  let s = status();
  assert.equal(s.phase, 'Completed');
  assert.match(
    String(s.retentionError),
    /^retention did not complete: .*denied.*The backup run succeeded; the next successful run tries again$/s,
  );
  const warning = kube.events.find((e) => e.reason === 'RetentionFailed');
  assert.equal(warning?.type, 'Warning');
  assert.equal(s.storedRunCount, 1, 'the prune was recorded before its deletes failed');
  failDeletes = false;
  await runOnce(3);
  s = status();
  // null in the status patch: the API server's merge patch removes the field.
  assert.equal(s.retentionError ?? undefined, undefined);
  assert.equal(s.retentionDeletedBackups, 1);
  assert.equal(s.storedRunCount, 1);
  // Run 2's objects and run 1's leftovers are gone; only run 3's segment is left.
  let segments = 0;
  for await (const info of memory.list('nightly/segments/')) segments += info.size > 0 ? 1 : 0;
  assert.equal(segments, 1);
});
