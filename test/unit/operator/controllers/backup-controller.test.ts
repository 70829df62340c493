import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { silentLogger } from '../../../../runtime/log.ts';
import type { ReconcileContext } from '../../../../runtime/operator/controller.ts';
import { backupController } from '../../../../runtime/operator/controllers/backup.ts';
import { RunMetrics } from '../../../../runtime/operator/controllers/run-metrics.ts';
import { EventRecorder } from '../../../../runtime/operator/event-recorder.ts';
import { KAFKA_KINDS, type KubeObject } from '../../../../runtime/operator/resource.ts';
import { InProcessRunner, runKey } from '../../../../runtime/operator/runs/runner.ts';
import { FakeKube } from '../fake-kube.ts';

const KB = KAFKA_KINDS.KafkaBackup;
const key = { namespace: 'ns', name: 'nightly' };

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
  const context: ReconcileContext = {
    cache: { get: (k) => kube.objects.get(`${KB.plural}/${k.namespace}/${k.name}`), list: () => [] },
    cacheOf: () => {
      throw new Error('not used');
    },
    client: kube,
    recorder: new EventRecorder(kube, { instance: 'test' }),
    log: silentLogger,
    signal: new AbortController().signal,
  };
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

  // Once it has passed, the run is retried.
  now = new Date(now.getTime() + 7_000);
  await controller.reconcile(key, context);
  assert.equal(status().phase, 'Running');
  while (runner.get(rk)?.state === 'running') await new Promise((r) => setTimeout(r, 5));
});
