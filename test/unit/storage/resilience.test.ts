import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CircuitBreaker, withCircuitBreaker } from '../../../runtime/storage/circuit-breaker.ts';
import { MemoryObjectStore } from '../../../runtime/storage/memory.ts';
import {
  type ObjectStore,
  StorageError,
  type StorageErrorKind,
} from '../../../runtime/storage/object-store.ts';
import { TokenBucket, withRateLimit } from '../../../runtime/storage/rate-limit.ts';
import { withRetry } from '../../../runtime/storage/retry.ts';
import { FakeClock } from './fake-clock.ts';

/** A real in-memory store whose next calls fail with the given kinds (the outage being simulated). */
function failing(store: ObjectStore, failures: StorageErrorKind[]): ObjectStore & { calls: number } {
  const wrapped = {
    calls: 0,
    description: 'flaky',
    maybeFail(key: string) {
      wrapped.calls++;
      const kind = failures.shift();
      if (kind) throw new StorageError(kind, `injected ${kind}`, { key });
    },
    async put(key: string, body: Uint8Array | AsyncIterable<Uint8Array>) {
      wrapped.maybeFail(key);
      return store.put(key, body);
    },
    async get(key: string) {
      wrapped.maybeFail(key);
      return store.get(key);
    },
    async head(key: string) {
      wrapped.maybeFail(key);
      return store.head(key);
    },
    async delete(key: string) {
      wrapped.maybeFail(key);
      return store.delete(key);
    },
    stream: (key: string) => store.stream(key),
    async *list(prefix: string, options?: { startAfter?: string }) {
      for await (const info of store.list(prefix, options)) {
        wrapped.maybeFail(info.key);
        yield info;
      }
    },
  };
  return wrapped;
}

describe('withRetry', () => {
  test('retries transient and throttled errors with jittered exponential backoff', async () => {
    const clock = new FakeClock();
    const inner = failing(new MemoryObjectStore(), ['transient', 'throttled', 'transient']);
    const store = withRetry(inner, { clock, random: () => 0.5, baseDelayMs: 100 });
    await store.put('a', new Uint8Array([1]));
    assert.equal(inner.calls, 4);
    assert.deepEqual(clock.sleeps, [50, 100, 200]);
  });

  test('does not retry answers (not-found, precondition-failed) or access-denied', async () => {
    for (const kind of ['not-found', 'precondition-failed', 'access-denied', 'fatal'] as const) {
      const inner = failing(new MemoryObjectStore(), [kind]);
      const store = withRetry(inner, { clock: new FakeClock() });
      await assert.rejects(store.get('a'), (e: unknown) => e instanceof StorageError && e.kind === kind);
      assert.equal(inner.calls, 1);
    }
  });

  test('gives up after maxAttempts with the last error', async () => {
    const inner = failing(new MemoryObjectStore(), Array(10).fill('transient'));
    const store = withRetry(inner, { clock: new FakeClock(), maxAttempts: 3 });
    await assert.rejects(store.head('a'), /injected transient/);
    assert.equal(inner.calls, 3);
  });

  test('a listing interrupted mid-way resumes after the last key, without repeats', async () => {
    const mem = new MemoryObjectStore();
    for (const k of ['p/1', 'p/2', 'p/3', 'p/4']) await mem.put(k, new Uint8Array());
    const failures: StorageErrorKind[] = [];
    const inner = failing(mem, failures);
    const store = withRetry(inner, { clock: new FakeClock() });
    const seen: string[] = [];
    for await (const info of store.list('p/')) {
      seen.push(info.key);
      if (seen.length === 2) failures.push('transient');
    }
    assert.deepEqual(seen, ['p/1', 'p/2', 'p/3', 'p/4']);
  });
});

describe('TokenBucket and withRateLimit', () => {
  test('moving N bytes at R bytes/s takes (N - burst) / R seconds of (virtual) time', async () => {
    const clock = new FakeClock();
    const store = withRateLimit(new MemoryObjectStore(), new TokenBucket(1000, { burst: 1000, clock }));
    for (let i = 0; i < 10; i++) await store.put(`k${i}`, new Uint8Array(500));
    // 5000 bytes, 1000 free in the burst: 4 s.
    assert.equal(clock.time, 4000);
  });

  test('a request larger than the burst waits its debt off, and reads are throttled too', async () => {
    const clock = new FakeClock();
    const mem = new MemoryObjectStore();
    await mem.put('big', new Uint8Array(10_000));
    const store = withRateLimit(mem, new TokenBucket(2000, { burst: 1000, clock }));
    await store.get('big');
    assert.equal(clock.time, 4500);
    await store.get('big', { start: 0, end: 2000 });
    assert.equal(clock.time, 5500);
  });

  test('tokens refill with elapsed time up to the burst', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(100, { burst: 100, clock });
    await bucket.take(100);
    clock.time += 10_000; // idle: refills only to the burst
    await bucket.take(300);
    assert.equal(clock.time, 12_000);
  });

  test('streamed uploads are metered chunk by chunk', async () => {
    const clock = new FakeClock();
    const store = withRateLimit(new MemoryObjectStore(), new TokenBucket(1000, { burst: 1000, clock }));
    async function* chunks() {
      for (let i = 0; i < 5; i++) yield new Uint8Array(1000);
    }
    await store.put('s', chunks());
    assert.equal(clock.time, 4000);
  });
});

