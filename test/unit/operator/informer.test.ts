import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { KubeApiError } from '../../../runtime/operator/errors.ts';
import { Informer, type InformerEvent } from '../../../runtime/operator/informer.ts';
import type { ListResult, ResourceClient, WatchRequest } from '../../../runtime/operator/kube/port.ts';
import { KAFKA_KINDS, type KubeObject } from '../../../runtime/operator/resource.ts';
import { eventually } from './wait.ts';

const kind = KAFKA_KINDS.KafkaBackup;
const obj = (name: string, rv: string): KubeObject => ({
  metadata: { name, namespace: 'ns', resourceVersion: rv },
});

/**
 * A ResourceClient whose lists and watches the test scripts: each watch() call runs the next
 * scripted behaviour (after the script ends, watches stay open until aborted).
 */
class ScriptedClient implements Pick<ResourceClient, 'list' | 'watch'> {
  lists: ListResult[] = [];
  listCalls = 0;
  watchCalls: Array<{ at: number; resourceVersion: string; timeoutSeconds: number }> = [];
  watches: Array<(request: WatchRequest) => Promise<void>> = [];

  async list(): Promise<ListResult> {
    const result = this.lists[Math.min(this.listCalls, this.lists.length - 1)];
    this.listCalls++;
    if (!result) throw new Error('no list scripted');
    return result;
  }

  watch(_kind: unknown, request: WatchRequest): Promise<void> {
    this.watchCalls.push({
      at: Date.now(),
      resourceVersion: request.resourceVersion,
      timeoutSeconds: request.timeoutSeconds,
    });
    const next = this.watches.shift();
    if (next) return next(request);
    return new Promise((resolve) =>
      request.signal.addEventListener('abort', () => resolve(), { once: true }),
    );
  }
}

function informer(client: ScriptedClient, options: Partial<ConstructorParameters<typeof Informer>[0]> = {}) {
  const events: InformerEvent[] = [];
  const i = new Informer({
    kind,
    namespace: 'ns',
    client,
    reconnectBackoff: { initialMs: 20, maxMs: 200, jitter: 0.5 },
    ...options,
  });
  i.on((e) => events.push(e));
  return { informer: i, events };
}

