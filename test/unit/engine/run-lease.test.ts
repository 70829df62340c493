import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { EngineError } from '../../../runtime/engine/errors.ts';
import { RunLease } from '../../../runtime/engine/run-lease.ts';
import { MemoryObjectStore } from '../../../runtime/storage/memory.ts';
import { StorageError } from '../../../runtime/storage/object-store.ts';

const PREFIX = 'b1/leases/restore/r1/';
const ttlMs = 600;
const alive = () => true;

function epochs(store: MemoryObjectStore): number[] {
  return [...store.objects.keys()]
    .filter((k) => k.startsWith(PREFIX))
    .map((k) => Number(k.slice(PREFIX.length, -'.json'.length)))
    .sort((a, b) => a - b);
}

function holderDoc(store: MemoryObjectStore, epoch: number): Record<string, unknown> {
  const o = store.objects.get(`${PREFIX}${String(epoch).padStart(10, '0')}.json`);
  assert.ok(o, `epoch ${epoch} exists`);
  return JSON.parse(Buffer.from(o.bytes).toString()) as Record<string, unknown>;
}

const isConflict = (e: unknown) => e instanceof EngineError && e.kind === 'conflict';

/** A lease document as a run that died right after taking it would have left it. */
async function putHolder(
  store: MemoryObjectStore,
  epoch: number,
  holder: { host: string; pid: number; ttlMs: number },
): Promise<void> {
  const at = new Date().toISOString();
  const doc = {
    version: 1,
    epoch,
    holder: { host: holder.host, pid: holder.pid, token: 'dead' },
    acquiredAt: at,
    renewedAt: at,
    ttlMs: holder.ttlMs,
    released: false,
  };
  await store.put(`${PREFIX}${String(epoch).padStart(10, '0')}.json`, Buffer.from(JSON.stringify(doc)));
}

describe('RunLease: storage-side fencing of runs of one backup or restore', () => {
  test('a second run refuses while the first renews its lease, naming the holder', async () => {
    const store = new MemoryObjectStore();
    const first = await RunLease.acquire(store, PREFIX, {
      subject: 'restore r1',
      ttlMs,
      host: 'pod-a',
      pid: 11,
    });
    try {
      await assert.rejects(
        RunLease.acquire(store, PREFIX, {
          subject: 'restore r1',
          ttlMs,
          host: 'pod-b',
          pid: 12,
          isProcessAlive: alive,
        }),
        (e: unknown) =>
          isConflict(e) && /restore r1 is already running \(process 11 on pod-a/.test((e as Error).message),
      );
      first.assertHeld();
      assert.deepEqual(epochs(store), [1]);
    } finally {
      await first.release();
    }
  });

  test('a rerun on the same host takes over at once from a process that no longer exists', async () => {
    const store = new MemoryObjectStore();
    await putHolder(store, 1, { host: 'h', pid: 11, ttlMs: 60_000 });
    const started = performance.now();
    const rerun = await RunLease.acquire(store, PREFIX, {
      subject: 'restore r1',
      ttlMs: 60_000,
      host: 'h',
      pid: 12,
      isProcessAlive: (pid) => pid !== 11,
    });
    assert.ok(performance.now() - started < 1000, 'no wait for the 60 s ttl');
    assert.deepEqual(epochs(store), [2], 'the older epoch is removed');
    assert.equal((holderDoc(store, 2).holder as { pid: number }).pid, 12);
    await rerun.release();
    assert.equal(holderDoc(store, 2).released, true);
  });

  test('a holder on another machine that stopped renewing is waited for, then taken over', async () => {
    const store = new MemoryObjectStore();
    await putHolder(store, 1, { host: 'pod-a', pid: 11, ttlMs });
    const started = performance.now();
    const next = await RunLease.acquire(store, PREFIX, {
      subject: 'restore r1',
      ttlMs,
      host: 'pod-b',
      pid: 12,
      isProcessAlive: alive,
    });
    const waited = performance.now() - started;
    assert.ok(waited >= ttlMs * 0.8, `waited ${waited} ms for the ${ttlMs} ms lease to expire`);
    assert.deepEqual(epochs(store), [2]);
    await next.release();
  });

  test('a released lease is taken at once', async () => {
    const store = new MemoryObjectStore();
    const a = await RunLease.acquire(store, PREFIX, {
      subject: 'restore r1',
      ttlMs: 60_000,
      host: 'h',
      pid: 1,
      isProcessAlive: alive,
    });
    await a.release();
    const b = await RunLease.acquire(store, PREFIX, {
      subject: 'restore r1',
      ttlMs: 60_000,
      host: 'h',
      pid: 2,
      isProcessAlive: alive,
    });
    assert.deepEqual(epochs(store), [2]);
    assert.throws(() => a.assertHeld(), isConflict, 'a released lease no longer allows writes');
    await b.release();
  });

  test('of two runs starting together exactly one gets the lease', async () => {
    const store = new MemoryObjectStore();
    const results = await Promise.allSettled(
      [1, 2, 3].map((pid) =>
        RunLease.acquire(store, PREFIX, {
          subject: 'restore r1',
          ttlMs,
          host: 'h',
          pid,
          isProcessAlive: alive,
        }),
      ),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    assert.equal(won.length, 1, 'one holder');
    for (const r of results) if (r.status === 'rejected') assert.ok(isConflict(r.reason), String(r.reason));
    await (won[0] as PromiseFulfilledResult<RunLease>).value.release();
  });

  test('a holder that sees a newer epoch has lost the lease: it stops writing and its signal aborts', async () => {
    const store = new MemoryObjectStore();
    const a = await RunLease.acquire(store, PREFIX, { subject: 'restore r1', ttlMs, host: 'h', pid: 1 });
    // Someone (who judged the lease expired) took epoch 2.
    await store.put(
      `${PREFIX}0000000002.json`,
      Buffer.from(JSON.stringify({ ...holderDoc(store, 1), epoch: 2 })),
      { ifNoneMatch: true },
    );
    await delay(ttlMs / 3 + 150);
    assert.equal(a.signal.aborted, true);
    assert.throws(
      () => a.assertHeld(),
      (e: unknown) =>
        isConflict(e) && /lost its lease \(another run took it over\)/.test((e as Error).message),
    );
    await a.release();
    assert.equal(holderDoc(store, 2).released, false, 'a lost lease does not release the new holder');
  });

  test('a holder that cannot renew stops writing before anyone may take over', async () => {
    const store = new MemoryObjectStore();
    let now = Date.now();
    const a = await RunLease.acquire(store, PREFIX, {
      subject: 'backup b1',
      ttlMs: 60_000,
      host: 'h',
      pid: 1,
      now: () => now,
    });
    a.assertHeld();
    now += 41_000; // renewals failed for 41 s of a 60 s ttl: more than ttl - ttl/3 (40 s)
    assert.throws(
      () => a.assertHeld(),
      (e: unknown) => isConflict(e) && /could not be renewed for 41 s/.test((e as Error).message),
    );
    await a.release();
  });

  test('storage errors while acquiring are not mistaken for a conflict', async () => {
    const store = new MemoryObjectStore();
    store.put = async () => {
      throw new StorageError('access-denied', 'denied');
    };
    await assert.rejects(
      RunLease.acquire(store, PREFIX, { subject: 'restore r1' }),
      (e: unknown) => e instanceof StorageError && e.kind === 'access-denied',
    );
  });
});
