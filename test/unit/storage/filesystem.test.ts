import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FilesystemObjectStore } from '../../../runtime/storage/filesystem.ts';
import { StorageError } from '../../../runtime/storage/object-store.ts';

describe('FilesystemObjectStore', () => {
  let dir: string;
  let store: FilesystemObjectStore;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kb-fs-'));
    store = new FilesystemObjectStore(dir);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('keys cannot escape the root', async () => {
    for (const key of ['../x', 'a/../../x', '/etc/passwd', 'a//b', 'a\\b', '']) {
      await assert.rejects(
        store.put(key, new Uint8Array(1)),
        (e: unknown) => e instanceof StorageError && e.kind === 'fatal',
      );
    }
  });

  test('a write leaves no temporary file, and a crashed write (a stray temp file) is never listed', async () => {
    await store.put('t/a', Buffer.from('a'));
    assert.deepEqual(await readdir(path.join(dir, 't')), ['a']);
    await writeFile(path.join(dir, 't', 'b.tmp-kb-123456'), 'partial');
    const keys = [];
    for await (const o of store.list('t/')) keys.push(o.key);
    assert.deepEqual(keys, ['t/a']);
  });

  test('a failed streamed write leaves neither the object nor a temp file', async () => {
    async function* broken() {
      yield Buffer.from('start');
      throw new Error('source failed');
    }
    await assert.rejects(store.put('s/x', broken()));
    assert.equal(await store.head('s/x'), undefined);
    assert.deepEqual(await readdir(path.join(dir, 's')), []);
  });
});
