/**
 * `kafka-backup operator` in real processes, as two replicas of the Deployment would run it (the
 * flags lib/operator.ts synthesizes, the ServiceAccount's token and RBAC): one leads; killed with
 * SIGKILL, the other takes over once the Lease expires; SIGTERM shuts down cleanly and releases
 * the Lease.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { eventually, installOperator, kafkaBackup, LEASE_NAME } from './operator-env.ts';
import { type OperatorReplica, startReplica } from './operator-replica.ts';

test('two operator processes: one leads; SIGKILL hands over after the Lease expires; SIGTERM releases it', async (t) => {
  const { admin, operatorNamespace, watched, kubeconfig } = await installOperator(t);
  const leaseDurationMs = 4000;
  const args = [
    '--metrics-bind-address=127.0.0.1:0',
    '--health-probe-bind-address=127.0.0.1:0',
    '--leader-elect=true',
    `--leader-election-id=${LEASE_NAME}`,
    `--leader-election-namespace=${operatorNamespace}`,
    `--leader-elect-lease-duration=${leaseDurationMs / 1000}s`,
    '--leader-elect-renew-deadline=3s',
    '--leader-elect-retry-period=500ms',
  ];
  const entry = join(import.meta.dirname, 'fixtures', 'run-operator.ts');
  const replicas = ['op-a', 'op-b'].map((name) => startReplica(name, { kubeconfig, watched, args, entry }));
  t.after(() => {
    for (const r of replicas) r.child.kill('SIGKILL');
  });
  const holder = async () =>
    (
      await admin
        .getJson<{ spec: { holderIdentity?: string } }>(['-n', operatorNamespace, 'lease', LEASE_NAME])
        .catch(() => ({ spec: {} as { holderIdentity?: string } }))
    ).spec.holderIdentity;
  const message = async (name: string) =>
    (
      (await admin.getJson(['-n', watched, 'kafkabackups.kafka.oso.sh', name])).status as
        | { message?: string }
        | undefined
    )?.message;

  await eventually('a replica holds the Lease', async () => /^op-[ab]_/.test((await holder()) ?? ''), 60_000);
  const leaderName = ((await holder()) ?? '').split('_')[0];
  const leader = replicas.find((r) => r.name === leaderName) as OperatorReplica;
  const standby = replicas.find((r) => r.name !== leaderName) as OperatorReplica;

  await admin.apply([kafkaBackup('first')], watched);
  await eventually(
    'the leader reconciled',
    async () => (await message('first')) === `reconciled by ${leader.name}`,
  );

  // A crash: no chance to release the Lease.
  leader.child.kill('SIGKILL');
  const killed = Date.now();
  await leader.exit;
  await eventually(
    'the standby holds the Lease',
    async () => (await holder())?.startsWith(`${standby.name}_`) ?? false,
    30_000,
  );
  const takeover = Date.now() - killed;
  assert.ok(
    takeover >= leaseDurationMs - 1000,
    `took over after ${takeover} ms: not before the Lease expired`,
  );
  assert.ok(takeover <= leaseDurationMs + 5000, `took over after ${takeover} ms`);
  await admin.apply([kafkaBackup('second')], watched);
  await eventually(
    'the new leader reconciles',
    async () => (await message('second')) === `reconciled by ${standby.name}`,
  );
  assert.ok(standby.logs.some((l) => l.msg === 'became leader'));

  // Graceful shutdown: exit 0, Lease released so a new replica need not wait for it to expire.
  standby.child.kill('SIGTERM');
  assert.equal(await standby.exit, 0);
  assert.equal(await holder(), undefined, 'the Lease is released');
  assert.ok(standby.logs.some((l) => l.msg === 'released the Lease'));
  assert.ok(standby.logs.some((l) => l.msg === 'manager stopped'));
});