describe('Informer', () => {
  test('lists, syncs, then applies watch events and reopens from the last resourceVersion', async () => {
    const client = new ScriptedClient();
    client.lists = [{ items: [obj('a', '10')], resourceVersion: '10' }];
    client.watches.push(async (r) => {
      r.onEvent({ type: 'ADDED', object: obj('b', '11') });
      r.onEvent({ type: 'MODIFIED', object: obj('a', '12') });
      r.onEvent({ type: 'DELETED', object: obj('b', '13') });
      r.onEvent({ type: 'BOOKMARK', resourceVersion: '15' });
    });
    const { informer: i, events } = informer(client, { minWatchMs: 0 });
    i.start();
    assert.equal(await i.waitForSync(), true);
    await eventually('the watch was reopened', () => client.watchCalls.length === 2);
    await i.stop();
    assert.deepEqual(
      events.map((e) => `${e.type} ${e.object.metadata.name}`),
      ['added a', 'added b', 'updated a', 'deleted b'],
    );
    assert.deepEqual(
      client.watchCalls.map((c) => c.resourceVersion),
      ['10', '15'],
      'first from the list, then from the bookmark',
    );
    assert.equal(client.listCalls, 1, 'a closed watch is reopened, not relisted');
    assert.deepEqual(
      i.cache.list().map((o) => o.metadata.resourceVersion),
      ['12'],
    );
  });

  test('bounds every watch: timeoutSeconds is the configured one stretched by at most 20%', async () => {
    const client = new ScriptedClient();
    client.lists = [{ items: [], resourceVersion: '1' }];
    for (let n = 0; n < 5; n++) client.watches.push(async () => {});
    const { informer: i } = informer(client, { watchTimeoutSeconds: 300, minWatchMs: 0 });
    i.start();
    await eventually('six watches', () => client.watchCalls.length >= 6);
    await i.stop();
    for (const call of client.watchCalls) assert.ok(call.timeoutSeconds >= 300 && call.timeoutSeconds <= 360);
  });

  test('410 Gone relists: objects deleted meanwhile are removed, changed ones updated', async () => {
    const client = new ScriptedClient();
    client.lists = [
      { items: [obj('a', '10'), obj('b', '10')], resourceVersion: '10' },
      { items: [obj('a', '20'), obj('c', '21')], resourceVersion: '21' },
    ];
    client.watches.push(async (r) => {
      r.onEvent({ type: 'ERROR', code: 410, reason: 'Expired', message: 'too old resource version' });
    });
    const { informer: i, events } = informer(client);
    i.start();
    await eventually('relisted', () => client.listCalls === 2 && client.watchCalls.length === 2);
    await i.stop();
    assert.deepEqual(
      events.map((e) => `${e.type} ${e.object.metadata.name}`),
      ['added a', 'added b', 'updated a', 'added c', 'deleted b'],
    );
    assert.equal(client.watchCalls[1]?.resourceVersion, '21');
  });

  test('an HTTP 410 on opening the watch also relists', async () => {
    const client = new ScriptedClient();
    client.lists = [
      { items: [], resourceVersion: '5' },
      { items: [], resourceVersion: '9' },
    ];
    client.watches.push(async () => {
      throw new KubeApiError(410, 'Gone');
    });
    const { informer: i } = informer(client);
    i.start();
    await eventually('relisted', () => client.listCalls === 2 && client.watchCalls.length === 2);
    await i.stop();
    assert.equal(client.watchCalls[1]?.resourceVersion, '9');
  });

  test('failing watches are retried with growing, jittered backoff, never in a tight loop', async () => {
    const client = new ScriptedClient();
    client.lists = [{ items: [], resourceVersion: '1' }];
    for (let n = 0; n < 5; n++) {
      client.watches.push(async () => {
        throw new KubeApiError(0, 'connect ECONNREFUSED');
      });
    }
    const { informer: i } = informer(client);
    i.start();
    await eventually('six watch attempts', () => client.watchCalls.length === 6, 10_000);
    await i.stop();
    const gaps = client.watchCalls.slice(1).map((c, n) => c.at - (client.watchCalls[n]?.at ?? 0));
    // Backoff ceilings 20, 40, 80, 160, 200 ms with 50% jitter: each gap at least half its ceiling.
    [20, 40, 80, 160, 200].forEach((ceiling, n) => {
      assert.ok(
        (gaps[n] as number) >= ceiling / 2 - 2,
        `retry ${n + 1} after ${gaps[n]} ms, expected >= ${ceiling / 2}`,
      );
    });
    assert.equal(client.listCalls, 1, 'a failed watch is reopened from its resourceVersion, not relisted');
  });

  test('a watch that ends at once without events counts as a failure (backoff)', async () => {
    const client = new ScriptedClient();
    client.lists = [{ items: [], resourceVersion: '1' }];
    for (let n = 0; n < 3; n++) client.watches.push(async () => {});
    const { informer: i } = informer(client, { minWatchMs: 1000 });
    i.start();
    await eventually('four watch attempts', () => client.watchCalls.length === 4);
    await i.stop();
    const first = client.watchCalls[0]?.at ?? 0;
    const last = client.watchCalls[3]?.at ?? 0;
    assert.ok(last - first >= 10 + 20 + 40 - 5, `three short watches took ${last - first} ms`);
  });

  test('the watchdog reopens a watch that delivers nothing, not even bookmarks', async () => {
    const client = new ScriptedClient();
    client.lists = [{ items: [], resourceVersion: '1' }];
    let aborted = 0;
    client.watches.push(
      (r) =>
        new Promise<void>((resolve) => {
          // A stalled stream: open, silent, never closed by the server.
          r.signal.addEventListener('abort', () => {
            aborted++;
            resolve();
          });
        }),
    );
    const { informer: i } = informer(client, { idleTimeoutMs: 60 });
    i.start();
    await eventually('the stalled watch was replaced', () => client.watchCalls.length >= 2);
    await i.stop();
    assert.ok(aborted >= 1, 'the stalled watch was aborted');
  });

  test('resync hands every cached object to the handlers again', async () => {
    const client = new ScriptedClient();
    client.lists = [{ items: [obj('a', '1'), obj('b', '1')], resourceVersion: '1' }];
    const { informer: i, events } = informer(client, { resyncMs: 30 });
    i.start();
    await eventually('two resyncs', () => events.filter((e) => e.type === 'resync').length >= 4);
    await i.stop();
    const resynced = new Set(events.filter((e) => e.type === 'resync').map((e) => e.object.metadata.name));
    assert.deepEqual([...resynced].sort(), ['a', 'b']);
  });

  test('is healthy while its loop shows signs of life, unhealthy when stopped or stuck', async () => {
    const client = new ScriptedClient();
    client.lists = [{ items: [], resourceVersion: '1' }];
    const { informer: i } = informer(client, { livenessBoundMs: 1000 });
    assert.equal(i.isHealthy(), false, 'not started');
    i.start();
    await i.waitForSync();
    assert.equal(i.isHealthy(), true);
    assert.equal(i.isHealthy(Date.now() + 5000), false, 'no sign of life for longer than the bound');
    await i.stop();
    assert.equal(i.isHealthy(), false);
  });

  test('a list that keeps failing leaves the informer unsynced and retrying', async () => {
    const client = new ScriptedClient();
    const { informer: i } = informer(client);
    i.start();
    await eventually('retried the list', () => client.listCalls >= 3);
    assert.equal(i.hasSynced(), false);
    await i.stop();
  });
});
