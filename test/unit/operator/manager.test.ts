import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Controller } from '../../../runtime/operator/controller.ts';
import { Manager } from '../../../runtime/operator/manager.ts';
import { KAFKA_KINDS } from '../../../runtime/operator/resource.ts';
import { FakeKube } from './fake-kube.ts';
import { eventually } from './wait.ts';

const kind = KAFKA_KINDS.KafkaBackup;

describe('Manager', () => {
  test('without leader election it reconciles every listed object once the caches synced', async (t) => {
    const kube = new FakeKube();
    for (const name of ['a', 'b']) kube.put(kind, { metadata: { name, namespace: 'ns' } });
    const seen: string[] = [];
    const controller: Controller = {
      kind,
      async reconcile(key, context) {
        assert.ok(context.cache.get(key), 'the object is in the cache when its reconcile runs');
        seen.push(key.name);
      },
    };
    const m = new Manager({ kube, controllers: [controller], identity: 'solo', namespaces: ['ns'] });
    await m.start();
    t.after(() => m.stop());
    await eventually('both reconciled', () => seen.length === 2);
    assert.deepEqual(seen.sort(), ['a', 'b']);
    assert.equal(m.isLeader, true);
  });

  test('losing the Lease aborts reconciles in progress at once and ends the manager with leadership-lost', async () => {
    const kube = new FakeKube();
    kube.put(kind, { metadata: { name: 'slow', namespace: 'ns' } });
    let signal: AbortSignal | undefined;
    const controller: Controller = {
      kind,
      async reconcile(_key, context) {
        signal = context.signal;
        // A long run that only stops when told to.
        await new Promise((resolve) => context.signal.addEventListener('abort', resolve, { once: true }));
      },
    };
    const m = new Manager({
      kube,
      controllers: [controller],
      identity: 'me',
      namespaces: ['ns'],
      gracePeriodMs: 60_000,
      leaderElection: {
        namespace: 'ops',
        name: 'lease',
        identity: 'me',
        leaseDurationMs: 2000,
        renewDeadlineMs: 1000,
        retryPeriodMs: 100,
      },
    });
    await m.start();
    await eventually('the reconcile is running', () => signal !== undefined);
    kube.leaseOutage = true;
    const outage = Date.now();
    assert.equal(await m.done, 'leadership-lost');
    assert.equal(signal?.aborted, true);
    assert.equal(m.isLeader, false);
    assert.ok(
      Date.now() - outage < 1500,
      'stopped before the Lease could expire, not after the grace period',
    );
  });

  test('a kind a controller only watches is cached, and its changes reconcile the keys the controller names', async (t) => {
    const kube = new FakeKube();
    const own = KAFKA_KINDS.KafkaBackupValidation;
    kube.put(kind, { metadata: { name: 'backup', namespace: 'ns' } });
    const seen: string[] = [];
    let cached: unknown;
    const controller: Controller = {
      kind: own,
      watches: [{ kind, keysFor: (object) => [{ namespace: 'ns', name: `for-${object.metadata.name}` }] }],
      async reconcile(key, context) {
        cached = context.cacheOf(kind).get({ namespace: 'ns', name: 'backup' });
        seen.push(key.name);
      },
    };
    // The fake delivers no watch events after the list: a resync stands for a change.
    const m = new Manager({
      kube,
      controllers: [controller],
      identity: 'solo',
      namespaces: ['ns'],
      informer: { resyncMs: 100 },
    });
    await m.start();
    t.after(() => m.stop());
    await eventually('the dependent key reconciled', () => seen.length >= 1);
    assert.deepEqual(
      [...new Set(seen)],
      ['for-backup'],
      'only the key keysFor named: the watched kind is not reconciled itself',
    );
    assert.ok(cached, 'the watched kind is in its cache');
  });

  test('cacheOf() names an unwatched kind', () => {
    const m = new Manager({ kube: new FakeKube(), controllers: [], identity: 'x' });
    assert.throws(() => m.cacheOf(KAFKA_KINDS.KafkaRestore), /does not watch KafkaRestore/);
  });
});
