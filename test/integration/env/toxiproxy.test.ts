/**
 * Proves toxiproxy of the test environment injects faults: a proxy in front of MinIO carries real
 * S3 traffic, a latency toxic delays it, a reset_peer toxic breaks it, and removing a toxic heals it.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { need, uniqueName } from '../../env/fixture.ts';
import {
  createS3Bucket,
  deleteS3Bucket,
  getS3Object,
  s3Client,
  ToxiproxyClient,
} from '../../env/storage-clients.ts';

/** Milliseconds a GET of `key` through `client` takes, after checking it returns `body`. */
async function timedGet(client: S3Client, bucket: string, key: string, body: Uint8Array): Promise<number> {
  const start = performance.now();
  const bytes = await getS3Object(client, bucket, key);
  const elapsed = performance.now() - start;
  assert.deepEqual(Buffer.from(bytes), Buffer.from(body));
  return elapsed;
}

async function fastest(times: number, measure: () => Promise<number>): Promise<number> {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < times; i++) best = Math.min(best, await measure());
  return best;
}

test('toxiproxy in front of MinIO: traffic passes, latency delays it, reset_peer breaks it', async (t) => {
  const s3Info = need('s3');
  const toxiproxy = new ToxiproxyClient(need('toxiproxy').apiUrl);
  const direct = s3Client(s3Info);
  t.after(() => direct.destroy());
  const bucket = await createS3Bucket(direct, 'env-toxi');
  t.after(() => deleteS3Bucket(direct, bucket));
  const body = randomBytes(16 * 1024);
  await direct.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: body }));

  const proxy = await toxiproxy.createProxy(uniqueName('minio'), new URL(s3Info.endpoint).host);
  t.after(() => toxiproxy.deleteProxy(proxy.name));
  // No retries, so an injected failure surfaces instead of being retried away.
  const proxied = s3Client({ ...s3Info, endpoint: `http://${proxy.listen}` }, { maxAttempts: 1 });
  t.after(() => proxied.destroy());

  // Traffic goes through: the object written directly to MinIO is read back through the proxy.
  const baseline = await fastest(3, () => timedGet(proxied, bucket, 'k', body));

  // Latency well above this machine's own request time, so the ratio is not noise.
  const latencyMs = Math.max(300, Math.ceil(baseline * 10));
  await toxiproxy.addLatency(proxy.name, 'slow', latencyMs);
  const delayed = await fastest(2, () => timedGet(proxied, bucket, 'k', body));
  t.diagnostic(
    `GET through the proxy: ${baseline.toFixed(1)} ms; with a ${latencyMs} ms latency toxic: ${delayed.toFixed(1)} ms`,
  );
  assert.ok(delayed >= latencyMs, `a request with a ${latencyMs} ms latency toxic took only ${delayed} ms`);
  assert.ok(
    delayed / baseline >= 3,
    `latency toxic: ${delayed.toFixed(1)} ms vs ${baseline.toFixed(1)} ms without it`,
  );
  await toxiproxy.removeToxic(proxy.name, 'slow');

  await toxiproxy.addResetPeer(proxy.name, 'reset');
  await assert.rejects(timedGet(proxied, bucket, 'k', body), (error: NodeJS.ErrnoException) => {
    assert.match(`${error.code ?? ''} ${error.name} ${error.message}`, /ECONNRESET|socket hang up/i);
    return true;
  });
  await toxiproxy.removeToxic(proxy.name, 'reset');

  // Healed: the same client reads through the proxy again.
  await timedGet(proxied, bucket, 'k', body);
});
