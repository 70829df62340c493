/**
 * The manager against the real kube-apiserver, as the operator's ServiceAccount with exactly the
 * RBAC lib/operator.ts synthesizes: probes and metrics, a reconciler's writes (status through the
 * status subresource, finalizers, Events, Secrets), resync, and leader election on a real Lease.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Controller } from '../../../runtime/operator/controller.ts';
import { isConflict } from '../../../runtime/operator/errors.ts';
import { addFinalizer, removeFinalizer } from '../../../runtime/operator/finalizers.ts';
import type { KubePort } from '../../../runtime/operator/kube/port.ts';
import { Manager, type ManagerOptions } from '../../../runtime/operator/manager.ts';
import type { KubeObject } from '../../../runtime/operator/resource.ts';
import { need } from '../../env/fixture.ts';
import {
  ApiServerProxy,
  eventually,
  installOperator,
  KB,
  kafkaBackup,
  LEASE_NAME,
  operatorKube,
} from './operator-env.ts';

const FINALIZER = 'kafka.oso.sh/test-cleanup';

async function get(address: string | undefined, path: string): Promise<{ status: number; body: string }> {
  assert.ok(address, 'the server listens');
  const response = await fetch(`http://${address}${path}`);
  return { status: response.status, body: await response.text() };
}

/** A controller that only records which keys it reconciled (and where). */
function recordingController(name: string, log: string[]): Controller {
  return {
    kind: KB,
    async reconcile(key) {
      log.push(`${name}:${key.name}`);
    },
  };
}

function manager(
  kube: KubePort,
  options: Partial<ManagerOptions> & Pick<ManagerOptions, 'controllers'>,
): Manager {
  return new Manager({
    kube,
    identity: `test-${Math.random().toString(36).slice(2, 8)}`,
    healthProbeBindAddress: '127.0.0.1:0',
    metricsBindAddress: '127.0.0.1:0',
    gracePeriodMs: 2000,
    ...options,
  });
}

