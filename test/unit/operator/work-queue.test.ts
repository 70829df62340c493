import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backoffDelay } from '../../../runtime/operator/backoff.ts';
import { WorkQueue } from '../../../runtime/operator/work-queue.ts';

describe('backoff', () => {
  const policy = { initialMs: 100, maxMs: 1000, jitter: 0.2 };

  test('doubles per attempt up to the cap', () => {
    const noJitter = () => 0;
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map((n) => backoffDelay(policy, n, noJitter)),
      [100, 200, 400, 800, 1000, 1000],
    );
  });

  test('jitter takes off at most its fraction, never adds', () => {
    for (let attempt = 1; attempt <= 8; attempt++) {
      const ceiling = Math.min(1000, 100 * 2 ** (attempt - 1));
      for (let i = 0; i < 200; i++) {
        const delay = backoffDelay(policy, attempt);
        assert.ok(
          delay <= ceiling && delay >= ceiling * 0.8,
          `attempt ${attempt}: ${delay} outside [${ceiling * 0.8}, ${ceiling}]`,
        );
      }
      assert.equal(
        backoffDelay(policy, attempt, () => 1),
        Math.round(ceiling * 0.8),
      );
    }
  });
});

describe('WorkQueue', () => {
  test('a pending key is queued once (dedup)', async () => {
    const queue = new WorkQueue();
    for (const key of ['a', 'b', 'a', 'a', 'b']) queue.add(key);
    assert.equal(queue.depth, 2);
    assert.equal(await queue.get(), 'a');
    assert.equal(await queue.get(), 'b');
    assert.equal(queue.depth, 0);
  });

  test('a key being processed is never handed to a second worker; re-added, it comes back after done()', async () => {
    const queue = new WorkQueue();
    queue.add('a');
    assert.equal(await queue.get(), 'a');
    queue.add('a');
    queue.add('b');
    assert.equal(await queue.get(), 'b', 'a is in progress, so the next worker gets b');
    let handedOut: string | undefined;
    const waiting = queue.get().then((k) => {
      handedOut = k;
    });
    await new Promise((r) => setImmediate(r));
    assert.equal(handedOut, undefined, 'no second a while the first is in progress');
    queue.done('a');
    await waiting;
    assert.equal(handedOut, 'a');
  });

  test('addAfter delays the key; the earlier of two delays wins', async () => {
    const queue = new WorkQueue();
    const start = Date.now();
    queue.addAfter('a', 200);
    queue.addAfter('a', 30);
    queue.addAfter('a', 500);
    assert.equal(queue.depth, 0);
    assert.equal(await queue.get(), 'a');
    const waited = Date.now() - start;
    assert.ok(waited >= 25 && waited < 200, `waited ${waited} ms`);
    queue.done('a');
  });

  test('addRateLimited backs off exponentially per key, with jitter, until forget()', () => {
    const queue = new WorkQueue({ backoff: { initialMs: 10_000, maxMs: 80_000, jitter: 0.5 } });
    const delays = [1, 2, 3, 4, 5].map(() => queue.addRateLimited('a'));
    const ceilings = [10_000, 20_000, 40_000, 80_000, 80_000];
    delays.forEach((d, i) => {
      const ceiling = ceilings[i] as number;
      assert.ok(
        d > ceiling * 0.5 - 1 && d <= ceiling,
        `retry ${i + 1}: ${d} not in (${ceiling / 2}, ${ceiling}]`,
      );
    });
    assert.equal(queue.retries('a'), 5);
    assert.ok(queue.addRateLimited('b') <= 10_000, 'other keys have their own backoff');
    queue.forget('a');
    assert.equal(queue.retries('a'), 0);
    assert.ok(queue.addRateLimited('a') <= 10_000, 'after forget() the backoff starts over');
    queue.shutDown();
  });

  test('shutDown hands undefined to waiting workers and drops pending and delayed keys', async () => {
    const queue = new WorkQueue();
    const waiting = queue.get();
    queue.shutDown();
    assert.equal(await waiting, undefined);
    queue.add('a');
    queue.addAfter('b', 1);
    assert.equal(queue.depth, 0);
    assert.equal(await queue.get(), undefined);
  });

  test('drained() resolves when the last key in progress is done', async () => {
    const queue = new WorkQueue();
    queue.add('a');
    await queue.get();
    let drained = false;
    const wait = queue.drained().then(() => {
      drained = true;
    });
    await new Promise((r) => setImmediate(r));
    assert.equal(drained, false);
    queue.done('a');
    await wait;
    assert.equal(drained, true);
  });

  test('reports its depth on every change', async () => {
    const depths: number[] = [];
    const queue = new WorkQueue({ onDepth: (d) => depths.push(d) });
    queue.add('a');
    queue.add('b');
    await queue.get();
    assert.deepEqual(depths, [1, 2, 1]);
  });
});
