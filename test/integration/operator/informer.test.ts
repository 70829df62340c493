/**
 * The informer against the real kube-apiserver, authenticated as the operator's ServiceAccount
 * with exactly the RBAC lib/operator.ts synthesizes: it follows creates, updates and deletes,
 * survives cut connections without a burst of reconnects, and relists on a real 410 Gone.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Informer, type InformerEvent } from '../../../runtime/operator/informer.ts';
import type { ResourceClient } from '../../../runtime/operator/kube/port.ts';
import { OperatorMetrics } from '../../../runtime/operator/metrics.ts';
import { need } from '../../env/fixture.ts';
import {
  ApiServerProxy,
  eventually,
  installOperator,
  KB,
  kafkaBackup,
  operatorKube,
} from './operator-env.ts';

const names = (events: InformerEvent[], type: InformerEvent['type']) =>
  events.filter((e) => e.type === type).map((e) => e.object.metadata.name);

describe('Informer on kube-apiserver', () => {
  test('sees a KafkaBackup created, updated and deleted, and keeps its cache in step', async (t) => {
    const { admin, watched, kubeconfig } = await installOperator(t);
    await admin.apply([kafkaBackup('existing')], watched);
    const informer = new Informer({
      kind: KB,
      namespace: watched,
      client: operatorKube(kubeconfig),
      resyncMs: 0,
    });
    const events: InformerEvent[] = [];
    informer.on((e) => events.push(e));
    informer.start();
    t.after(() => informer.stop());
    assert.equal(await informer.waitForSync(), true);
    assert.deepEqual(names(events, 'added'), ['existing'], 'the initial list announces existing objects');

    await admin.apply([kafkaBackup('first')], watched);
    await eventually(
      'the create is seen',
      () => informer.cache.get({ namespace: watched, name: 'first' }) !== undefined,
    );
    const created = informer.cache.get({ namespace: watched, name: 'first' });
    assert.equal(created?.kind, 'KafkaBackup');
    assert.equal(created?.apiVersion, 'kafka.oso.sh/v1alpha1');

    await admin.kubectl(['-n', watched, 'label', 'kafkabackups.kafka.oso.sh', 'first', 'team=payments']);
    await eventually(
      'the update is seen',
      () => informer.cache.get({ namespace: watched, name: 'first' })?.metadata.labels?.team === 'payments',
    );
    assert.ok(names(events, 'updated').includes('first'));

    await admin.kubectl(['-n', watched, 'delete', 'kafkabackups.kafka.oso.sh', 'first', '--wait=false']);
    await eventually(
      'the delete is seen',
      () => informer.cache.get({ namespace: watched, name: 'first' }) === undefined,
    );
    assert.deepEqual(names(events, 'deleted'), ['first']);
    assert.deepEqual(
      informer.cache.list().map((o) => o.metadata.name),
      ['existing'],
    );
  });

  test('watches all namespaces when given none', async (t) => {
    const { admin, watched } = await installOperator(t);
    // Cluster-wide reads need the cluster-wide install's ClusterRole; the admin stands in for it here.
    const informer = new Informer({ kind: KB, client: operatorKube(need('kube').kubeconfig), resyncMs: 0 });
    informer.start();
    t.after(() => informer.stop());
    await informer.waitForSync();
    await admin.apply([kafkaBackup('anywhere')], watched);
    await eventually(
      'seen',
      () => informer.cache.get({ namespace: watched, name: 'anywhere' }) !== undefined,
    );
    assert.ok(informer.cache.list(watched).some((o) => o.metadata.name === 'anywhere'));
  });

  test('reopens after its connection is cut and catches up on what changed meanwhile, with backoff', async (t) => {
    const { admin, watched, kubeconfig } = await installOperator(t);
    const proxy = await ApiServerProxy.start(need('kube').server);
    t.after(() => proxy.close());
    const metrics = new OperatorMetrics(undefined, { processMetrics: false });
    const informer = new Informer({
      kind: KB,
      namespace: watched,
      client: operatorKube(kubeconfig, proxy.url),
      resyncMs: 0,
      reconnectBackoff: { initialMs: 500, maxMs: 4000, jitter: 0.5 },
      metrics,
    });
    informer.start();
    t.after(() => informer.stop());
    await admin.apply([kafkaBackup('before')], watched);
    await informer.waitForSync();
    await eventually(
      'before is cached',
      () => informer.cache.get({ namespace: watched, name: 'before' }) !== undefined,
    );

    // An outage: every connection dropped, new ones refused, for three seconds.
    proxy.refusing = true;
    proxy.cut();
    const attemptsBefore = proxy.connections;
    await admin.apply([kafkaBackup('during')], watched);
    await admin.kubectl(['-n', watched, 'delete', 'kafkabackups.kafka.oso.sh', 'before', '--wait=false']);
    await sleep(3000);
    const attempts = proxy.connections - attemptsBefore;
    // Backoff 0.25-0.5 s, 0.5-1 s, 1-2 s: a handful of attempts in three seconds, not a flood.
    assert.ok(attempts >= 1 && attempts <= 5, `${attempts} connection attempts during a 3 s outage`);
    assert.equal(informer.isHealthy(), true, 'an informer that keeps retrying is alive');
    proxy.refusing = false;

    await eventually(
      'the changes made during the outage are seen',
      () =>
        informer.cache.get({ namespace: watched, name: 'during' }) !== undefined &&
        informer.cache.get({ namespace: watched, name: 'before' }) === undefined,
    );
    const restarts = await metrics.registry.getSingleMetricAsString(
      'kafka_backup_operator_watch_restarts_total',
    );
    assert.match(restarts, /reason="error"\} [1-9]/);
  });

  test('a silently stalled connection (no data, no close) is detected by the watchdog and the watch reopened', async (t) => {
    const { admin, watched, kubeconfig } = await installOperator(t);
    const proxy = await ApiServerProxy.start(need('kube').server);
    t.after(() => proxy.close());
    const metrics = new OperatorMetrics(undefined, { processMetrics: false });
    const idleTimeoutMs = 2000;
    const informer = new Informer({
      kind: KB,
      namespace: watched,
      client: operatorKube(kubeconfig, proxy.url),
      resyncMs: 0,
      idleTimeoutMs,
      reconnectBackoff: { initialMs: 200, maxMs: 1000, jitter: 0.5 },
      metrics,
    });
    informer.start();
    t.after(() => informer.stop());
    await informer.waitForSync();

    proxy.freeze();
    await admin.apply([kafkaBackup('unseen-while-stalled')], watched);
    await eventually('the watchdog gave up on the stalled watch', async () =>
      /reason="stalled"\} [1-9]/.test(
        await metrics.registry.getSingleMetricAsString('kafka_backup_operator_watch_restarts_total'),
      ),
    );
    assert.equal(informer.cache.get({ namespace: watched, name: 'unseen-while-stalled' }), undefined);
    assert.equal(informer.isHealthy(), true);
    proxy.thaw();
    const thawed = Date.now();
    await eventually(
      'the reopened watch delivers what happened meanwhile',
      () => informer.cache.get({ namespace: watched, name: 'unseen-while-stalled' }) !== undefined,
    );
    // At worst: the attempt in flight at the thaw stalls until the watchdog, then one backoff.
    assert.ok(
      Date.now() - thawed < idleTimeoutMs + 1000 + 3000,
      `caught up ${Date.now() - thawed} ms after the thaw`,
    );
  });

  test('relists when the API server answers 410 Gone to a watch from an expired resourceVersion', async (t) => {
    const { admin, watched, kubeconfig } = await installOperator(t);
    const kube = operatorKube(kubeconfig);
    await admin.apply([kafkaBackup('kept')], watched);
    // The first watch asks for resourceVersion 1, long compacted out of the API server's window:
    // the server's answer is a real 410 Gone (Expired).
    let first = true;
    const expiring: Pick<ResourceClient, 'list' | 'watch'> = {
      list: (kind, namespace) => kube.list(kind, namespace),
      watch: (kind, request) => {
        const expired = first;
        first = false;
        return kube.watch(kind, expired ? { ...request, resourceVersion: '1' } : request);
      },
    };
    const metrics = new OperatorMetrics(undefined, { processMetrics: false });
    const informer = new Informer({ kind: KB, namespace: watched, client: expiring, resyncMs: 0, metrics });
    informer.start();
    t.after(() => informer.stop());
    await informer.waitForSync();
    await eventually('relisted after the 410', async () =>
      /relists_total\{[^}]*\} 2/.test(
        await metrics.registry.getSingleMetricAsString('kafka_backup_operator_relists_total'),
      ),
    );
    assert.match(
      await metrics.registry.getSingleMetricAsString('kafka_backup_operator_watch_restarts_total'),
      /reason="gone"\} 1/,
    );
    await admin.apply([kafkaBackup('after')], watched);
    await eventually(
      'the watch that followed the relist delivers',
      () => informer.cache.get({ namespace: watched, name: 'after' }) !== undefined,
    );
    assert.ok(informer.cache.get({ namespace: watched, name: 'kept' }));
  });
});
