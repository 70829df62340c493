import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { ClientNodeKube } from '../../../runtime/operator/kube/client-node-kube.ts';
import { KAFKA_KINDS } from '../../../runtime/operator/resource.ts';

/** A plain-HTTP stand-in for the API server that answers every list with an empty one. */
async function emptyListServer(t: { after(fn: () => unknown): void }) {
  const seen: number[] = [];
  const server = createServer((_req, res) => {
    seen.push(Date.now());
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        apiVersion: 'kafka.oso.sh/v1alpha1',
        kind: 'KafkaBackupList',
        metadata: { resourceVersion: '1' },
        items: [],
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [
      {
        name: 'c',
        server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        skipTLSVerify: true,
      },
    ],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return { config, seen };
}

test('requests are rate-limited client-side (QPS and burst), so reconnecting informers cannot flood the API server', async (t) => {
  const { config, seen } = await emptyListServer(t);
  const kube = new ClientNodeKube(config, { rateLimit: { qps: 20, burst: 5 } });
  const started = Date.now();
  const lists = await Promise.all(Array.from({ length: 25 }, () => kube.list(KAFKA_KINDS.KafkaBackup, 'ns')));
  const took = Date.now() - started;
  assert.equal(lists.length, 25);
  assert.equal(seen.length, 25);
  // 5 at once, then 20 more at 20 per second.
  assert.ok(took >= 900, `25 requests took ${took} ms`);
  const firstSecond = seen.filter((at) => at - started < 500).length;
  assert.ok(firstSecond <= 5 + 11, `${firstSecond} requests in the first half second`);
});
