import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../../../runtime/log.ts';
import { EventRecorder } from '../../../runtime/operator/event-recorder.ts';
import type { KubeObject } from '../../../runtime/operator/resource.ts';
import { FakeKube } from './fake-kube.ts';

const backup: KubeObject = {
  apiVersion: 'kafka.oso.sh/v1alpha1',
  kind: 'KafkaBackup',
  metadata: { name: 'nightly', namespace: 'team-a', uid: 'u-1', resourceVersion: '7' },
};

test('Events name the object and the reporting controller; repeats within the throttle window are dropped', async () => {
  const kube = new FakeKube();
  const recorder = new EventRecorder(kube, { instance: 'pod-1', throttleMs: 60_000 });
  await recorder.warning(backup, 'ReconcileFailed', 'Reconcile', 'storage unreachable');
  await recorder.warning(backup, 'ReconcileFailed', 'Reconcile', 'storage unreachable');
  await recorder.normal(backup, 'BackupCompleted', 'Backup', 'done');
  assert.equal(kube.events.length, 2);
  const [first] = kube.events;
  assert.deepEqual(first?.regarding, {
    apiVersion: 'kafka.oso.sh/v1alpha1',
    kind: 'KafkaBackup',
    name: 'nightly',
    namespace: 'team-a',
    uid: 'u-1',
    resourceVersion: '7',
  });
  assert.equal(first?.namespace, 'team-a');
  assert.equal(first?.type, 'Warning');
  assert.equal(first?.reportingController, 'kafka.oso.sh/kafka-backup-operator');
  assert.equal(first?.reportingInstance, 'pod-1');
});

test('an Event that cannot be written is logged, never thrown, and not counted as sent', async () => {
  const lines: string[] = [];
  const failing = new FakeKube();
  let attempts = 0;
  failing.createEvent = async () => {
    attempts++;
    throw new Error('forbidden');
  };
  const recorder = new EventRecorder(failing, {
    instance: 'pod-1',
    log: createLogger({ write: (l) => lines.push(l) }),
  });
  await recorder.normal(backup, 'BackupStarted', 'Backup', 'started');
  await recorder.normal(backup, 'BackupStarted', 'Backup', 'started');
  assert.equal(attempts, 2, 'a failed Event is tried again next time');
  assert.match(lines[0] ?? '', /could not record an Event/);
});
