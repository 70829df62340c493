import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LeaderElector } from '../../../runtime/operator/leader-election.ts';
import { FakeKube } from './fake-kube.ts';
import { eventually } from './wait.ts';

const timing = { leaseDurationMs: 2000, renewDeadlineMs: 1000, retryPeriodMs: 100 };

function candidate(kube: FakeKube, identity: string) {
  const log: string[] = [];
  const elector = new LeaderElector(
    kube,
    { namespace: 'ops', name: 'leader', identity, ...timing },
    {
      onStartedLeading: () => log.push('started'),
      onStoppedLeading: () => log.push('stopped'),
    },
  );
  void elector.run();
  return { elector, log };
}

describe('LeaderElector', () => {
  test('of two candidates exactly one leads, and both know who', async (t) => {
    const kube = new FakeKube();
    const a = candidate(kube, 'a');
    const b = candidate(kube, 'b');
    t.after(() => Promise.all([a.elector.stop(), b.elector.stop()]));
    await eventually('someone leads', () => a.elector.isLeader || b.elector.isLeader);
    // Several renew periods: the standby must never take over a Lease that is being renewed.
    for (let n = 0; n < 10; n++) {
      assert.notEqual(a.elector.isLeader, b.elector.isLeader, 'exactly one leader');
      await new Promise((r) => setTimeout(r, 50));
    }
    const leader = a.elector.isLeader ? 'a' : 'b';
    assert.equal(kube.leases.get('ops/leader')?.holderIdentity, leader);
    await eventually(
      'the standby has seen the leader',
      () => a.elector.leader === leader && b.elector.leader === leader,
    );
  });

  test('a released Lease is taken over at once; leaseTransitions counts the change', async (t) => {
    const kube = new FakeKube();
    const a = candidate(kube, 'a');
    await eventually('a leads', () => a.elector.isLeader);
    const b = candidate(kube, 'b');
    t.after(() => b.elector.stop());
    const released = Date.now();
    await a.elector.stop();
    assert.deepEqual(a.log, ['started', 'stopped']);
    await eventually('b leads', () => b.elector.isLeader);
    assert.ok(Date.now() - released < timing.leaseDurationMs, 'sooner than the lease duration');
    const lease = kube.leases.get('ops/leader');
    assert.equal(lease?.holderIdentity, 'b');
    assert.equal(lease?.leaseTransitions, 1);
  });

  test('a leader that vanishes without releasing is replaced once its Lease expires, not before', async (t) => {
    const kube = new FakeKube();
    const a = candidate(kube, 'a');
    await eventually('a leads', () => a.elector.isLeader);
    const b = candidate(kube, 'b');
    t.after(() => b.elector.stop());
    await eventually('b has seen a as leader', () => b.elector.leader === 'a');
    const crashed = Date.now();
    await a.elector.stop({ release: false });
    await eventually('b leads', () => b.elector.isLeader, 5000);
    const waited = Date.now() - crashed;
    assert.ok(waited >= timing.leaseDurationMs - 300, `took over after ${waited} ms`);
    assert.ok(waited <= timing.leaseDurationMs + 1000, `took over after ${waited} ms`);
  });

  test('a leader that cannot renew stops leading within the renew deadline, before the Lease expires', async () => {
    const kube = new FakeKube();
    const a = candidate(kube, 'a');
    await eventually('a leads', () => a.elector.isLeader);
    kube.leaseOutage = true;
    const outage = Date.now();
    await eventually('a stopped leading', () => !a.elector.isLeader, 5000);
    const took = Date.now() - outage;
    assert.ok(
      took < timing.leaseDurationMs,
      `stopped after ${took} ms, the Lease lasts ${timing.leaseDurationMs}`,
    );
    assert.deepEqual(a.log, ['started', 'stopped']);
    await a.elector.stop();
    assert.deepEqual(a.log, ['started', 'stopped'], 'stop() after losing does not call back twice');
  });

  test('a write with a stale resourceVersion loses: two candidates racing for a free Lease cannot both win', async () => {
    const kube = new FakeKube();
    // Many candidates start at once on a Lease that does not exist yet.
    const all = ['a', 'b', 'c', 'd', 'e'].map((id) => candidate(kube, id));
    await eventually('someone leads', () => all.some((c) => c.elector.isLeader));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(all.filter((c) => c.elector.isLeader).length, 1);
    await Promise.all(all.map((c) => c.elector.stop()));
  });

  test('rejects timings where the leader could still act after its Lease expired', () => {
    assert.throws(
      () =>
        new LeaderElector(
          new FakeKube(),
          { namespace: 'x', name: 'y', identity: 'z', leaseDurationMs: 10_000, renewDeadlineMs: 15_000 },
          { onStartedLeading() {}, onStoppedLeading() {} },
        ),
      /leaseDuration must exceed renewDeadline/,
    );
  });
});
