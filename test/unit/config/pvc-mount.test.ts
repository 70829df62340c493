/**
 * `storageType: pvc` writes into the claim's mount, never beside it: an unmounted claim is refused
 * before anything is written (the filesystem store would otherwise create the directories in the
 * container's own disk, and the backup would vanish with the container).
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { openObjectStore } from '../../../runtime/config/object-store-factory.ts';
import { ConfigError, Reader } from '../../../runtime/config/reader.ts';
import { readStorage, type StorageSpec } from '../../../runtime/config/storage.ts';
import { silentLogger } from '../../../runtime/log.ts';

let root: string;
const previousRoot = process.env.KAFKA_BACKUP_PVC_ROOT;
before(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'pvc-root-'));
  process.env.KAFKA_BACKUP_PVC_ROOT = root;
});
after(async () => {
  if (previousRoot === undefined) delete process.env.KAFKA_BACKUP_PVC_ROOT;
  else process.env.KAFKA_BACKUP_PVC_ROOT = previousRoot;
  await rm(root, { recursive: true, force: true });
});

function pvcSpec(pvc: Record<string, unknown>): StorageSpec {
  const r = new Reader({ storageType: 'pvc', pvc });
  const spec = readStorage(r);
  assert.deepEqual(r.problems, []);
  assert.ok(spec);
  return spec;
}

const open = (spec: StorageSpec) =>
  openObjectStore(spec, { secrets: { read: async () => new Uint8Array() }, log: silentLogger });

test('an unmounted claim is refused with where to mount it, and nothing is created', async () => {
  await assert.rejects(open(pvcSpec({ claimName: 'backups', subPath: 'kafka/prod' })), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.match(error.message, /claim 'backups'/);
    assert.match(error.message, new RegExp(`not mounted at ${path.join(root, 'backups')}`));
    assert.match(error.message, /Nothing was written/);
    assert.doesNotMatch(error.message, /pvc\.create/);
    return true;
  });
  assert.deepEqual(await readdir(root), []);
});

test('pvc.create asked for: the refusal says this version cannot provision the claim', async () => {
  await assert.rejects(
    open(pvcSpec({ claimName: 'wanted', create: { enabled: true, size: '10Gi' } })),
    (error: unknown) =>
      error instanceof ConfigError && /pvc\.create needs each run in a Pod/.test(error.message),
  );
});

test('a mounted claim opens, and its subPath is created inside the mount', async () => {
  await mkdir(path.join(root, 'mounted'));
  const store = await open(pvcSpec({ claimName: 'mounted', subPath: 'kafka/prod' }));
  await store.put('probe.json', new TextEncoder().encode('{}'));
  assert.deepEqual(await readdir(path.join(root, 'mounted', 'kafka', 'prod')), ['probe.json']);
});

test("a subPath outside the claim (absolute, or with '..') is refused as the CRD's rule does", () => {
  for (const subPath of ['../etc', 'kafka/../../etc', '/etc']) {
    const r = new Reader({ storageType: 'pvc', pvc: { claimName: 'c', subPath } });
    readStorage(r);
    assert.deepEqual(
      r.problems,
      ["pvc.subPath: must be a relative path without '..', e.g. 'kafka/prod'"],
      subPath,
    );
  }
});