describe('Manager on kube-apiserver', () => {
  test('/readyz fails until the caches sync (here: until the RBAC is applied), /healthz passes, /metrics serves the manager metrics', async (t) => {
    const install = await installOperator(t, { applyRbac: false });
    const reconciled: string[] = [];
    const m = manager(operatorKube(install.kubeconfig), {
      controllers: [recordingController('m', reconciled)],
      namespaces: [install.watched],
      leaderElection: { namespace: install.operatorNamespace, name: LEASE_NAME, identity: 'readyz-test' },
    });
    await m.start();
    t.after(() => m.stop());

    // Without RBAC the list is forbidden: not synced, and no Lease either.
    const notReady = await get(m.addresses.health, '/readyz');
    assert.equal(notReady.status, 500);
    assert.match(notReady.body, /\[-\]informers-synced failed: cache not synced: KafkaBackup in /);
    assert.match(notReady.body, /\[-\]leader-known failed/);
    assert.equal((await get(m.addresses.health, '/healthz')).status, 200, 'retrying is alive, not dead');

    await install.applyRbac();
    await eventually('ready', async () => (await get(m.addresses.health, '/readyz')).status === 200, 60_000);
    assert.equal(m.isLeader, true);

    await install.admin.apply([kafkaBackup('probe')], install.watched);
    await eventually('reconciled', () => reconciled.includes('m:probe'));
    const metrics = await get(m.addresses.metrics, '/metrics');
    assert.equal(metrics.status, 200);
    for (const expected of [
      /^kafka_backup_operator_workqueue_depth \d+$/m,
      /^kafka_backup_operator_reconcile_total\{kind="KafkaBackup",result="success"\} [1-9]/m,
      /^kafka_backup_operator_reconcile_errors_total\{kind="KafkaBackup"\} 0$/m,
      /^kafka_backup_operator_reconcile_duration_seconds_bucket\{le="0.005",kind="KafkaBackup"\} /m,
      /^kafka_backup_operator_leader 1$/m,
      /^kafka_backup_operator_informer_synced\{kind="KafkaBackup",namespace="[^"]+"\} 1$/m,
      /^process_cpu_user_seconds_total /m,
    ]) {
      assert.match(metrics.body, expected);
    }
  });

  test('a reconciler reads from the cache and writes with the operator RBAC: finalizer, status subresource, Event, Secret', async (t) => {
    const install = await installOperator(t, { secretNames: ['s3-credentials'] });
    const { admin, watched } = install;
    await admin.kubectl([
      '-n',
      watched,
      'create',
      'secret',
      'generic',
      's3-credentials',
      '--from-literal=access-key=AKIA-TEST-ONLY',
    ]);
    const failures: unknown[] = [];
    const controller: Controller = {
      kind: KB,
      async reconcile(key, context) {
        const object = context.cache.get(key);
        if (!object) return;
        try {
          if (object.metadata.deletionTimestamp) {
            await removeFinalizer(context.client, KB, object, FINALIZER);
            return;
          }
          const stored = await addFinalizer(context.client, KB, object, FINALIZER);
          const secret = await context.client.readSecret({
            namespace: key.namespace,
            name: 's3-credentials',
          });
          await context.client.patchStatus(
            KB,
            key,
            {
              phase: 'Ready',
              observedGeneration: stored.metadata.generation,
              message: `secret keys: ${Object.keys(secret ?? {}).join(',')}`,
            },
            { resourceVersion: stored.metadata.resourceVersion },
          );
          await context.recorder.normal(
            stored,
            'Reconciled',
            'Reconcile',
            'the test controller reconciled it',
          );
        } catch (error) {
          failures.push(error);
          throw error;
        }
      },
    };
    const kube = operatorKube(install.kubeconfig);
    const m = manager(kube, { controllers: [controller], namespaces: [watched] });
    await m.start();
    t.after(() => m.stop());
    await admin.apply([kafkaBackup('written')], watched);

    await eventually('status written', async () => {
      const o = await admin.getJson(['-n', watched, 'kafkabackups.kafka.oso.sh', 'written']);
      return (o.status as { phase?: string } | undefined)?.phase === 'Ready';
    });
    const object = await admin.getJson<KubeObject>(['-n', watched, 'kafkabackups.kafka.oso.sh', 'written']);
    assert.deepEqual(object.metadata.finalizers, [FINALIZER]);
    assert.deepEqual(object.status, {
      phase: 'Ready',
      observedGeneration: 1,
      message: 'secret keys: access-key',
    });
    await eventually('the Event is recorded', async () => {
      const events = await admin.getJson<{
        items: Array<{ reason: string; regarding: { name: string }; reportingController: string }>;
      }>(['-n', watched, 'events.events.k8s.io']);
      return events.items.some((e) => e.reason === 'Reconciled' && e.regarding.name === 'written');
    });
    assert.deepEqual(
      failures.filter((e) => !isConflict(e)),
      [],
      'only resourceVersion conflicts (retried) may occur',
    );

    // A status patch with a stale resourceVersion is refused, not applied.
    await assert.rejects(
      kube.patchStatus(
        KB,
        { namespace: watched, name: 'written' },
        { phase: 'Failed' },
        { resourceVersion: '1' },
      ),
      (e: unknown) => isConflict(e),
    );

    // Deletion waits for the finalizer, which the reconciler removes.
    await admin.kubectl(['-n', watched, 'delete', 'kafkabackups.kafka.oso.sh', 'written', '--wait=false']);
    await eventually('deleted once the finalizer is removed', async () => {
      const r = await admin.tryKubectl(['-n', watched, 'get', 'kafkabackups.kafka.oso.sh', 'written']);
      return r.code !== 0 && /NotFound/.test(r.stderr);
    });
  });

  test('an object created while the API server is unreachable is reconciled once it is back, without a burst of requests', async (t) => {
    const install = await installOperator(t);
    const proxy = await ApiServerProxy.start(need('kube').server);
    t.after(() => proxy.close());
    const reconciled: string[] = [];
    const m = manager(operatorKube(install.kubeconfig, proxy.url), {
      controllers: [recordingController('m', reconciled)],
      namespaces: [install.watched],
      informer: { reconnectBackoff: { initialMs: 500, maxMs: 2000, jitter: 0.5 } },
    });
    await m.start();
    t.after(() => m.stop());
    await eventually('ready', async () => (await get(m.addresses.health, '/readyz')).status === 200);

    proxy.refusing = true;
    proxy.cut();
    const before = proxy.connections;
    await install.admin.apply([kafkaBackup('during-outage')], install.watched);
    await sleep(4000);
    const attempts = proxy.connections - before;
    assert.ok(attempts <= 6, `${attempts} connections attempted during a 4 s outage`);
    assert.equal(
      (await get(m.addresses.health, '/healthz')).status,
      200,
      'an outage is not a reason to restart',
    );
    proxy.refusing = false;
    await eventually('reconciled after the outage', () => reconciled.includes('m:during-outage'), 15_000);
  });

  test('resync reconciles every object again even when nothing changed', async (t) => {
    const install = await installOperator(t);
    await install.admin.apply([kafkaBackup('quiet')], install.watched);
    const reconciled: string[] = [];
    const m = manager(operatorKube(install.kubeconfig), {
      controllers: [recordingController('m', reconciled)],
      namespaces: [install.watched],
      informer: { resyncMs: 300 },
    });
    await m.start();
    t.after(() => m.stop());
    await eventually('reconciled three times', () => reconciled.filter((r) => r === 'm:quiet').length >= 3);
    const object = await install.admin.getJson(['-n', install.watched, 'kafkabackups.kafka.oso.sh', 'quiet']);
    assert.equal(
      object.metadata.resourceVersion,
      m.cacheOf(KB).get({ namespace: install.watched, name: 'quiet' })?.metadata.resourceVersion,
      'the object did not change',
    );
  });

  test('two managers on one Lease: only the leader reconciles; when it stops, the other takes over', async (t) => {
    const install = await installOperator(t);
    const { admin, watched, operatorNamespace } = install;
    const reconciled: string[] = [];
    const timing = { leaseDurationMs: 4000, renewDeadlineMs: 3000, retryPeriodMs: 500 };
    const start = async (name: string) => {
      const m = manager(operatorKube(install.kubeconfig), {
        controllers: [recordingController(name, reconciled)],
        namespaces: [watched],
        identity: name,
        leaderElection: { namespace: operatorNamespace, name: LEASE_NAME, identity: name, ...timing },
      });
      await m.start();
      return m;
    };
    const a = await start('a');
    const b = await start('b');
    t.after(() => Promise.all([a.stop(), b.stop()]));
    await eventually('one leads', () => a.isLeader || b.isLeader);
    const [leader, standby] = a.isLeader ? [a, b] : [b, a];
    const [leaderName, standbyName] = a.isLeader ? ['a', 'b'] : ['b', 'a'];
    await eventually(
      'the standby is ready too (caches synced, leader known)',
      async () => (await get(standby.addresses.health, '/readyz')).status === 200,
    );
    assert.equal(standby.isLeader, false);

    await admin.apply([kafkaBackup('one')], watched);
    await eventually('the leader reconciled it', () => reconciled.includes(`${leaderName}:one`));
    assert.ok(!reconciled.some((r) => r.startsWith(`${standbyName}:`)), 'the standby reconciled nothing');
    assert.match(
      (await get(standby.addresses.metrics, '/metrics')).body,
      /^kafka_backup_operator_leader 0$/m,
    );

    const stopped = Date.now();
    await leader.stop();
    assert.equal(await leader.done, 'stopped');
    await eventually('the standby leads', () => standby.isLeader, timing.leaseDurationMs + 2000);
    const takeover = Date.now() - stopped;
    assert.ok(takeover <= timing.leaseDurationMs, `took over after ${takeover} ms (the Lease was released)`);
    const lease = await admin.getJson<{ spec: { holderIdentity: string; leaseTransitions: number } }>([
      '-n',
      operatorNamespace,
      'lease',
      LEASE_NAME,
    ]);
    assert.equal(lease.spec.holderIdentity, standbyName);
    assert.ok(lease.spec.leaseTransitions >= 1);
    // On becoming leader it reconciles everything once, and then new work.
    await eventually('the new leader reconciled the existing object', () =>
      reconciled.includes(`${standbyName}:one`),
    );
    await admin.apply([kafkaBackup('two')], watched);
    await eventually('the new leader reconciles new objects', () =>
      reconciled.includes(`${standbyName}:two`),
    );
  });
});