describe('CircuitBreaker', () => {
  test('opens after N consecutive outages, fails fast while open, half-opens after the cool-down', async () => {
    const clock = new FakeClock();
    const states: string[] = [];
    const breaker = new CircuitBreaker('test', {
      failureThreshold: 3,
      resetTimeoutMs: 1000,
      clock,
      onStateChange: (s) => states.push(s),
    });
    const inner = failing(new MemoryObjectStore(), ['transient', 'transient', 'transient']);
    const store = withCircuitBreaker(inner, breaker);
    for (let i = 0; i < 3; i++) await assert.rejects(store.get('a'), /injected/);
    assert.equal(breaker.currentState, 'open');
    await assert.rejects(store.get('a'), (e: Error) => {
      // the open circuit names the outage behind it (and keeps it as the cause)
      assert.match(e.message, /is failing \(last error: .*injected.*\); the circuit breaker is open/);
      assert.ok(e.cause instanceof Error);
      return true;
    });
    assert.equal(inner.calls, 3, 'an open circuit does not call the store');
    clock.time += 1000;
    assert.equal(breaker.currentState, 'half-open');
    await store.put('a', new Uint8Array([1]));
    assert.equal(breaker.currentState, 'closed');
    assert.deepEqual(states, ['open', 'half-open', 'closed']);
  });

  test('a failed trial call opens the circuit again', async () => {
    const clock = new FakeClock();
    const breaker = new CircuitBreaker('test', { failureThreshold: 1, resetTimeoutMs: 500, clock });
    const inner = failing(new MemoryObjectStore(), ['transient', 'transient']);
    const store = withCircuitBreaker(inner, breaker);
    await assert.rejects(store.head('a'), /injected/);
    clock.time += 500;
    await assert.rejects(store.head('a'), /injected/);
    assert.equal(breaker.currentState, 'open');
    await assert.rejects(store.head('a'), /circuit breaker is open/);
  });

  test('answers such as not-found do not count as outages', async () => {
    const breaker = new CircuitBreaker('test', { failureThreshold: 1, clock: new FakeClock() });
    const store = withCircuitBreaker(new MemoryObjectStore(), breaker);
    await assert.rejects(
      store.get('missing'),
      (e: unknown) => e instanceof StorageError && e.kind === 'not-found',
    );
    assert.equal(breaker.currentState, 'closed');
  });

  test('retry over an open breaker waits the cool-down off and then succeeds', async () => {
    const clock = new FakeClock();
    const breaker = new CircuitBreaker('test', { failureThreshold: 2, resetTimeoutMs: 1000, clock });
    const inner = failing(new MemoryObjectStore(), ['transient', 'transient']);
    const store = withRetry(withCircuitBreaker(inner, breaker), {
      clock,
      maxAttempts: 20,
      baseDelayMs: 400,
      maxDelayMs: 400,
      random: () => 0.99,
    });
    await store.put('a', new Uint8Array([1]));
    assert.equal(inner.calls, 3);
    assert.ok(clock.time >= 1000);
  });
});

describe('circuitBreaker.operationTimeoutMs', () => {
  /** A store whose calls hang until released. */
  function hanging(): { store: MemoryObjectStore; release: () => void } {
    const store = new MemoryObjectStore();
    let release = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const get = store.get.bind(store);
    const put = store.put.bind(store);
    store.get = async (key, range) => {
      await gate;
      return get(key, range);
    };
    store.put = async (key, body, options) => {
      await gate;
      return put(key, body, options);
    };
    return { store, release };
  }

  test('a call slower than the timeout fails as a transient outage and counts toward opening the circuit', async () => {
    const { store: inner, release } = hanging();
    const breaker = new CircuitBreaker('mem', { failureThreshold: 2, operationTimeoutMs: 50 });
    const store = withCircuitBreaker(inner, breaker);
    for (let i = 0; i < 2; i++) {
      await assert.rejects(
        store.get('k', { start: 0, end: 10 }),
        (e: unknown) =>
          e instanceof StorageError &&
          e.kind === 'transient' &&
          /reading k took longer than 50 ms \(circuitBreaker\.operationTimeoutMs\)/.test(e.message),
      );
    }
    assert.equal(breaker.currentState, 'open');
    release();
  });

  test('in-memory writes are bounded; streamed uploads are not (their duration grows with their size)', async () => {
    const { store: inner, release } = hanging();
    const store = withCircuitBreaker(inner, new CircuitBreaker('mem', { operationTimeoutMs: 50 }));
    await assert.rejects(store.put('doc', new Uint8Array([1])), /writing doc took longer than 50 ms/);
    const streamed = store.put(
      'segment',
      (async function* () {
        yield new Uint8Array([2]);
      })(),
    );
    await new Promise((r) => setTimeout(r, 120));
    release();
    await streamed;
    assert.deepEqual([...(await inner.get('segment'))], [2]);
  });
});

test('closing a wrapped store closes the store beneath every wrapper (its connections are released)', () => {
  let closed = 0;
  const base = Object.assign(new MemoryObjectStore(), { close: () => void closed++ });
  const wrapped = withRateLimit(
    withRetry(withCircuitBreaker(base, new CircuitBreaker('test', {}))),
    new TokenBucket(1024 * 1024),
  );
  wrapped.close?.();
  assert.equal(closed, 1);
  // A store without connections has nothing to close: closing its wrappers is harmless.
  withRetry(new MemoryObjectStore()).close?.();
});
