import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { BackupRepository, CorruptObjectError, findPartition } from '../../../runtime/format/index.ts';
import { type ObjectStore, StorageError } from '../../../runtime/storage/object-store.ts';

export interface StoreUnderTest {
  /** A store over a fresh bucket/container/directory, with `prefix` as its key prefix. */
  open(prefix: string): ObjectStore | Promise<ObjectStore>;
  cleanup(): Promise<void>;
}

const MiB = 1024 * 1024;

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const c of it) chunks.push(c);
  return Buffer.concat(chunks);
}

async function keys(store: ObjectStore, prefix: string, startAfter?: string): Promise<string[]> {
  const out: string[] = [];
  for await (const info of store.list(prefix, startAfter !== undefined ? { startAfter } : {}))
    out.push(info.key);
  return out;
}

const notFound = (e: unknown) => e instanceof StorageError && e.kind === 'not-found';

/** The behaviour every ObjectStore adapter must have, run against its real server. */
export function objectStoreConformance(name: string, setup: () => Promise<StoreUnderTest>): void {
  describe(`ObjectStore conformance: ${name}`, () => {
    let env: StoreUnderTest;
    let store: ObjectStore;
    before(async () => {
      env = await setup();
      store = await env.open('conformance/root');
    });
    after(async () => {
      await env?.cleanup();
    });

    test('put then get returns the same bytes; put replaces; empty objects work', async () => {
      const body = randomBytes(1000);
      await store.put('obj/a.bin', body, { contentType: 'application/octet-stream' });
      assert.deepEqual(Buffer.from(await store.get('obj/a.bin')), body);
      await store.put('obj/a.bin', Buffer.from('second'));
      assert.equal(Buffer.from(await store.get('obj/a.bin')).toString(), 'second');
      await store.put('obj/empty', new Uint8Array(0));
      assert.equal((await store.get('obj/empty')).length, 0);
      assert.equal((await store.head('obj/empty'))?.size, 0);
    });

    test('byte ranges [start, end)', async () => {
      const body = randomBytes(4096);
      await store.put('range/x', body);
      assert.deepEqual(
        Buffer.from(await store.get('range/x', { start: 100, end: 300 })),
        body.subarray(100, 300),
      );
      assert.deepEqual(
        Buffer.from(await store.get('range/x', { start: 4000, end: 4096 })),
        body.subarray(4000),
      );
      assert.equal((await store.get('range/x', { start: 10, end: 10 })).length, 0);
    });

    test('stream yields the whole object', async () => {
      const body = randomBytes(3 * MiB + 17);
      await store.put('stream/x', body);
      assert.ok((await collect(store.stream('stream/x'))).equals(body));
    });

    test('head gives the size, or undefined when missing', async () => {
      await store.put('head/x', randomBytes(123));
      const info = await store.head('head/x');
      assert.equal(info?.key, 'head/x');
      assert.equal(info?.size, 123);
      assert.equal(await store.head('head/missing'), undefined);
    });

    test('missing objects: get and stream throw not-found; delete is a no-op', async () => {
      await assert.rejects(store.get('missing/x'), notFound);
      await assert.rejects(collect(store.stream('missing/x')), notFound);
      await store.delete('missing/x');
    });

    test('list is in lexicographic key order, by prefix, with startAfter, relative to the store prefix', async () => {
      for (const k of ['l/b', 'l/a/10', 'l/a/2', 'l/a-b', 'l/a/1', 'lx']) await store.put(k, Buffer.from(k));
      assert.deepEqual(await keys(store, 'l/'), ['l/a-b', 'l/a/1', 'l/a/10', 'l/a/2', 'l/b']);
      assert.deepEqual(await keys(store, 'l/a/'), ['l/a/1', 'l/a/10', 'l/a/2']);
      assert.deepEqual(await keys(store, 'l/', 'l/a/10'), ['l/a/2', 'l/b']);
      assert.deepEqual(await keys(store, 'nothing/'), []);
      const sizes = [];
      for await (const info of store.list('l/a/1')) sizes.push(info.size);
      assert.deepEqual(sizes, [5, 6]);
    });

    test('a listing spans pages', async () => {
      const many = Array.from({ length: 1100 }, (_, i) => `page/${String(i).padStart(5, '0')}`);
      for (let i = 0; i < many.length; i += 50) {
        await Promise.all(many.slice(i, i + 50).map((k) => store.put(k, new Uint8Array(1))));
      }
      assert.deepEqual(await keys(store, 'page/'), many);
    });

    test('prefixes isolate stores sharing a bucket', async () => {
      const other = await env.open('conformance/other');
      await other.put('iso/x', Buffer.from('other'));
      await store.put('iso/x', Buffer.from('root'));
      assert.equal(Buffer.from(await other.get('iso/x')).toString(), 'other');
      assert.deepEqual(await keys(other, ''), ['iso/x']);
    });

    test('delete removes an object', async () => {
      await store.put('del/x', Buffer.from('x'));
      await store.delete('del/x');
      assert.equal(await store.head('del/x'), undefined);
    });

    test('ifNoneMatch creates once and refuses to overwrite', async () => {
      await store.put('cond/x', Buffer.from('first'), { ifNoneMatch: true });
      await assert.rejects(
        store.put('cond/x', Buffer.from('second'), { ifNoneMatch: true }),
        (e: unknown) => e instanceof StorageError && e.kind === 'precondition-failed',
      );
      assert.equal(Buffer.from(await store.get('cond/x')).toString(), 'first');
      const racers = await Promise.allSettled(
        Array.from({ length: 5 }, (_, i) =>
          store.put('cond/race', Buffer.from(`r${i}`), { ifNoneMatch: true }),
        ),
      );
      assert.equal(racers.filter((r) => r.status === 'fulfilled').length, 1);
    });

    test('ifNoneMatch also holds for streamed (multipart) uploads', async () => {
      async function* body(n: number) {
        for (let i = 0; i < n; i++) yield randomBytes(MiB);
      }
      await store.put('cond/streamed', body(9), { ifNoneMatch: true });
      const size = (await store.head('cond/streamed'))?.size;
      await assert.rejects(
        store.put('cond/streamed', body(9), { ifNoneMatch: true }),
        (e: unknown) => e instanceof StorageError && e.kind === 'precondition-failed',
      );
      await assert.rejects(
        store.put('cond/streamed', body(1), { ifNoneMatch: true }),
        (e: unknown) => e instanceof StorageError && e.kind === 'precondition-failed',
      );
      assert.equal((await store.head('cond/streamed'))?.size, size);
    });

    test('a large streamed upload (multipart) arrives intact', async () => {
      const hash = createHash('sha256');
      let size = 0;
      async function* chunks() {
        for (let i = 0; i < 21; i++) {
          const c = randomBytes(MiB + (i % 3) * 1000);
          hash.update(c);
          size += c.length;
          yield c;
        }
      }
      await store.put('large/streamed', chunks());
      assert.equal((await store.head('large/streamed'))?.size, size);
      const back = createHash('sha256');
      for await (const c of store.stream('large/streamed')) back.update(c);
      assert.equal(back.digest('hex'), hash.digest('hex'));
    });

    test('a large buffer upload arrives intact', async () => {
      const body = randomBytes(13 * MiB);
      await store.put('large/buffer', body);
      assert.ok(Buffer.from(await store.get('large/buffer')).equals(body));
    });

    test('a v1 backup written and read through this store; a damaged segment is named', async () => {
      const repo = new BackupRepository(await env.open('conformance/backups'));
      const backup = await repo.create({ backupId: 'b1', compression: 'zstd' });
      const writer = backup.newSegmentWriter({ topic: 'orders', partition: 0 }, { maxRecords: 50 });
      const segments = [];
      for (let o = 0; o < 120; o++) {
        const full = writer.append({
          offset: BigInt(o * 2),
          timestamp: BigInt(1_700_000_000_000 + o),
          timestampType: 'CreateTime',
          key: o % 3 === 0 ? null : Buffer.from(`k${o}`),
          value: Buffer.alloc(100, o),
          headers: [['h', null]],
        });
        if (full) segments.push(await backup.writeSegment((await writer.seal())!, 'run-1'));
      }
      segments.push(await backup.writeSegment((await writer.seal())!, 'run-1'));
      await backup.commit({
        runId: 'run-1',
        mode: 'one-shot',
        final: true,
        topics: [{ name: 'orders', partitionCount: 1, configs: {} }],
        partitions: [
          { topic: 'orders', partition: 0, segments, covered: { start: 0n, end: 240n }, gaps: [] },
        ],
      });
      const opened = await repo.open('b1');
      const state = findPartition(await opened.manifest(), 'orders', 0)!;
      let count = 0;
      for (const s of state.segments) count += (await opened.readSegment(s)).records.length;
      assert.equal(count, 120);
      assert.deepEqual(
        (await repo.list()).map((b) => b.backupId),
        ['b1'],
      );

      const victim = state.segments[1]!;
      const bytes = Buffer.from(await repo.store.get(victim.key));
      await repo.store.put(victim.key, bytes.subarray(0, bytes.length - 1));
      await assert.rejects(
        opened.readSegment(victim),
        (e: unknown) => e instanceof CorruptObjectError && e.key === victim.key,
      );
    });
  });
}
