import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { CircuitBreaker, withCircuitBreaker } from '../../../runtime/storage/circuit-breaker.ts';
import type { Clock } from '../../../runtime/storage/clock.ts';
import { systemClock } from '../../../runtime/storage/clock.ts';
import { type ObjectStore, StorageError } from '../../../runtime/storage/object-store.ts';
import { withRetry } from '../../../runtime/storage/retry.ts';
import { S3ObjectStore } from '../../../runtime/storage/s3.ts';
import { need, uniqueName } from '../../env/fixture.ts';
import { createS3Bucket, deleteS3Bucket, s3Client, ToxiproxyClient } from '../../env/storage-clients.ts';

/** S3 (MinIO) reached through toxiproxy, so connections can be reset and delayed for real. */
describe('storage resilience against a real S3 behind toxiproxy', () => {
  const s3 = need('s3');
  const toxi = new ToxiproxyClient(need('toxiproxy').apiUrl);
  const client = s3Client(s3);
  const proxyName = uniqueName('s3-proxy');
  let bucket: string;
  let endpoint: string;

  before(async () => {
    bucket = await createS3Bucket(client, 'resilience');
    const proxy = await toxi.createProxy(proxyName, new URL(s3.endpoint).host);
    endpoint = `http://${proxy.listen}`;
  });
  after(async () => {
    await toxi.deleteProxy(proxyName).catch(() => {});
    await deleteS3Bucket(client, bucket);
    client.destroy();
  });

  const adapter = () =>
    new S3ObjectStore({
      bucket,
      region: s3.region,
      endpoint,
      pathStyle: true,
      allowHttp: true,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
      logger: { warn: () => {} },
      // Only our retry layer retries, so the test sees each reset.
      clientOverrides: { maxAttempts: 1 },
    });

  test('connection resets surface as transient errors; withRetry completes once the network recovers', async () => {
    const store: ObjectStore = adapter();
    await toxi.addResetPeer(proxyName, 'reset', { timeoutMs: 0, stream: 'upstream' });
    await assert.rejects(
      store.put('x', randomBytes(1000)),
      (e: unknown) => e instanceof StorageError && e.kind === 'transient',
    );

    // The network heals during the first backoff: the clock's sleep removes the toxic.
    let retries = 0;
    const healingClock: Clock = {
      now: systemClock.now,
      sleep: async (ms) => {
        retries++;
        if (retries === 1) await toxi.removeToxic(proxyName, 'reset');
        await systemClock.sleep(Math.min(ms, 50));
      },
    };
    const body = randomBytes(50_000);
    await withRetry(store, { clock: healingClock }).put('y', body);
    assert.ok(retries >= 1);
    assert.ok(Buffer.from(await store.get('y')).equals(body));
  });

  test('the circuit breaker opens on a broken network and stops calling storage, then recovers', async () => {
    const store = adapter();
    let calls = 0;
    const counting: ObjectStore = {
      description: store.description,
      put: (k, b, o) => store.put(k, b, o),
      get: (k, r) => store.get(k, r),
      stream: (k) => store.stream(k),
      list: (p, o) => store.list(p, o),
      delete: (k) => store.delete(k),
      head: (k) => {
        calls++;
        return store.head(k);
      },
    };
    let now = 0;
    const clock: Clock = { now: () => now, sleep: async () => {} };
    const breaker = new CircuitBreaker('s3', { failureThreshold: 3, resetTimeoutMs: 10_000, clock });
    const guarded = withCircuitBreaker(counting, breaker);
    await toxi.addResetPeer(proxyName, 'down', { timeoutMs: 0, stream: 'upstream' });
    for (let i = 0; i < 3; i++)
      await assert.rejects(
        guarded.head('x'),
        (e: unknown) => e instanceof StorageError && e.kind === 'transient',
      );
    assert.equal(breaker.currentState, 'open');
    await assert.rejects(guarded.head('x'), /circuit breaker is open/);
    assert.equal(calls, 3, 'the open breaker did not call storage');
    await toxi.removeToxic(proxyName, 'down');
    now += 10_000;
    assert.equal(breaker.currentState, 'half-open');
    assert.ok(await guarded.head('y'));
    assert.equal(breaker.currentState, 'closed');
  });

  test('latency slows but does not break a multipart upload', async () => {
    await toxi.addLatency(proxyName, 'slow', 50, { jitterMs: 20 });
    try {
      const body = randomBytes(12 * 1024 * 1024);
      async function* chunks() {
        for (let i = 0; i < body.length; i += 1024 * 1024) yield body.subarray(i, i + 1024 * 1024);
      }
      const store = adapter();
      await store.put('slow/large', chunks());
      assert.equal((await store.head('slow/large'))?.size, body.length);
    } finally {
      await toxi.removeToxic(proxyName, 'slow');
    }
  });
});
